import Foundation
import ReadSyncArticles
import ReadSyncCore

/// The formats `export` writes.
public enum ExportFormat: String, CaseIterable, Sendable {
    /// Every field, note and tag; `import` reads it back losslessly.
    case json
    /// Netscape bookmark HTML, which every browser and bookmark service imports.
    case netscape
    /// One section per article with its notes, for note-taking apps.
    case markdown
    /// One row per article (Pocket's columns first, so `import` reads it too).
    case csv
    /// An EPUB 3 book for e-readers: a chapter per article with its notes.
    case epub

    /// Text a terminal can show; the rest is a file to open elsewhere.
    public var isText: Bool { self != .epub }
}

/// Renders a library's articles in an export format. Pure: the articles in,
/// the file's bytes out.
public enum LibraryExporter {
    /// `title` names the collection where a format has a place for it (the EPUB's title).
    public static func render(_ articles: [ArticleDetail], as format: ExportFormat, exportedAt: Date, title: String = "readsync") throws -> Data {
        let stamp = ISOTime.string(milliseconds: Int64(exportedAt.timeIntervalSince1970 * 1000))
        switch format {
        case .json: return Data(try json(articles, exportedAt: stamp).utf8)
        case .netscape: return Data(netscape(articles).utf8)
        case .markdown: return Data(markdown(articles, exportedAt: stamp).utf8)
        case .csv: return Data(csv(articles).utf8)
        case .epub: return try EPUBBook(articles, title: title, modified: exportedAt).data()
        }
    }

    static func json(_ articles: [ArticleDetail], exportedAt: String) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(LibraryExport(exportedAt: exportedAt, articles: articles)), as: UTF8.self) + "\n"
    }

    /// Unix seconds of an ISO time, for the formats that count in seconds.
    private static func unixSeconds(_ iso: String) -> String {
        ISOTime.milliseconds(parsing: iso).map { String($0 / 1000) } ?? ""
    }

    static func netscape(_ articles: [ArticleDetail]) -> String {
        var lines = [
            "<!DOCTYPE NETSCAPE-Bookmark-file-1>",
            "<!-- This is an automatically generated file. It will be read and overwritten. DO NOT EDIT! -->",
            "<META HTTP-EQUIV=\"Content-Type\" CONTENT=\"text/html; charset=UTF-8\">",
            "<TITLE>Bookmarks</TITLE>",
            "<H1>Bookmarks</H1>",
            "<DL><p>",
        ]
        for article in articles {
            guard let url = article.url else { continue }  // a bookmark needs an address
            var attributes = "HREF=\"\(HTMLText.escape(url))\" ADD_DATE=\"\(unixSeconds(article.addedAt))\""
            if !article.tags.isEmpty { attributes += " TAGS=\"\(HTMLText.escape(article.tags.joined(separator: ",")))\"" }
            if article.status != "read" && !article.archived { attributes += " TOREAD=\"1\"" }
            lines.append("    <DT><A \(attributes)>\(HTMLText.escape(article.title))</A>")
        }
        lines.append("</DL><p>")
        return lines.joined(separator: "\n") + "\n"
    }

    static func markdown(_ articles: [ArticleDetail], exportedAt: String) -> String {
        var out = "# Reading list\n\nExported from readsync on \(exportedAt): \(articles.count) articles.\n"
        for article in articles {
            let title = article.title.replacingOccurrences(of: "\n", with: " ")
            out += "\n## " + (article.url.map { "[\(title.replacingOccurrences(of: "]", with: "\\]"))](\($0))" } ?? title) + "\n\n"
            var facts = ["added \(article.addedAt)", article.status]
            if article.status == "reading" { facts[1] += " \(Int((article.progress * 100).rounded()))%" }
            if article.favorite { facts.append("favorite") }
            if article.archived { facts.append("archived") }
            if let author = article.author { facts.append("by \(author)") }
            if let site = article.site { facts.append(site) }
            out += "- " + facts.joined(separator: " · ") + "\n"
            if !article.tags.isEmpty {
                out += "- tags: " + article.tags.map { "#\($0.replacingOccurrences(of: " ", with: "-"))" }.joined(separator: " ") + "\n"
            }
            if !article.notes.isEmpty {
                out += "\n### Notes\n"
                for note in article.notes {
                    out += "\n"
                    if let quote = note.quote {
                        out += quote.split(separator: "\n", omittingEmptySubsequences: false).map { "> " + $0 }.joined(separator: "\n") + "\n\n"
                    }
                    out += note.body + "\n\n*\(note.createdAt)*\n"
                }
            }
        }
        return out
    }

    /// Pocket's columns first (`title,url,time_added,tags,status`), so the
    /// file imports as a Pocket CSV; then what Pocket lacks.
    static let csvHeader = [
        "title", "url", "time_added", "tags", "status", "favorite", "progress", "read_status", "author", "site", "published", "notes", "id",
    ]

    static func csv(_ articles: [ArticleDetail]) -> String {
        var lines = [CSVReader.line(csvHeader)]
        for article in articles {
            lines.append(
                CSVReader.line([
                    article.title, article.url ?? "", unixSeconds(article.addedAt), article.tags.joined(separator: "|"),
                    article.archived ? "archive" : "unread", article.favorite ? "1" : "0", String(article.progress), article.status,
                    article.author ?? "", article.site ?? "", article.published ?? "", String(article.notes.count), article.id,
                ]))
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }
}
