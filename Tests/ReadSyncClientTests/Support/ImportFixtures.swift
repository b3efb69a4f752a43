import Foundation

@testable import ReadSyncClient

/// The import fixtures, and a Pocket CSV of any size.
enum ImportFixtures {
    static let directory = Paths.fixtures.appendingPathComponent("import")
    static let all = [
        "pocket-2025.csv", "pocket-old.csv", "pocket-export.zip", "omnivore-export.zip", "ril_export.html", "instapaper.csv", "instapaper-old.csv",
        "bookmarks.html", "wallabag.json", "omnivore.json", "readwise.csv",
    ]

    static func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// A 2025-style Pocket CSV of `rows` distinct articles with dates, tags
    /// and both statuses; every 1,000th title has quotes, commas and a line break.
    static func pocketCSV(rows: Int) -> String {
        var lines = ["title,url,time_added,cursor,tags,status"]
        lines.reserveCapacity(rows + 1)
        for index in 0..<rows {
            let title = index % 1000 == 0 ? "\"Story \(index), \"\"quoted\"\"\nsecond line\"" : "Story number \(index) about things"
            let tags = index % 3 == 0 ? "news|tech" : index % 3 == 1 ? "long read" : ""
            lines.append(
                "\(title),https://site\(index % 50).example.com/articles/\(index),\(1_600_000_000 + index),c\(index),\(tags),\(index % 4 == 0 ? "archive" : "unread")"
            )
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }
}

extension ReadingList {
    /// Imports a file as the command does; returns the summary.
    @discardableResult
    func importFile(_ path: String, format: ImportFormat? = nil) throws -> ImportSummary {
        var total = ImportSummary()
        // As the command does: a zip member that is not an export is left out.
        for source in try ImportSource.read(path) where !(source.isArchiveMember && ImportFormat.detect(source.data) == nil) {
            total.add(try importSource(source, format: format).summary)
        }
        return total
    }

    /// Every live article as `show` gives it, by id.
    func everyArticle() throws -> [String: ArticleDetail] {
        Dictionary(uniqueKeysWithValues: try list().map { ($0.id, try show($0.id)) })
    }

    /// The live article saved from `url`.
    func article(url: String) throws -> ArticleDetail? {
        try list().first { $0.url == url }.map { try show($0.id) }
    }
}
