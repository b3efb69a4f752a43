import Foundation
import GRDB
import ReadSyncCore

/// The client database's schema, as named, ordered migrations. Later versions
/// only append migrations; a shipped one never changes.
enum ClientSchema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()

        migrator.registerMigration("v1-replica") { db in
            // Settings and replica identity: node id, the clock, server settings.
            try db.execute(
                sql: """
                    CREATE TABLE meta (
                        key   TEXT PRIMARY KEY,
                        value TEXT NOT NULL
                    ) STRICT, WITHOUT ROWID;

                    -- The field registers: the replicated truth everything else is derived from.
                    CREATE TABLE registers (
                        kind      TEXT NOT NULL,
                        entity    TEXT NOT NULL,
                        field     TEXT NOT NULL,
                        value     TEXT NOT NULL,   -- JSON
                        timestamp TEXT NOT NULL,   -- HLCTimestamp.encoded, sorts as the timestamp does
                        vector    TEXT NOT NULL,   -- JSON {node: counter}
                        PRIMARY KEY (kind, entity, field)
                    ) STRICT, WITHOUT ROWID;

                    -- The outbox: every local write not yet acknowledged by the server,
                    -- in write order. Earlier versions of a register are kept too: one
                    -- may already be on the server (its acknowledgement lost), and
                    -- re-stamping after a clock error must stay above it.
                    CREATE TABLE change_log (
                        seq       INTEGER PRIMARY KEY AUTOINCREMENT,
                        kind      TEXT NOT NULL,
                        entity    TEXT NOT NULL,
                        field     TEXT NOT NULL,
                        value     TEXT NOT NULL,
                        timestamp TEXT NOT NULL,
                        vector    TEXT NOT NULL
                    ) STRICT;
                    """)
        }

        migrator.registerMigration("v1-library") { db in
            // Materialised from the registers; what the commands query.
            try db.execute(
                sql: """
                    CREATE TABLE articles (
                        id          TEXT PRIMARY KEY,
                        url         TEXT,
                        title       TEXT NOT NULL,
                        author      TEXT,
                        site        TEXT,
                        published   TEXT,
                        content     TEXT NOT NULL,
                        excerpt     TEXT NOT NULL,
                        word_count  INTEGER NOT NULL,
                        added_at    TEXT NOT NULL,
                        deleted     INTEGER NOT NULL
                    ) STRICT;
                    CREATE INDEX articles_by_added ON articles (deleted, added_at DESC, id);

                    CREATE TABLE read_state (
                        article_id TEXT PRIMARY KEY,
                        status     TEXT NOT NULL,
                        archived   INTEGER NOT NULL,
                        favorite   INTEGER NOT NULL,
                        progress   REAL NOT NULL,
                        read_at    TEXT
                    ) STRICT;

                    CREATE TABLE notes (
                        id          TEXT PRIMARY KEY,
                        article_id  TEXT NOT NULL,
                        body        TEXT NOT NULL,
                        quote       TEXT,
                        created_at  TEXT NOT NULL,
                        deleted     INTEGER NOT NULL
                    ) STRICT;
                    CREATE INDEX notes_by_article ON notes (article_id, created_at);

                    CREATE TABLE tags (
                        article_id TEXT NOT NULL,
                        name       TEXT NOT NULL,
                        PRIMARY KEY (article_id, name)
                    ) STRICT, WITHOUT ROWID;
                    CREATE INDEX tags_by_name ON tags (name);

                    -- Live articles only: title, body and the text of their notes.
                    -- The rowid is the article's rowid in `articles`.
                    CREATE VIRTUAL TABLE search_index USING fts5(
                        title, body, notes,
                        tokenize = 'unicode61 remove_diacritics 2'
                    );
                    """)
        }

        migrator.registerMigration("v2-sync") { db in
            // Concurrent writes: the value that lost, kept for the user to see.
            try db.execute(
                sql: """
                    CREATE TABLE conflicts (
                        id              INTEGER PRIMARY KEY,
                        kind            TEXT NOT NULL,
                        entity          TEXT NOT NULL,
                        field           TEXT NOT NULL,
                        kept_value      TEXT NOT NULL,
                        kept_timestamp  TEXT NOT NULL,
                        lost_value      TEXT NOT NULL,
                        lost_timestamp  TEXT NOT NULL,
                        UNIQUE (kind, entity, field, lost_timestamp)
                    ) STRICT;
                    """)
        }

        migrator.registerMigration("v3-search-queue") { db in
            // Articles whose full-text entry is behind their materialised rows.
            // A pulled page records them here in its own transaction, and the
            // index is brought up to date for all of them once, when the pull
            // has applied its last page (or by the next search or pull, when
            // a pull was cut off in between): each article is indexed once
            // per pull, not once per page that touched it or its notes.
            try db.execute(
                sql: """
                    CREATE TABLE search_queue (
                        article_id TEXT PRIMARY KEY
                    ) STRICT, WITHOUT ROWID;
                    """)
        }

        migrator.registerMigration("v4-rowid-registers") { db in
            // `registers` as an ordinary rowid table (its key becomes a unique
            // index). A WITHOUT ROWID table keeps whole rows in its b-tree,
            // interior pages included, and body registers carry several KB:
            // the tree grew deep, every seek read more pages and every write
            // dirtied more. SQLite advises WITHOUT ROWID only for rows well
            // under a twentieth of a page.
            try db.execute(
                sql: """
                    CREATE TABLE registers_v4 (
                        kind      TEXT NOT NULL,
                        entity    TEXT NOT NULL,
                        field     TEXT NOT NULL,
                        value     TEXT NOT NULL,   -- JSON
                        timestamp TEXT NOT NULL,   -- HLCTimestamp.encoded, sorts as the timestamp does
                        vector    TEXT NOT NULL,   -- JSON {node: counter}
                        PRIMARY KEY (kind, entity, field)
                    ) STRICT;
                    INSERT INTO registers_v4 (kind, entity, field, value, timestamp, vector)
                        SELECT kind, entity, field, value, timestamp, vector FROM registers;
                    DROP TABLE registers;
                    ALTER TABLE registers_v4 RENAME TO registers;
                    """)
        }

        migrator.registerMigration("v5-values-once", migrate: StorageV2.migrate)

        // Entities of a kind this version does not know (a newer one
        // introduced it): their clocks, one row each as in a kind's value
        // table; their values go to `unknown_values`, as every field's this
        // version does not know. Kept and passed on, never dropped.
        migrator.registerMigration("v6-unknown-kinds") { db in
            try db.execute(
                sql: """
                    CREATE TABLE unknown_entities (
                        kind    TEXT NOT NULL,
                        id      TEXT NOT NULL,
                        clocks  BLOB NOT NULL,
                        PRIMARY KEY (kind, id)
                    ) STRICT
                    """)
        }

        // The writer's own count in a field's vector before its first write
        // not yet acknowledged: what a device that turns out to share its
        // node id with another (`ClientStore.moveToNewNode`) re-stamps its
        // waiting writes on, so that they neither claim nor hide the other's.
        migrator.registerMigration("v7-outbox-base") { db in
            try db.execute(sql: "ALTER TABLE outbox ADD COLUMN base INTEGER")
        }

        // A note whose text the server collected with its deleted article
        // (`Tombstone`: its body and quote are null, its article and date
        // kept) is not a note any more: `show` leaves it out of the trash.
        migrator.registerMigration("v8-collected-notes") { db in
            try db.execute(
                sql: """
                    DROP VIEW notes;
                    CREATE VIEW notes AS
                    SELECT id, article_id, COALESCE(body, '') AS body, quote, COALESCE(created_at, '') AS created_at,
                           COALESCE(deleted, 0) AS deleted
                    FROM note_values WHERE article_id IS NOT NULL AND (body IS NOT NULL OR quote IS NOT NULL);
                    """)
        }

        // One outbox row per entity instead of one per field: an article
        // added with five fields marks one row, not five (the Pocket import
        // spent a fifth of its time on outbox rows and their index). The
        // fields' floors and bases move into `OutboxEntry`'s blob; the
        // entities keep the order of their first waiting field.
        migrator.registerMigration("v9-outbox-per-entity") { db in
            try db.execute(
                sql: """
                    ALTER TABLE outbox RENAME TO outbox_per_field;
                    CREATE TABLE outbox (
                        seq          INTEGER PRIMARY KEY AUTOINCREMENT,
                        kind         TEXT NOT NULL,
                        entity       TEXT NOT NULL,
                        fields       BLOB NOT NULL,      -- OutboxEntry.encoded
                        field_count  INTEGER NOT NULL,
                        UNIQUE (kind, entity)
                    ) STRICT;
                    """)
            var order: [EntityAddress] = []
            var entries: [EntityAddress: OutboxEntry] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT kind, entity, field, floor, base FROM outbox_per_field ORDER BY seq") {
                guard let kind = EntityKind(rawValue: row[0]) else { continue }
                let address = EntityAddress(kind: kind, id: row[1])
                if entries[address] == nil { order.append(address) }
                entries[address, default: OutboxEntry()].append(
                    row[2], floor: (row[3] as Data?).flatMap { HLCTimestamp(compact: $0) }, base: (row[4] as Int64?).map { UInt64($0) })
            }
            for address in order {
                let entry = entries[address]!
                try db.execute(
                    sql: "INSERT INTO outbox (kind, entity, fields, field_count) VALUES (?, ?, ?, ?)",
                    arguments: [address.kind.rawValue, address.id, Data(entry.encoded), entry.fields.count])
            }
            try db.execute(sql: "DROP TABLE outbox_per_field")
        }

        // Notes in a full-text index of their own. An article's entry held
        // its title, body and notes, so a note written or pulled took the
        // whole body out of the index and tokenised it again (about a
        // million instructions for 6 KB). Now a note touches only the
        // article's notes entry. The queue says which entry is out; both
        // indexes are built again from the values.
        migrator.registerMigration("v10-notes-indexed-apart") { db in
            try db.execute(
                sql: """
                    DROP TABLE search_index;
                    DROP VIEW search_source;
                    DROP TABLE search_queue;

                    CREATE TABLE search_queue (
                        article_id  TEXT NOT NULL,
                        part        TEXT NOT NULL CHECK (part IN ('text', 'notes')),   -- SearchIndex.Part
                        PRIMARY KEY (article_id, part)
                    ) STRICT, WITHOUT ROWID;

                    -- What the full-text indexes hold for each live article: its
                    -- title and body; apart, the text of its live notes.
                    CREATE VIEW search_source AS
                    SELECT a.number AS rowid, COALESCE(a.title, a.url, 'Untitled') AS title, COALESCE(a.content, '') AS body
                    FROM article_values a WHERE a.complete AND COALESCE(a.deleted, 0) = 0;

                    -- Every live article has a notes entry, empty or not, so that
                    -- both indexes count the same articles: bm25 weighs a word by
                    -- how few articles hold it, and an index of only the articles
                    -- with notes would make a word in a note count for nothing.
                    CREATE VIEW note_search_source AS
                    SELECT a.number AS rowid,
                           COALESCE((SELECT group_concat(text, char(10)) FROM (
                               SELECT COALESCE(n.body, '') || CASE WHEN n.quote IS NULL THEN '' ELSE char(10) || n.quote END AS text
                               FROM note_values n WHERE n.article_id = a.id AND COALESCE(n.deleted, 0) = 0
                               ORDER BY COALESCE(n.created_at, ''), n.id)), '') AS notes
                    FROM article_values a WHERE a.complete AND COALESCE(a.deleted, 0) = 0;

                    -- External content: the indexes keep only their tokens. An entry
                    -- is in its index exactly when it is in its source and not in
                    -- `search_queue` (see SearchIndex).
                    CREATE VIRTUAL TABLE search_index USING fts5(
                        title, body,
                        content = 'search_source', content_rowid = 'rowid',
                        tokenize = 'unicode61 remove_diacritics 2'
                    );
                    CREATE VIRTUAL TABLE note_search_index USING fts5(
                        notes,
                        content = 'note_search_source', content_rowid = 'rowid',
                        tokenize = 'unicode61 remove_diacritics 2'
                    );
                    INSERT INTO search_index (search_index) VALUES ('rebuild');
                    INSERT INTO note_search_index (note_search_index) VALUES ('rebuild');
                    """)
        }

        // FTS5 builds an index (`rebuild`) by reading its source with no
        // ORDER BY, and writes out what it holds whenever a row's id is lower
        // than the last one's. SQLite read both sources through the partial
        // index `article_values_by_added`, newest first: the ids came in
        // descending order, so every article was written out on its own and
        // merged (a fresh device's first pull of 10,000 articles spent 9.7 s
        // building its index against 6.2 s read in id order). The sources now
        // read `article_values` in id order; an id lookup still uses the key.
        migrator.registerMigration("v11-search-sources-in-id-order") { db in
            try db.execute(
                sql: """
                    DROP VIEW search_source;
                    DROP VIEW note_search_source;
                    CREATE VIEW search_source AS
                    SELECT a.number AS rowid, COALESCE(a.title, a.url, 'Untitled') AS title, COALESCE(a.content, '') AS body
                    FROM article_values a NOT INDEXED WHERE a.complete AND COALESCE(a.deleted, 0) = 0;
                    CREATE VIEW note_search_source AS
                    SELECT a.number AS rowid,
                           COALESCE((SELECT group_concat(text, char(10)) FROM (
                               SELECT COALESCE(n.body, '') || CASE WHEN n.quote IS NULL THEN '' ELSE char(10) || n.quote END AS text
                               FROM note_values n WHERE n.article_id = a.id AND COALESCE(n.deleted, 0) = 0
                               ORDER BY COALESCE(n.created_at, ''), n.id)), '') AS notes
                    FROM article_values a NOT INDEXED WHERE a.complete AND COALESCE(a.deleted, 0) = 0;
                    """)
        }

        // FTS5 writes what a statement gives it out as a segment, and merges
        // segments as they pile up: by default (`automerge` 4) whenever four
        // are on one level. `client add` writes an index 500 articles at a
        // time, and merging that often took a quarter of indexing them (10,000
        // articles in 20 chunks: 0.99 s against 0.73 s merging at eight, for
        // as many segments in the end and the same search times).
        migrator.registerMigration("v12-search-merges-at-eight") { db in
            for part in SearchIndex.Part.allCases { try SearchIndex.setAutomerge(SearchIndex.automerge, part, db) }
        }

        return migrator
    }
}
