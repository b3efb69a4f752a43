import GRDB
import ReadSyncCore
import SQLiteStatements

/// Keeps the two external-content full-text indexes in step with the values.
///
/// `search_index` holds each live article's title and body
/// (`search_source`); `note_search_index` holds the text of its live notes
/// (`note_search_source`), apart, so that a note written or pulled
/// re-indexes a few lines and not the whole body beside it.
///
/// An index holds only tokens; to take an entry out, FTS5 must be given the
/// very text it indexed. So an entry is taken out *before* anything it is
/// made of changes (`StoredEntity.save` does it) and queued in
/// `search_queue` with its part; `refreshQueued` indexes the queued entries
/// again once their changes are written: at the end of a local command, or
/// once at the end of a pull. An entry is in its index exactly when it is
/// in its source and not in `search_queue`.
enum SearchIndex {
    /// One of an article's two entries, each in an index of its own.
    enum Part: String, CaseIterable {
        /// Title and body.
        case text
        /// The text of its live notes.
        case notes

        var index: String { self == .text ? "search_index" : "note_search_index" }
        var source: String { self == .text ? "search_source" : "note_search_source" }
        var columns: String { self == .text ? "title, body" : "notes" }

        /// The statement that takes articles' entries out of the index (FTS5
        /// is given the text it indexed, read from the source), up to the
        /// list of their ids, which the caller writes.
        fileprivate var deleteStatement: String { self == .text ? Self.deleteText : Self.deleteNotes }
        private static let deleteText = Part.text.makeDeleteStatement()
        private static let deleteNotes = Part.notes.makeDeleteStatement()
        private func makeDeleteStatement() -> String {
            """
            INSERT INTO \(index) (\(index), rowid, \(columns))
            SELECT 'delete', rowid, \(columns) FROM \(source)
            WHERE rowid IN (SELECT number FROM article_values WHERE id IN
            """
        }
    }

    /// One of an article's entries, about to change.
    struct Entry {
        let articleID: String
        let part: Part
        /// False for an article that has no row yet: none of its entries
        /// can be in an index, so there is nothing to take out.
        let mayBeIndexed: Bool
    }

    /// Takes `entries` out of their indexes and queues them, before a value
    /// they are made of changes. One statement per index for all of them:
    /// inside a transaction, FTS5 writes out what it holds at the end of
    /// every statement that gave it something (SQLite releases the
    /// statement's savepoint), so a statement per article wrote a segment
    /// per article and merged them. An entry that cannot be indexed is
    /// only queued: asked to take out nothing, FTS5 still cost as much as
    /// the rest of a new article's write (a Pocket import's items).
    static func unindex(_ entries: [Entry], _ db: Database) throws {
        var leaving: [Part: [String]] = [:]
        for entry in entries {
            try db.cachedStatement(sql: "INSERT OR IGNORE INTO search_queue (article_id, part) VALUES (?, ?)").run([
                entry.articleID.databaseValue, entry.part.rawValue.databaseValue,
            ])
            // Queued already: out of the index since.
            if entry.mayBeIndexed && db.changesCount == 1 { leaving[entry.part, default: []].append(entry.articleID) }
        }
        for (part, ids) in leaving {
            if ids.count == 1 {
                // A local command's article.
                try db.cachedStatement(sql: part.deleteStatement + " (?))").execute(arguments: [ids[0]])
                continue
            }
            // A pull's articles, as one JSON array: the statement is prepared
            // once however many there are. (With the ids spliced into its
            // text, SQLite parsed it afresh at every pull.)
            try db.cachedStatement(sql: part.deleteStatement + " (SELECT value FROM json_each(?)))").execute(arguments: [
                JSONWriter.array(of: ids)
            ])
        }
    }

    /// Indexes every queued entry that is live and empties the queue.
    /// Returns how many articles were queued.
    @discardableResult
    static func refreshQueued(_ db: Database) throws -> Int {
        let queued = try Int.fetchOne(db.cachedStatement(sql: "SELECT count(DISTINCT article_id) FROM search_queue")) ?? 0
        guard queued > 0 else { return 0 }
        for part in Part.allCases {
            // An empty index (a fresh device's first pull, a first import):
            // no live entry is in it, so every live one is queued. FTS5
            // builds it in one pass over its source, faster than entry by
            // entry.
            if queued > 100, try Bool.fetchOne(db, sql: "SELECT NOT EXISTS (SELECT 1 FROM \(part.index)_docsize)") == true {
                try build(part, db)
                continue
            }
            // One statement for the whole queue: FTS5 keeps what it is given
            // in memory until a statement ends (SQLite then releases the
            // statement's savepoint, and FTS5 writes out what it holds), so a
            // statement per article wrote a segment per article, and merged
            // them.
            try db.cachedStatement(
                sql: """
                    INSERT INTO \(part.index) (rowid, \(part.columns))
                    SELECT rowid, \(part.columns) FROM \(part.source)
                    WHERE rowid IN (
                        SELECT a.number FROM search_queue q JOIN article_values a ON a.id = q.article_id WHERE q.part = '\(part.rawValue)')
                    """
            ).execute()
        }
        try db.cachedStatement(sql: "DELETE FROM search_queue").execute()
        return queued
    }

    /// How many segments FTS5 lets pile up on one level of an index before
    /// it merges them (`v12-search-merges-at-eight`; FTS5's default is 4).
    static let automerge = 8

    /// Builds an empty index in one pass over its source. FTS5 writes what
    /// it gathers out as a segment every megabyte, and merging them as they
    /// piled up made an eighth of building a 10k library's index, for an
    /// index of as many segments in the end (9 against 8). Merging is off
    /// for the build and on again after it.
    private static func build(_ part: Part, _ db: Database) throws {
        try setAutomerge(0, part, db)
        try db.execute(sql: "INSERT INTO \(part.index) (\(part.index)) VALUES ('rebuild')")
        try setAutomerge(automerge, part, db)
    }

    /// Sets the index's `automerge` (kept in the index's own config table).
    static func setAutomerge(_ segments: Int, _ part: Part, _ db: Database) throws {
        try db.execute(sql: "INSERT INTO \(part.index) (\(part.index), rank) VALUES ('automerge', ?)", arguments: [segments])
    }
}

extension SearchIndex {
    /// The parts whose index differs from its source: none when each index
    /// holds exactly what its source says. FTS5's own check of an
    /// external-content index ('integrity-check' with rank 1) tokenizes
    /// every source row again, compares a checksum of what that gives with
    /// one of everything the index holds, and checks the index's structure;
    /// a difference fails the statement with SQLITE_CORRUPT_VTAB. Call with
    /// the queue empty (its entries are out of their indexes on purpose),
    /// in a write transaction (the check is an INSERT, which writes nothing).
    static func partsOutOfStep(_ db: Database) throws -> [Part] {
        try Part.allCases.filter { part in
            do {
                try db.execute(sql: "INSERT INTO \(part.index) (\(part.index), rank) VALUES ('integrity-check', 1)")
                return false
            } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CORRUPT_VTAB {
                return true
            }
        }
    }
}
