/// What `list` shows of an article (and `--json` prints).
public struct ArticleSummary: Codable, Sendable, Equatable, NullPreservingEncodable {
    public let id: String
    public let url: String?
    public let title: String
    public let site: String?
    public let status: ReadStatusName
    public let archived: Bool
    public let favorite: Bool
    /// 0…1.
    public let progress: Double
    /// Sorted.
    public let tags: [String]
    public let addedAt: String
    public let wordCount: Int
    public let readingMinutes: Int
}

/// The status names printed for scripts.
public typealias ReadStatusName = String

/// What `show` prints: the summary plus the body, metadata and notes.
public struct ArticleDetail: Codable, Sendable, Equatable, NullPreservingEncodable {
    public let id: String
    public let url: String?
    public let title: String
    public let author: String?
    public let site: String?
    public let published: String?
    public let status: ReadStatusName
    public let archived: Bool
    public let favorite: Bool
    public let progress: Double
    public let readAt: String?
    public let tags: [String]
    public let addedAt: String
    public let wordCount: Int
    public let readingMinutes: Int
    public let deleted: Bool
    public let content: String
    public let notes: [NoteView]
}

/// A note as `show` prints it.
public struct NoteView: Codable, Sendable, Equatable, NullPreservingEncodable {
    public let id: String
    public let body: String
    public let quote: String?
    public let createdAt: String
}

/// One `search` result, best first.
public struct SearchHit: Codable, Sendable, Equatable, NullPreservingEncodable {
    public let id: String
    public let title: String
    public let url: String?
    /// Matching text with the matched words in [brackets].
    public let snippet: String
    /// bm25 score: lower is a better match.
    public let rank: Double
}

/// What `status` prints.
public struct LibraryStatus: Codable, Sendable, Equatable, NullPreservingEncodable {
    public let home: String
    public let node: String
    public let articles: Int
    public let unread: Int
    public let deleted: Int
    public let notes: Int
    /// Fields written here and not yet acknowledged by a server.
    public let pendingChanges: Int
    /// The configured sync server, or nil for a purely local library.
    public let server: String?
    /// When the last sync completed (ISO 8601), or nil.
    public let lastSync: String?
    /// Concurrent edits whose losing value was kept (`conflicts` lists them).
    public let conflicts: Int
}

/// A concurrent edit: the value that lost, kept so nothing vanishes silently.
public struct ConflictView: Codable, Sendable, Equatable, NullPreservingEncodable {
    /// The article concerned (for notes and tags, the article they belong to).
    public let articleID: String?
    public let articleTitle: String?
    /// `article`, `read_state`, `note` or `tag`.
    public let kind: String
    public let entity: String
    public let field: String
    public let keptValue: String
    public let keptDevice: String
    public let keptAt: String
    public let lostValue: String
    public let lostDevice: String
    public let lostAt: String
}

/// Filters for `list`; all given filters must hold.
public struct ListFilter: Sendable, Equatable {
    public var unread = false
    public var read = false
    public var archived = false
    public var favorite = false
    public var tag: String?

    public init(unread: Bool = false, read: Bool = false, archived: Bool = false, favorite: Bool = false, tag: String? = nil) {
        self.unread = unread
        self.read = read
        self.archived = archived
        self.favorite = favorite
        self.tag = tag
    }
}

/// What `add` did with one article.
public enum AddOutcome: String, Sendable, Equatable {
    /// A new article.
    case added
    /// It was in the trash; adding it again brought it back.
    case restored
    /// Already there; changed fields were updated.
    case updated
    /// Already there, identical: nothing written.
    case unchanged
}

/// Encodes every stored property, writing `null` for a nil optional instead of
/// leaving the key out (what synthesised `Encodable` does), so scripts reading
/// `--json` always find every key.
public protocol NullPreservingEncodable: Encodable {}

extension NullPreservingEncodable {
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: PropertyKey.self)
        for child in Mirror(reflecting: self).children {
            guard let label = child.label, let value = child.value as? any Encodable else { continue }
            try container.encode(value, forKey: PropertyKey(stringValue: label))
        }
    }
}

private struct PropertyKey: CodingKey {
    let stringValue: String
    init(stringValue: String) { self.stringValue = stringValue }
    var intValue: Int? { nil }
    init?(intValue: Int) { nil }
}
