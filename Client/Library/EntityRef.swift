import Foundation
import GRDB
import ReadSyncArticles
import SQLiteStatements

/// Resolves what a user typed as an article id: the whole id or a unique
/// prefix of it (like git's short hashes).
enum ArticleRef {
    static func resolve(_ ref: String, in db: Database, includeDeleted: Bool = false) throws -> String {
        let matches = try (includeDeleted ? PrefixMatch.anyArticle : .liveArticle).ids(prefix: ref, db)
        switch matches.count {
        case 1: return matches[0]
        case 0:
            if !includeDeleted, let deleted = try PrefixMatch.deletedArticle.ids(prefix: ref, db).first {
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
        let matches = try PrefixMatch.liveNote.ids(prefix: ref, db)
        switch matches.count {
        case 1: return matches[0]
        case 0: throw LookupError.unknownNote(ref)
        default: throw LookupError.ambiguousNote(ref, matches: matches.count)
        }
    }
}

/// The ids in a table that start with what a user typed, under one
/// condition: each lookup's statement written once (it runs for every
/// command that names an article or a note, 30,000 times in the benchmark's
/// local write path) and run through SQLite's own API.
enum PrefixMatch: CaseIterable {
    /// Any article, live or in the trash.
    case anyArticle
    case liveArticle
    case deletedArticle
    /// A live note of a live article.
    case liveNote

    /// Ids starting with `prefix` (case-insensitive), at most a few: enough
    /// to tell one from many. Uses the primary-key index as a range.
    func ids(prefix: String, _ db: Database) throws -> [String] {
        let prefix = prefix.trimmingScalars(in: .whitespaces).lowercased()
        // Ids are lowercase hex and dashes; anything else matches nothing.
        guard !prefix.isEmpty, prefix.utf8.allSatisfy({ Self.isHexDigit($0) || $0 == UInt8(ascii: "-") }) else { return [] }
        var ids: [String] = []
        try db.cachedStatement(sql: sql).forEachRow([prefix.databaseValue, (prefix + "~").databaseValue]) { row in
            if let id = String.fromDatabaseValue(row[0]) { ids.append(id) }
        }
        return ids
    }

    var sql: String {
        switch self {
        case .anyArticle: Self.anyArticleSQL
        case .liveArticle: Self.liveArticleSQL
        case .deletedArticle: Self.deletedArticleSQL
        case .liveNote: Self.liveNoteSQL
        }
    }

    // The conditions are checked row by row on the id range: a `+` keeps
    // SQLite from answering with the index on (deleted, …) instead, which
    // scanned every live article (and, for notes, every live article's
    // notes) on every command that names an article or note.
    private static let anyArticleSQL = statement(table: "articles", condition: nil)
    private static let liveArticleSQL = statement(table: "articles", condition: "+deleted = 0")
    private static let deletedArticleSQL = statement(table: "articles", condition: "+deleted = 1")
    private static let liveNoteSQL = statement(
        table: "notes", condition: "+deleted = 0 AND EXISTS (SELECT 1 FROM articles a WHERE a.id = notes.article_id AND a.deleted = 0)")

    private static func statement(table: String, condition: String?) -> String {
        "SELECT id FROM \(table) WHERE id >= ? AND id < ?\(condition.map { " AND \($0)" } ?? "") LIMIT 50"
    }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
    }
}
