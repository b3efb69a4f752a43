import GRDB
import ReadSyncCore

/// Derives the tables the commands query from the field registers. It always
/// recomputes a whole entity from all its registers, so it gives the same rows
/// whatever order the registers arrived in — local writes and (later) merged
/// remote ones alike.
struct Materializer {
    let db: Database

    /// Re-materialises `touched`; returns the articles whose search entries
    /// need refreshing, refreshed already unless `search` is false.
    @discardableResult
    func refresh(_ touched: TouchedEntities, search: Bool = true) throws -> Set<String> {
        var searchTargets = touched.articles
        let known = touched.values
        for id in touched.articles { try article(id, known) }
        for id in touched.readStates { try readState(id, known) }
        for id in touched.notes {
            if let articleID = try note(id, known) { searchTargets.insert(articleID) }
        }
        for entity in touched.tags { try tag(entity, known) }
        if search {
            for id in searchTargets { try searchEntry(articleID: id) }
        }
        return searchTargets
    }

    private func article(_ id: String, _ known: [RegisterKey: FieldValue]) throws {
        let registers = try RegisterCodec.values(of: .article, id, db, known: known)
        // An article shows only once its title, added-at and tombstone have
        // all arrived: a sync cut off half-way through it (or before a later
        // delete) must not show an empty or deleted article as live.
        let complete = [ArticleField.title, .addedAt, .deleted].allSatisfy { registers[$0.rawValue] != nil }
        guard complete else {
            try db.cachedStatement(sql: "DELETE FROM articles WHERE id = ?").execute(arguments: [id])
            return
        }
        func field(_ name: ArticleField) -> FieldValue { registers[name.rawValue] ?? .null }
        let url = field(.url).text
        try db.cachedStatement(sql: """
            INSERT INTO articles (id, url, title, author, site, published, content, excerpt, word_count, added_at, deleted)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (id) DO UPDATE SET
                url = excluded.url, title = excluded.title, author = excluded.author, site = excluded.site,
                published = excluded.published, content = excluded.content, excerpt = excluded.excerpt,
                word_count = excluded.word_count, added_at = excluded.added_at, deleted = excluded.deleted
            """).execute(arguments: [
                id, url, field(.title).text ?? url ?? "Untitled", field(.author).text, field(.site).text,
                field(.published).text, field(.content).text ?? "", field(.excerpt).text ?? "",
                field(.wordCount).int ?? 0, field(.addedAt).text ?? "", field(.deleted).bool,
            ])
    }

    private func readState(_ id: String, _ known: [RegisterKey: FieldValue]) throws {
        let registers = try RegisterCodec.values(of: .readState, id, db, known: known)
        func field(_ name: ReadStateField) -> FieldValue { registers[name.rawValue] ?? .null }
        let status = field(.status).text.flatMap(ReadStatus.init(rawValue:)) ?? .unread
        let progress = min(max(field(.progress).double ?? 0, 0), 1)
        try db.cachedStatement(sql: """
            INSERT INTO read_state (article_id, status, archived, favorite, progress, read_at) VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT (article_id) DO UPDATE SET status = excluded.status, archived = excluded.archived,
                favorite = excluded.favorite, progress = excluded.progress, read_at = excluded.read_at
            """).execute(arguments: [id, status.rawValue, field(.archived).bool, field(.favorite).bool, progress, field(.readAt).text])
    }

    /// Re-materialises a note; returns its article's id.
    private func note(_ id: String, _ known: [RegisterKey: FieldValue]) throws -> String? {
        let registers = try RegisterCodec.values(of: .note, id, db, known: known)
        func field(_ name: NoteField) -> FieldValue { registers[name.rawValue] ?? .null }
        guard let articleID = field(.articleID).text else {
            try db.cachedStatement(sql: "DELETE FROM notes WHERE id = ?").execute(arguments: [id])
            return nil
        }
        try db.cachedStatement(sql: """
            INSERT INTO notes (id, article_id, body, quote, created_at, deleted) VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT (id) DO UPDATE SET article_id = excluded.article_id, body = excluded.body,
                quote = excluded.quote, created_at = excluded.created_at, deleted = excluded.deleted
            """).execute(arguments: [id, articleID, field(.body).text ?? "", field(.quote).text, field(.createdAt).text ?? "", field(.deleted).bool])
        return articleID
    }

    private func tag(_ entity: String, _ known: [RegisterKey: FieldValue]) throws {
        guard let (articleID, name) = TagEntity.parts(of: entity) else { return }
        let present = try RegisterCodec.values(of: .tag, entity, db, known: known)[TagField.present.rawValue]?.bool ?? false
        if present {
            try db.cachedStatement(sql: "INSERT OR IGNORE INTO tags (article_id, name) VALUES (?, ?)").execute(arguments: [articleID, name])
        } else {
            try db.cachedStatement(sql: "DELETE FROM tags WHERE article_id = ? AND name = ?").execute(arguments: [articleID, name])
        }
    }

    /// Leaves the search entries of `articles` for `refreshQueuedSearchEntries`.
    func queueSearchEntries(_ articles: Set<String>) throws {
        let insert = try db.cachedStatement(sql: "INSERT OR IGNORE INTO search_queue (article_id) VALUES (?)")
        for id in articles { try insert.execute(arguments: [id]) }
    }

    /// Refreshes the search entry of every queued article and empties the queue.
    /// Returns how many there were.
    @discardableResult
    func refreshQueuedSearchEntries() throws -> Int {
        let queued = try String.fetchAll(db.cachedStatement(sql: "SELECT article_id FROM search_queue"))
        for id in queued { try searchEntry(articleID: id) }
        if !queued.isEmpty { try db.execute(sql: "DELETE FROM search_queue") }
        return queued.count
    }

    /// Keeps the full-text index holding exactly the live articles, with the
    /// text of their live notes.
    func searchEntry(articleID: String) throws {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT rowid, title, content, deleted FROM articles WHERE id = ?"), arguments: [articleID]) else { return }
        let rowid: Int64 = row["rowid"]
        try db.cachedStatement(sql: "DELETE FROM search_index WHERE rowid = ?").execute(arguments: [rowid])
        guard !(row["deleted"] as Bool) else { return }
        let notes = try String.fetchAll(db.cachedStatement(sql: """
            SELECT body || CASE WHEN quote IS NULL THEN '' ELSE char(10) || quote END
            FROM notes WHERE article_id = ? AND deleted = 0 ORDER BY created_at, id
            """), arguments: [articleID])
        try db.cachedStatement(sql: "INSERT INTO search_index (rowid, title, body, notes) VALUES (?, ?, ?, ?)").execute(arguments: [rowid, row["title"] as String, row["content"] as String, notes.joined(separator: "\n")])
    }
}
