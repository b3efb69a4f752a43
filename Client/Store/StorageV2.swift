import Foundation
import GRDB
import ReadSyncCore

/// The second storage format (migration `v5-values-once`): every value is
/// stored once. The `*_values` tables hold one row per entity: each field's
/// value in a column of its own, exactly as the registers hold it (null
/// included), and in `clocks` every written field's timestamp and version
/// vector (`EntityClocks`, compact, without the values); `unknown_values`
/// holds the fields this version does not know (a newer one wrote them), so
/// they are kept and passed on.
/// The outbox names the fields not yet acknowledged, not their values. The
/// tables the commands query (`articles`, `read_state`, `notes`, `tags`)
/// are views over the values, and the full-text index is external-content
/// over the view `search_source`: it keeps no copy of any text.
enum StorageV2 {
    static func migrate(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE article_values (
                    -- The search index refers to articles by this number: an alias
                    -- of the rowid, so that VACUUM keeps it.
                    number      INTEGER PRIMARY KEY,
                    id          TEXT NOT NULL UNIQUE,
                    clocks      BLOB NOT NULL,
                    url         TEXT,
                    title       TEXT,
                    author      TEXT,
                    site        TEXT,
                    published   TEXT,
                    content     TEXT,
                    excerpt     TEXT,
                    word_count  INTEGER,
                    added_at    TEXT,
                    deleted     INTEGER,
                    -- Whether title, added-at and the tombstone have all arrived: an
                    -- article shows only then, so a sync cut off half-way through it
                    -- (or before a later delete) never shows it empty or live.
                    complete    INTEGER NOT NULL DEFAULT 0
                );
                CREATE INDEX article_values_by_added ON article_values (deleted, added_at DESC, id) WHERE complete;

                CREATE TABLE read_state_values (
                    id        TEXT PRIMARY KEY,   -- the article's id
                    clocks      BLOB NOT NULL,
                    status    TEXT,
                    archived  INTEGER,
                    favorite  INTEGER,
                    progress  REAL,
                    read_at   TEXT
                );

                CREATE TABLE note_values (
                    id          TEXT PRIMARY KEY,
                    clocks      BLOB NOT NULL,
                    article_id  TEXT,
                    body        TEXT,
                    quote       TEXT,
                    created_at  TEXT,
                    deleted     INTEGER
                );
                CREATE INDEX note_values_by_article ON note_values (article_id, created_at);

                CREATE TABLE tag_values (
                    id          TEXT PRIMARY KEY,   -- <article id>/<tag>
                    clocks      BLOB NOT NULL,
                    article_id  TEXT NOT NULL,
                    name        TEXT NOT NULL,
                    present     INTEGER
                );
                CREATE INDEX tag_values_by_article ON tag_values (article_id, name);
                CREATE INDEX tag_values_by_name ON tag_values (name);

                -- Values of fields this version does not know, as JSON.
                CREATE TABLE unknown_values (
                    kind    TEXT NOT NULL,
                    entity  TEXT NOT NULL,
                    field   TEXT NOT NULL,
                    value   TEXT NOT NULL,
                    PRIMARY KEY (kind, entity, field)
                ) STRICT;

                -- The fields written here and not yet acknowledged by the server, in
                -- the order first written. A push reads their current values. `floor`
                -- is the largest timestamp of an earlier version of the field that may
                -- have reached the server (sent, its answer lost): re-stamping after a
                -- clock error stays above it.
                CREATE TABLE outbox (
                    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
                    kind    TEXT NOT NULL,
                    entity  TEXT NOT NULL,
                    field   TEXT NOT NULL,
                    floor   BLOB,
                    UNIQUE (kind, entity, field)
                ) STRICT;
                """)
        try moveRegisters(db)
        try moveChangeLog(db)
        try db.execute(
            sql: """
                DROP TABLE registers;
                DROP TABLE change_log;
                DROP TABLE articles;
                DROP TABLE read_state;
                DROP TABLE notes;
                DROP TABLE tags;
                DROP TABLE search_index;
                DELETE FROM search_queue;

                -- What the commands query: the values as the library shows them.
                CREATE VIEW articles AS
                SELECT number AS rowid, id, url, COALESCE(title, url, 'Untitled') AS title, author, site, published,
                       COALESCE(content, '') AS content, COALESCE(excerpt, '') AS excerpt,
                       CAST(COALESCE(word_count, 0) AS INTEGER) AS word_count, COALESCE(added_at, '') AS added_at,
                       COALESCE(deleted, 0) AS deleted
                FROM article_values WHERE complete;

                CREATE VIEW read_state AS
                SELECT id AS article_id,
                       CASE WHEN status IN ('unread', 'reading', 'read') THEN status ELSE 'unread' END AS status,
                       COALESCE(archived, 0) AS archived, COALESCE(favorite, 0) AS favorite,
                       MIN(MAX(COALESCE(progress, 0.0), 0.0), 1.0) AS progress, read_at
                FROM read_state_values;

                CREATE VIEW notes AS
                SELECT id, article_id, COALESCE(body, '') AS body, quote, COALESCE(created_at, '') AS created_at,
                       COALESCE(deleted, 0) AS deleted
                FROM note_values WHERE article_id IS NOT NULL;

                CREATE VIEW tags AS SELECT article_id, name FROM tag_values WHERE present = 1;

                -- What the full-text index holds for each live article: its title,
                -- its body and the text of its live notes.
                CREATE VIEW search_source AS
                SELECT a.number AS rowid, COALESCE(a.title, a.url, 'Untitled') AS title, COALESCE(a.content, '') AS body,
                       COALESCE((SELECT group_concat(text, char(10)) FROM (
                           SELECT COALESCE(n.body, '') || CASE WHEN n.quote IS NULL THEN '' ELSE char(10) || n.quote END AS text
                           FROM note_values n WHERE n.article_id = a.id AND COALESCE(n.deleted, 0) = 0
                           ORDER BY COALESCE(n.created_at, ''), n.id)), '') AS notes
                FROM article_values a WHERE a.complete AND COALESCE(a.deleted, 0) = 0;

                -- External content: the index keeps only its tokens. An article is in
                -- it exactly when it is in `search_source` and not in `search_queue`
                -- (see SearchIndex).
                CREATE VIRTUAL TABLE search_index USING fts5(
                    title, body, notes,
                    content = 'search_source', content_rowid = 'rowid',
                    tokenize = 'unicode61 remove_diacritics 2'
                );
                INSERT INTO search_index (search_index) VALUES ('rebuild');
                """)
    }

    /// Registers of the first format → values, clocks and unknown values.
    private static func moveRegisters(_ db: Database) throws {
        var entity: (kind: String, id: String)?
        var values: [String: DatabaseValue] = [:]
        var clocks: [String: EntityClocks.Clock] = [:]
        func flush() throws {
            guard let (kind, id) = entity else { return }
            try insertEntity(kind: kind, id: id, values, clocks: clocks, db)
            values = [:]
            clocks = [:]
        }
        let rows = try Row.fetchCursor(db, sql: "SELECT kind, entity, field, value, timestamp, vector FROM registers ORDER BY kind, entity")
        while let row = try rows.next() {
            let kind: String = row["kind"], id: String = row["entity"], field: String = row["field"]
            if entity?.kind != kind || entity?.id != id {
                try flush()
                entity = (kind, id)
            }
            guard let timestamp = HLCTimestamp(encoded: row["timestamp"]) else {
                throw DatabaseError(resultCode: .SQLITE_CORRUPT, message: "invalid register timestamp in \(kind)/\(id)/\(field)")
            }
            clocks[field] = (timestamp, try WireCoding.vector(fromText: row["vector"]))
            let value = try WireCoding.value(fromText: row["value"])
            if let known = EntityKind(rawValue: kind), known.shape(of: field) != nil {
                values[field] = value.databaseValue
            } else {
                try db.execute(
                    sql: "INSERT INTO unknown_values (kind, entity, field, value) VALUES (?, ?, ?, ?)",
                    arguments: [kind, id, field, row["value"] as String])
            }
        }
        try flush()
    }

    private static func insertEntity(
        kind: String, id: String, _ values: [String: DatabaseValue], clocks: [String: EntityClocks.Clock],
        _ db: Database
    ) throws {
        // The first format knew no other kinds than these.
        guard let kind = EntityKind(rawValue: kind), kind.isKnown else { return }
        var columns = ["id", "clocks"] + values.keys.sorted()
        var arguments: [DatabaseValue] = [id.databaseValue, Data(EntityClocks.encode(clocks)).databaseValue] + values.keys.sorted().map { values[$0]! }
        switch kind {
        case .article:
            columns.append("complete")
            arguments.append(([ArticleField.title, .addedAt, .deleted].allSatisfy { values[$0.rawValue] != nil }).databaseValue)
        case .tag:
            guard let (articleID, name) = TagEntity.parts(of: id) else { return }
            columns += ["article_id", "name"]
            arguments += [articleID.databaseValue, name.databaseValue]
        default: break
        }
        try db.execute(
            sql: "INSERT INTO \(ValueTable.name(of: kind)) (\(columns.joined(separator: ", "))) VALUES (\(databaseQuestionMarks(count: columns.count)))",
            arguments: StatementArguments(arguments))
    }

    /// The first format's change log (every unacknowledged version) → the
    /// outbox (each field once, in the order first written) and its floors.
    private static func moveChangeLog(_ db: Database) throws {
        try db.execute(
            sql: """
                INSERT INTO outbox (kind, entity, field)
                SELECT kind, entity, field FROM change_log GROUP BY kind, entity, field ORDER BY min(seq)
                """)
        // Earlier logged versions than the register's own: they may be on
        // the server with their acknowledgement lost.
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT c.kind, c.entity, c.field, max(c.timestamp) AS floor FROM change_log c
                JOIN registers r ON r.kind = c.kind AND r.entity = c.entity AND r.field = c.field
                WHERE c.timestamp < r.timestamp GROUP BY c.kind, c.entity, c.field
                """)
        for row in rows {
            guard let floor = HLCTimestamp(encoded: row["floor"]) else { continue }
            try db.execute(
                sql: "UPDATE outbox SET floor = ? WHERE kind = ? AND entity = ? AND field = ?",
                arguments: [floor.stored, row["kind"] as String, row["entity"] as String, row["field"] as String])
        }
    }
}
