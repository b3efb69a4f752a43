import ArgumentParser
import Foundation
import ReadSyncClient

/// Printing for people and scripts. No logic lives here.
enum Terminal {
    static func shortID(_ id: String) -> String { String(id.prefix(8)) }

    static func percent(_ fraction: Double) -> String { "\(Int((fraction * 100).rounded()))%" }

    /// One line of `list`: id, state, title, site and tags.
    static func line(for article: ArticleSummary) -> String {
        let state: String
        switch article.status {
        case "reading": state = "reading \(percent(article.progress))".padding(toLength: 12, withPad: " ", startingAt: 0)
        default: state = article.status.padding(toLength: 12, withPad: " ", startingAt: 0)
        }
        let marks = (article.favorite ? "★" : " ") + (article.archived ? "A" : " ")
        var line = "\(shortID(article.id))  \(state)\(marks)  \(article.title)"
        if let site = article.site { line += "  (\(site))" }
        if !article.tags.isEmpty { line += "  " + article.tags.map { "#\($0)" }.joined(separator: " ") }
        return line
    }

    static func printDetail(_ article: ArticleDetail) {
        print(article.title)
        if let url = article.url { print(url) }
        var facts = ["id \(article.id)", "\(article.wordCount) words, \(article.readingMinutes) min", article.status]
        if article.status == "reading" { facts[2] += " \(percent(article.progress))" }
        if article.favorite { facts.append("favorite") }
        if article.archived { facts.append("archived") }
        if article.deleted { facts.append("in the trash") }
        print(facts.joined(separator: " · "))
        var origin: [String] = []
        if let author = article.author { origin.append("by \(author)") }
        if let site = article.site { origin.append(site) }
        if let published = article.published { origin.append(published) }
        origin.append("added \(article.addedAt)")
        print(origin.joined(separator: " · "))
        if !article.tags.isEmpty { print("tags: " + article.tags.joined(separator: ", ")) }
        print("")
        print(article.content)
        if !article.notes.isEmpty {
            print("")
            print("Notes")
            for note in article.notes {
                if let quote = note.quote { print("  > \(quote)") }
                print("  \(shortID(note.id))  \(note.body)  (\(note.createdAt))")
            }
        }
    }

    static func printJSON(_ value: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }

    /// One line on standard error, as ArgumentParser prints its own errors.
    static func error(_ error: any Error) {
        FileHandle.standardError.write(Data("Error: \(CommandHint.message(for: error))\n".utf8))
    }
}

/// A command that could not do what it was asked, for a reason no library
/// error names (a file it cannot write): one line, exit status 1. (64 is for a
/// mistyped command line: ArgumentParser's `ValidationError`.)
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
