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
    static func unindex(articleID: String, _ db: Database) throws {
        try db.cachedStatement(sql: "INSERT OR IGNORE INTO search_queue (article_id) VALUES (?)").execute(arguments: [articleID])
        // Queued already: out of the index since.
        guard db.changesCount == 1 else { return }
        try db.cachedStatement(sql: """
            INSERT INTO search_index (search_index, rowid, title, body, notes)
            SELECT 'delete', rowid, title, body, notes FROM search_source
            WHERE rowid = (SELECT number FROM article_values WHERE id = ?)
            """).execute(arguments: [articleID])
    }

    /// Indexes every queued article that is live and empties the queue.
    /// Returns how many were queued.
    @discardableResult
    static func refreshQueued(_ db: Database) throws -> Int {
        let queued = try String.fetchAll(db.cachedStatement(sql: "SELECT article_id FROM search_queue"))
        guard !queued.isEmpty else { return 0 }
        let index = try db.cachedStatement(sql: """
            INSERT INTO search_index (rowid, title, body, notes)
            SELECT rowid, title, body, notes FROM search_source WHERE rowid = (SELECT number FROM article_values WHERE id = ?)
            """)
        for id in queued { try index.execute(arguments: [id]) }
        try db.execute(sql: "DELETE FROM search_queue")
        return queued.count
    }
}
