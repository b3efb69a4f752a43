import Foundation
import GRDB
import ReadSyncArticles

/// Resolves what a user typed as an article id: the whole id or a unique
/// prefix of it (like git's short hashes).
enum ArticleRef {
    static func resolve(_ ref: String, in db: Database, includeDeleted: Bool = false) throws -> String {
        let matches = try PrefixMatch.ids(table: "articles", prefix: ref, extraCondition: includeDeleted ? nil : PrefixMatch.liveArticle, db)
        switch matches.count {
        case 1: return matches[0]
        case 0:
            if !includeDeleted, let deleted = try PrefixMatch.ids(table: "articles", prefix: ref, extraCondition: PrefixMatch.deletedArticle, db).first {
                throw LookupError.articleDeleted(deleted)
            }
            throw LookupError.unknownArticle(ref)
        default: throw LookupError.ambiguousArticle(ref, matches: matches.count)
        }
    }
}

/// Resolves a note id or unique prefix (live notes of live articles only).
enum NoteRef {
    static func resolve(_ ref: String, in db: Database) throws -> String {
        let matches = try PrefixMatch.ids(table: "notes", prefix: ref, extraCondition: PrefixMatch.liveNote, db)
        switch matches.count {
        case 1: return matches[0]
        case 0: throw LookupError.unknownNote(ref)
        default: throw LookupError.ambiguousNote(ref, matches: matches.count)
        }
    }
}

enum PrefixMatch {
    // The extra conditions are checked row by row on the id range: a `+`
    // keeps SQLite from answering with the index on (deleted, …) instead,
    // which scanned every live article (and, for notes, every live article's
    // notes) on every command that names an article or note.
    static let liveArticle = "+deleted = 0"
    static let deletedArticle = "+deleted = 1"
    static let liveNote = "+deleted = 0 AND EXISTS (SELECT 1 FROM articles a WHERE a.id = notes.article_id AND a.deleted = 0)"

    /// Ids in `table` starting with `prefix` (case-insensitive), at most a few:
    /// enough to tell one from many. Uses the primary-key index as a range.
    static func ids(table: String, prefix: String, extraCondition: String?, _ db: Database) throws -> [String] {
        let prefix = prefix.trimmingScalars(in: .whitespaces).lowercased()
        // Ids are lowercase hex and dashes; anything else matches nothing.
        guard !prefix.isEmpty, prefix.utf8.allSatisfy({ isHexDigit($0) || $0 == UInt8(ascii: "-") }) else { return [] }
        // A handful of distinct statements, run once per command: prepared once.
        return try String.fetchAll(
            db.cachedStatement(sql: sql(table: table, extraCondition: extraCondition)),
            arguments: [prefix, prefix + "~"])
    }

    static func sql(table: String, extraCondition: String?) -> String {
        "SELECT id FROM \(table) WHERE id >= ? AND id < ?\(extraCondition.map { " AND \($0)" } ?? "") LIMIT 50"
    }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
    }
}
