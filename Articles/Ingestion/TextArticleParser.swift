import Foundation
import ReadSyncCore

/// Turns a plain-text or Markdown article, with optional `---` front matter
/// (`url:`, `source:`, `title:`, `author:`, `date:`), into a draft.
public enum TextArticleParser {
    /// Parses `text`. `fallbackURL` is the page it came from, if fetched.
    public static func parse(_ text: String, fallbackURL: CanonicalURL? = nil) -> ArticleDraft {
        let normalized = text.normalizingLineEndings()
        let (frontMatter, body) = splitFrontMatter(normalized)
        let url = frontMatter["url"].flatMap(CanonicalURL.init) ?? fallbackURL
        let content = body.trimmingScalars(in: .whitespacesAndNewlines)
        let title = nonEmpty(frontMatter["title"]) ?? TitleGuess.title(content: content, url: url)
        return ArticleDraft(
            url: url, title: title, author: nonEmpty(frontMatter["author"]),
            site: nonEmpty(frontMatter["source"]) ?? nonEmpty(frontMatter["site"]) ?? url?.host,
            published: nonEmpty(frontMatter["date"]) ?? nonEmpty(frontMatter["published"]),
            content: content)
    }

    /// Front matter is a first line `---`, `key: value` lines, and a closing `---`.
    static func splitFrontMatter(_ text: String) -> (fields: [String: String], body: Substring) {
        var lines = text[...].split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false)
        guard lines.first?.trimmingScalars(in: .whitespaces) == "---", lines.count == 2 else { return ([:], text[...]) }
        var fields: [String: String] = [:]
        var rest = lines[1]
        while !rest.isEmpty {
            lines = rest.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false)
            let line = lines[0]
            rest = lines.count == 2 ? lines[1] : ""
            if line.trimmingScalars(in: .whitespaces) == "---" { return (fields, rest) }
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = line[..<colon].trimmingScalars(in: .whitespaces).lowercased()
            var value = line[line.index(after: colon)...].trimmingScalars(in: .whitespaces)
            if value.count >= 2, let first = value.first, first == value.last, first == "\"" || first == "'" {
                value = String(value.dropFirst().dropLast())
            }
            fields[key] = value
        }
        // No closing line: it was not front matter after all.
        return ([:], text[...])
    }

    private static func nonEmpty(_ text: String?) -> String? {
        guard let text = text?.trimmingScalars(in: .whitespacesAndNewlines), !text.isEmpty else { return nil }
        return text
    }
}

/// A sensible title when an article does not give one: a Markdown heading,
/// else the URL's slug, else the first meaningful line, else the host;
/// never empty, and shortened like any other guess (a URL's slug or host
/// can be as long as the URL).
enum TitleGuess {
    static func title(content: String, url: CanonicalURL?) -> String {
        // Lazily: a heading is near the top, and a body has thousands of lines.
        let lines = TextStatistics.lines(content).lazy.map { $0.trimmingScalars(in: .whitespaces) }.filter { !$0.isEmpty }
        if let heading = lines.first(where: { $0.hasPrefix("# ") }) {
            return clean(String(heading.dropFirst(2)))
        }
        if let slug = url?.slug {
            let words = slug.split(whereSeparator: { $0 == "-" || $0 == "_" || $0 == "+" })
            if words.count >= 2 {
                let phrase = words.joined(separator: " ")
                return clean(phrase.prefix(1).uppercased() + phrase.dropFirst())
            }
        }
        // The first line of two words or more with a letter, else the first line.
        var chosen: String?
        for line in lines {
            if line.split(separator: " ").count >= 2 && line.contains(where: \.isLetter) {
                chosen = line
                break
            }
            chosen = chosen ?? line
        }
        if let chosen { return clean(chosen.trimmingScalars(in: CharacterSet(charactersIn: "#>*-= "))) }
        return clean(url?.host ?? "")
    }

    private static func clean(_ text: String) -> String {
        let title = TextStatistics.shorten(text.trimmingScalars(in: .whitespaces), to: 200)
        return title.isEmpty ? "Untitled" : title
    }
}
