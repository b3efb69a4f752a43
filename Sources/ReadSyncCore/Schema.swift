import Foundation

/// The kind of a replicated entity. Everything a user can change is a set of
/// field registers addressed by (kind, entity id, field).
///
/// Open, not an enum: a kind a newer version introduces reaches this one as
/// a well-formed name it does not know (`isKnown` false). Such entities are
/// validated loosely, stored and passed on like a field this version does not
/// know, never dropped; a version that knows the kind materialises them.
public struct EntityKind: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: String

    /// A kind name: 1–64 of `[a-z0-9_]`, starting with a letter, as field names.
    public init?(rawValue: String) {
        guard ChangeValidation.isFieldName(rawValue) else { return nil }
        self.rawValue = rawValue
    }

    private init(known name: String) { rawValue = name }

    /// An article; its id derives from its canonical URL or its content.
    public static let article = EntityKind(known: "article")
    /// The read-state of an article; shares the article's id.
    public static let readState = EntityKind(known: "read_state")
    /// A note on an article; its id is a random UUID.
    public static let note = EntityKind(known: "note")
    /// A tag membership; its id is `<article id>/<tag name>`.
    public static let tag = EntityKind(known: "tag")

    /// The kinds this version knows, in a fixed order.
    public static let known: [EntityKind] = [.article, .readState, .note, .tag]

    /// Whether this version knows the kind (has its fields, tables and rules).
    public var isKnown: Bool { Self.known.contains(self) }

    public var description: String { rawValue }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let name = try container.decode(String.self)
        guard let kind = EntityKind(rawValue: name) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "Invalid entity kind '\(name.prefix(64))'")
        }
        self = kind
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    /// Fields the software sets on its own (when an article was added, a note
    /// created, an article read): concurrent values of these are not the
    /// user's edits, so the later one wins without being reported a conflict.
    public func isBookkeeping(_ field: String) -> Bool {
        switch self {
        case .article: return field == ArticleField.addedAt.rawValue
        case .readState: return field == ReadStateField.readAt.rawValue
        case .note: return field == NoteField.createdAt.rawValue
        default: return false
        }
    }

    /// What `field` of this kind holds, or nil for a field this version does
    /// not know (a newer version's: kept and passed on, never dropped).
    public func shape(of field: String) -> FieldShape? {
        guard fields.contains(field) else { return nil }
        switch (self, field) {
        case (.article, "deleted"), (.note, "deleted"), (.tag, "present"), (.readState, "archived"), (.readState, "favorite"): return .bool
        case (.article, "word_count"): return .count
        case (.readState, "progress"): return .fraction
        case (.readState, "status"): return .status
        default: return .text
        }
    }

    /// The fields of this kind this version knows (none, for a kind it does not know).
    public var fields: Set<String> {
        // Built once: every change validated on either side asks.
        switch self {
        case .article: return Self.articleFields
        case .readState: return Self.readStateFields
        case .note: return Self.noteFields
        case .tag: return Self.tagFields
        default: return []
        }
    }

    private static let articleFields = Set(ArticleField.allCases.map(\.rawValue))
    private static let readStateFields = Set(ReadStateField.allCases.map(\.rawValue))
    private static let noteFields = Set(NoteField.allCases.map(\.rawValue))
    private static let tagFields = Set(TagField.allCases.map(\.rawValue))
}

/// What a known field may hold; every field may also hold null (unset).
public enum FieldShape: Sendable {
    case text, bool
    /// A whole number from 0 to 10^9.
    case count
    /// A number from 0 to 1.
    case fraction
    /// A `ReadStatus`.
    case status
}

/// Fields of an article register.
public enum ArticleField: String, CaseIterable, Sendable {
    case url, title, author, site, published, content, excerpt
    case wordCount = "word_count"
    case addedAt = "added_at"
    /// The tombstone: `true` hides the article, its notes and its tags.
    case deleted
}

/// Fields of a read-state register.
public enum ReadStateField: String, CaseIterable, Sendable {
    /// `unread`, `reading` or `read`.
    case status
    case archived, favorite
    /// 0…1.
    case progress
    case readAt = "read_at"
}

/// Fields of a note register.
public enum NoteField: String, CaseIterable, Sendable {
    case articleID = "article_id"
    case body, quote
    case createdAt = "created_at"
    case deleted
}

/// Fields of a tag-membership register.
public enum TagField: String, CaseIterable, Sendable {
    /// `true` while the tag is on the article.
    case present
}

/// Reading status of an article.
public enum ReadStatus: String, CaseIterable, Sendable, Codable {
    case unread, reading, read
}

/// The address of one field register.
public struct RegisterKey: Hashable, Sendable, Codable, CustomStringConvertible {
    public let kind: EntityKind
    public let entity: String
    public let field: String

    public init(kind: EntityKind, entity: String, field: String) {
        self.kind = kind
        self.entity = entity
        self.field = field
    }

    public var description: String { "\(kind.rawValue)/\(entity)/\(field)" }
}

/// Tag-membership ids pair an article id with a tag name.
public enum TagEntity {
    /// The entity id of `tag` on `articleID`.
    public static func id(articleID: String, tag: String) -> String { articleID + "/" + tag }

    /// A tag's name as every replica stores it: trimmed and lower-cased, one
    /// line of 1–100 characters without control characters; nil for a name
    /// that cannot be one.
    public static func normalizedName(_ name: String) -> String? {
        let trimmed = Graphemes.trimmingWhitespace(name).lowercased()
        guard !trimmed.isEmpty, trimmed.count <= 100, !trimmed.contains(where: { $0.isNewline || $0.asciiValue.map { $0 < 32 } == true })
        else { return nil }
        return trimmed
    }

    /// Splits a tag entity id at its first `/` (article ids never contain one).
    public static func parts(of entity: String) -> (articleID: String, tag: String)? {
        guard let slash = entity.firstIndex(of: "/") else { return nil }
        let tag = entity[entity.index(after: slash)...]
        guard slash > entity.startIndex, !tag.isEmpty else { return nil }
        return (String(entity[..<slash]), String(tag))
    }
}
