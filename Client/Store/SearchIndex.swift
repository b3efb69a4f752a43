import GRDB

/// Keeps the external-content full-text index in step with the values.
///
/// The index holds only tokens; to take an entry out, FTS5 must be given the
/// very text it indexed. So an article is taken out *before* anything it is
/// indexed from changes (its title, URL, body, tombstone, completeness or
/// any of its notes: `StoredEntity.save` does it) and queued in
/// `search_queue`; `refreshQueued` indexes the queued articles again once
/// their changes are written: at the end of a local command, or once at the
/// end of a pull. An article is in the index exactly when it is in
/// `search_source` (live and complete) and not in `search_queue`.
enum SearchIndex {
    /// Takes `articleIDs` out of the index and queues them, before a value
    /// their entries are made of changes. One statement for all of them:
    /// inside a transaction, FTS5 writes out what it holds at the end of
    /// every statement that gave it something (SQLite releases the
    /// statement's savepoint), so a statement per article wrote a segment
    /// per article and merged them.
    static func unindex(articleIDs: [String], _ db: Database) throws {
        var leaving: [String] = []
        for id in articleIDs {
            try db.cachedStatement(sql: "INSERT OR IGNORE INTO search_queue (article_id) VALUES (?)").execute(arguments: [id])
            // Queued already: out of the index since.
            if db.changesCount == 1 { leaving.append(id) }
        }
        let delete = """
            INSERT INTO search_index (search_index, rowid, title, body, notes)
            SELECT 'delete', rowid, title, body, notes FROM search_source
            WHERE rowid IN (SELECT number FROM article_values WHERE id IN
            """
        if leaving.count == 1 {
            // A local command's article: the statement is kept prepared.
            try db.cachedStatement(sql: delete + " (?))").execute(arguments: [leaving[0]])
            return
        }
        for start in stride(from: 0, to: leaving.count, by: 500) {
            let ids = leaving[start..<min(start + 500, leaving.count)]
            try db.execute(
                sql: delete + " (\(databaseQuestionMarks(count: ids.count))))", arguments: StatementArguments(ids.map { $0 as (any DatabaseValueConvertible)? })
            )
        }
    }

    /// Indexes every queued article that is live and empties the queue.
    /// Returns how many were queued.
    @discardableResult
    static func refreshQueued(_ db: Database) throws -> Int {
        let queued = try Int.fetchOne(db.cachedStatement(sql: "SELECT count(*) FROM search_queue")) ?? 0
        guard queued > 0 else { return 0 }
        // An empty index (a fresh device's first pull, a first import): no
        // live article is in it, so every live one is queued. FTS5 builds it
        // in one pass over `search_source`, faster than entry by entry.
        if queued > 100, try Bool.fetchOne(db, sql: "SELECT NOT EXISTS (SELECT 1 FROM search_index_docsize)") == true {
            try db.execute(sql: "INSERT INTO search_index (search_index) VALUES ('rebuild'); DELETE FROM search_queue")
            return queued
        }
        // One statement for the whole queue: FTS5 keeps what it is given in
        // memory until a statement ends (SQLite then releases the statement's
        // savepoint, and FTS5 writes out what it holds), so a statement per
        // article wrote a segment per article, and merged them.
        try db.cachedStatement(
            sql: """
                INSERT INTO search_index (rowid, title, body, notes)
                SELECT rowid, title, body, notes FROM search_source
                WHERE rowid IN (SELECT a.number FROM search_queue q JOIN article_values a ON a.id = q.article_id)
                """
        ).execute()
        try db.cachedStatement(sql: "DELETE FROM search_queue").execute()
        return queued
    }
}

extension SearchIndex {
    /// How many token occurrences (term, article, column, offset) differ
    /// between the index and a fresh index of `search_source`: 0 when it
    /// holds exactly what its content says. Call with the queue empty (its
    /// articles are out of the index on purpose). Leaves nothing behind.
    static func mismatches(_ db: Database) throws -> Int {
        var count = 0
        try db.inSavepoint {
            try db.execute(
                sql: """
                    CREATE VIRTUAL TABLE search_check USING fts5(
                        title, body, notes, content = 'search_source', content_rowid = 'rowid',
                        tokenize = 'unicode61 remove_diacritics 2');
                    INSERT INTO search_check (search_check) VALUES ('rebuild');
                    CREATE VIRTUAL TABLE search_check_vocabulary USING fts5vocab(search_check, instance);
                    CREATE VIRTUAL TABLE search_index_vocabulary USING fts5vocab(search_index, instance);
                    """)
            count =
                try Int.fetchOne(
                    db,
                    sql: """
                        SELECT count(*) FROM (
                            SELECT * FROM (SELECT * FROM search_index_vocabulary EXCEPT SELECT * FROM search_check_vocabulary)
                            UNION ALL
                            SELECT * FROM (SELECT * FROM search_check_vocabulary EXCEPT SELECT * FROM search_index_vocabulary))
                        """) ?? 0
            return .rollback
        }
        return count
    }
}
