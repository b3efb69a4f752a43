import Foundation
import ReadSyncCore

/// readsync's own JSON export: every field of every live article, with its
/// notes and tags, as `show --json` prints them. Imported into a fresh home
/// it gives an identical library.
public struct LibraryExport: Codable, Sendable {
    /// Always `readsync`: how import recognises the file.
    public var format = "readsync"
    public var version = 1
    public var exportedAt: String
    public var articles: [ArticleDetail]

    public init(exportedAt: String, articles: [ArticleDetail]) {
        self.exportedAt = exportedAt
        self.articles = articles
    }
}
