import Foundation
import ReadSyncCore

/// One article as an export file describes it, before it is saved. Every
/// field but the URL is optional: nil means "the file does not say", and
/// import leaves such a field alone.
public struct ImportedItem: Sendable, Equatable {
    /// Where in the file it came from (1-based line, or item number for JSON).
    public var line: Int
    /// The URL as the file wrote it.
    public var url: String?
    public var title: String?
    public var author: String?
    public var site: String?
    public var published: String?
    /// When it was saved, in milliseconds since 1970.
    public var addedAt: Int64?
    public var archived: Bool?
    public var favorite: Bool?
    /// 0…1.
    public var progress: Double?
    public var status: ReadStatus?
    public var readAt: String?
    /// Tag names as written (normalised on import).
    public var tags: [String] = []
    /// The readable text, when the file carries it.
    public var content: String?
    public var notes: [ImportedNote] = []
    /// Exact ISO added-at, from readsync's own export (wins over `addedAt`).
    public var addedAtISO: String?
    /// The values are readsync's own (its export): written exactly as they are.
    public var exact = false

    public init(line: Int, url: String? = nil, title: String? = nil) {
        self.line = line
        self.url = url
        self.title = title
    }
}

/// A note or highlight carried by an export file.
public struct ImportedNote: Sendable, Equatable {
    /// The note's id when the file has one (readsync's export); otherwise
    /// derived from the article and the text, so a re-import finds it.
    public var id: String?
    public var body: String
    public var quote: String?
    public var createdAt: String?

    public init(id: String? = nil, body: String, quote: String? = nil, createdAt: String? = nil) {
        self.id = id
        self.body = body
        self.quote = quote
        self.createdAt = createdAt
    }
}

/// A row the parser could not use, with why.
public struct ImportProblem: Sendable, Equatable, CustomStringConvertible {
    /// The file it is in (empty until the importer fills it in).
    public var file: String
    public var line: Int
    public var reason: String

    public init(file: String = "", line: Int, reason: String) {
        self.file = file
        self.line = line
        self.reason = reason
    }

    public var description: String { (file.isEmpty ? "" : "\(file):") + "\(line): \(reason)" }
}

/// What a parser made of one file: the items, and the rows it skipped.
public struct ParsedImport: Sendable, Equatable {
    public var items: [ImportedItem] = []
    /// Rows skipped as malformed.
    public var skipped: [ImportProblem] = []
    /// Rows imported with something left out (a bad date, a bad tag).
    public var warnings: [ImportProblem] = []

    public init(items: [ImportedItem] = [], skipped: [ImportProblem] = [], warnings: [ImportProblem] = []) {
        self.items = items
        self.skipped = skipped
        self.warnings = warnings
    }

    mutating func append(_ other: ParsedImport) {
        items += other.items
        skipped += other.skipped
        warnings += other.warnings
    }
}
