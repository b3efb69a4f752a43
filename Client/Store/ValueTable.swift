import Foundation
import GRDB
import ReadSyncCore

/// Where a kind's field values live on a device: one table per kind, one
/// column per known field, named as the field (see `StorageV2`). Entities of
/// a kind this version does not know have no table of their own: their
/// clocks are in `unknown_entities`, their values in `unknown_values`.
enum ValueTable {
    /// The table of a known kind.
    static func name(of kind: EntityKind) -> String {
        switch kind {
        case .article: return "article_values"
        case .readState: return "read_state_values"
        case .note: return "note_values"
        case .tag: return "tag_values"
        default: preconditionFailure("no value table for \(kind), a kind this version does not know")
        }
    }

    /// The known fields of `kind`, in a fixed order: the value columns
    /// (none for a kind this version does not know).
    static func columns(of kind: EntityKind) -> [String] {
        switch kind {
        case .article: return articleColumns
        case .readState: return readStateColumns
        case .note: return noteColumns
        case .tag: return tagColumns
        default: return []
        }
    }

    private static let articleColumns = ArticleField.allCases.map(\.rawValue)
    private static let readStateColumns = ReadStateField.allCases.map(\.rawValue)
    private static let noteColumns = NoteField.allCases.map(\.rawValue)
    private static let tagColumns = TagField.allCases.map(\.rawValue)
}

extension FieldValue {
    /// The value as its column holds it: booleans as 0 and 1, the rest as
    /// they are (a column's affinity keeps a whole double as an integer,
    /// which compares equal).
    var databaseValue: DatabaseValue {
        switch self {
        case .null: return .null
        case .bool(let value): return (value ? 1 : 0).databaseValue
        case .int(let value): return value.databaseValue
        case .double(let value): return value.databaseValue
        case .text(let value): return value.databaseValue
        }
    }

    /// Reads a value column of a field of `shape`.
    init(_ value: DatabaseValue, shape: FieldShape) throws {
        switch value.storage {
        case .null: self = .null
        case .int64(let number): self = shape == .bool ? .bool(number != 0) : .int(number)
        case .double(let number): self = .double(number)
        case .string(let text): self = .text(text)
        case .blob: throw DatabaseError(resultCode: .SQLITE_CORRUPT, message: "a blob in a value column")
        }
    }
}

// A timestamp as the outbox stores it (see `CompactClock`).
extension HLCTimestamp {
    var stored: Data { Data(compact) }
}
