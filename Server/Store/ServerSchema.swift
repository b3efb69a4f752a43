import Foundation
import GRDB

/// The server database's schema, as named, ordered migrations.
enum ServerSchema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE meta (
                        key   TEXT PRIMARY KEY,
                        value TEXT NOT NULL
                    ) STRICT, WITHOUT ROWID;

                    CREATE TABLE users (
                        id          INTEGER PRIMARY KEY,
                        name        TEXT NOT NULL UNIQUE,
                        token_hash  TEXT UNIQUE,          -- SHA-256 of the token; NULL once revoked
                        created_at  TEXT NOT NULL,
                        last_seq    INTEGER NOT NULL DEFAULT 0
                    ) STRICT;

                    -- Each user's merged registers.
                    CREATE TABLE registers (
                        user_id   INTEGER NOT NULL REFERENCES users(id),
                        kind      TEXT NOT NULL,
                        entity    TEXT NOT NULL,
                        field     TEXT NOT NULL,
                        value     TEXT NOT NULL,
                        timestamp TEXT NOT NULL,
                        vector    TEXT NOT NULL,
                        PRIMARY KEY (user_id, kind, entity, field)
                    ) STRICT, WITHOUT ROWID;

                    -- Each user's accepted changes, by sequence number: what pulls read.
                    -- A change superseded by a later one that saw it is dropped.
                    CREATE TABLE changes (
                        user_id   INTEGER NOT NULL REFERENCES users(id),
                        seq       INTEGER NOT NULL,
                        origin    TEXT NOT NULL,          -- the node that wrote it
                        kind      TEXT NOT NULL,
                        entity    TEXT NOT NULL,
                        field     TEXT NOT NULL,
                        value     TEXT NOT NULL,
                        timestamp TEXT NOT NULL,
                        vector    TEXT NOT NULL,
                        PRIMARY KEY (user_id, seq)
                    ) STRICT, WITHOUT ROWID;
                    CREATE INDEX changes_by_register ON changes (user_id, kind, entity, field);
                    """)
        }
        migrator.registerMigration("v2-rowid-tables") { db in
            // `registers` and `changes` as ordinary rowid tables (their keys
            // become unique indexes). A WITHOUT ROWID table keeps whole rows
            // in its b-tree, interior pages included, and these rows carry
            // article bodies of several KB: the trees grew deep, every seek
            // read more pages and every insert dirtied more. SQLite advises
            // WITHOUT ROWID only for rows well under a twentieth of a page.
            try db.execute(
                sql: """
                    CREATE TABLE registers_v2 (
                        user_id   INTEGER NOT NULL REFERENCES users(id),
                        kind      TEXT NOT NULL,
                        entity    TEXT NOT NULL,
                        field     TEXT NOT NULL,
                        value     TEXT NOT NULL,
                        timestamp TEXT NOT NULL,
                        vector    TEXT NOT NULL,
                        PRIMARY KEY (user_id, kind, entity, field)
                    ) STRICT;
                    INSERT INTO registers_v2 (user_id, kind, entity, field, value, timestamp, vector)
                        SELECT user_id, kind, entity, field, value, timestamp, vector FROM registers;
                    DROP TABLE registers;
                    ALTER TABLE registers_v2 RENAME TO registers;

                    CREATE TABLE changes_v2 (
                        user_id   INTEGER NOT NULL REFERENCES users(id),
                        seq       INTEGER NOT NULL,
                        origin    TEXT NOT NULL,
                        kind      TEXT NOT NULL,
                        entity    TEXT NOT NULL,
                        field     TEXT NOT NULL,
                        value     TEXT NOT NULL,
                        timestamp TEXT NOT NULL,
                        vector    TEXT NOT NULL,
                        PRIMARY KEY (user_id, seq)
                    ) STRICT;
                    INSERT INTO changes_v2 (user_id, seq, origin, kind, entity, field, value, timestamp, vector)
                        SELECT user_id, seq, origin, kind, entity, field, value, timestamp, vector FROM changes ORDER BY user_id, seq;
                    DROP TABLE changes;
                    ALTER TABLE changes_v2 RENAME TO changes;
                    CREATE INDEX changes_by_register ON changes (user_id, kind, entity, field);
                    """)
        }
        migrator.registerMigration("v3-state-is-feed") { db in
            // Every value stored once: the change log already holds, per field,
            // the versions no accepted write has seen, and their merge is the
            // register (see `ServerMerge`); `registers` only repeated it. The
            // log becomes the one table. A version's origin is now the device
            // that pushed it; the versions stored so far keep their writer,
            // which holds them too.
            try db.execute(
                sql: """
                    DROP TABLE registers;
                    DROP INDEX changes_by_register;
                    ALTER TABLE changes RENAME TO field_versions;
                    CREATE INDEX field_versions_by_field ON field_versions (user_id, kind, entity, field);
                    """)
        }
        migrator.registerMigration("v4-history") { db in
            // The user's history as commits (see `KnownHistory`): each push
            // that accepted changes is a commit, with the last sequence number
            // it gave out and a random token. What came before this migration
            // is one commit. `lineage` stays empty, so the users' epochs stay
            // the database's and no device resynchronises for the upgrade.
            try db.execute(
                sql: """
                    ALTER TABLE users ADD COLUMN lineage TEXT NOT NULL DEFAULT '';
                    CREATE TABLE history (
                        user_id   INTEGER NOT NULL REFERENCES users(id),
                        last_seq  INTEGER NOT NULL,
                        token     TEXT NOT NULL,
                        PRIMARY KEY (user_id, last_seq)
                    ) STRICT, WITHOUT ROWID;
                    INSERT INTO history (user_id, last_seq, token) SELECT id, last_seq, lower(hex(randomblob(8))) FROM users WHERE last_seq > 0;
                    """)
        }
        migrator.registerMigration("v5-devices") { db in
            // The devices of each user, by node id: what `user devices` lists,
            // and per device the token of its last push
            // (`PushChain`), by which a second device under the same id shows.
            try db.execute(
                sql: """
                    CREATE TABLE devices (
                        user_id     INTEGER NOT NULL REFERENCES users(id),
                        node        TEXT NOT NULL,
                        name        TEXT NOT NULL DEFAULT '',
                        first_seen  TEXT NOT NULL,
                        last_seen   TEXT NOT NULL,
                        pulled      INTEGER NOT NULL DEFAULT 0,   -- the cursor its last pull reached
                        push_token  TEXT,
                        PRIMARY KEY (user_id, node)
                    ) STRICT;
                    """)
        }
        migrator.registerMigration("v6-collection") { db in
            // Collecting deleted articles (`Tombstone`): per user and deleted
            // article, since when (the server's clock) its family has held
            // still, and through which sequence number; devices retired for
            // being away too long. Every node that pushed is a device from now
            // on, not seen pulling yet: one that never comes back holds the
            // collection back until it is retired, rather than being passed
            // by unseen.
            try db.execute(
                sql: """
                    ALTER TABLE devices ADD COLUMN retired_at TEXT;
                    CREATE TABLE trash (
                        user_id  INTEGER NOT NULL REFERENCES users(id),
                        article  TEXT NOT NULL,
                        since    TEXT NOT NULL,
                        through  INTEGER NOT NULL,
                        PRIMARY KEY (user_id, article)
                    ) STRICT;
                    """)
            let now = Date().formatted(.iso8601)
            try db.execute(
                sql: """
                    INSERT INTO devices (user_id, node, first_seen, last_seen, pulled)
                    SELECT DISTINCT user_id, origin, ?, ?, 0 FROM field_versions WHERE true
                    ON CONFLICT (user_id, node) DO NOTHING
                    """, arguments: [now, now])
        }
        migrator.registerMigration("v7-wallabag-credentials") { db in
            // What wallabag apps sign in with (`readsync user wallabag`):
            // a client id, and the SHA-256 of the client secret and of the
            // password, all random; NULL until made, and again once revoked.
            try db.execute(
                sql: """
                    ALTER TABLE users ADD COLUMN wallabag_client_id TEXT;
                    ALTER TABLE users ADD COLUMN wallabag_secret_hash TEXT;
                    ALTER TABLE users ADD COLUMN wallabag_password_hash TEXT;
                    CREATE UNIQUE INDEX users_by_wallabag_client ON users(wallabag_client_id);
                    """)
        }
        migrator.registerMigration("v8-web-password") { db in
            // The bcrypt hash of the password for the web reader
            // (`readsync user password`); NULL until one is set.
            try db.execute(sql: "ALTER TABLE users ADD COLUMN web_password_hash TEXT")
        }
        migrator.registerMigration("v9-entities") { db in
            // An entity's stored versions are found through a number of its
            // own, `born` (the sequence number of the first version stored
            // of it), not through an index of its kind, id and field. Entity
            // ids are random, so every version inserted into that index went
            // to a random place in it: a third of the writer's work in a
            // library's first push (BENCHMARKS, eighteenth pass; what the
            // change bought, nineteenth). A new
            // entity's `born` is larger than any before it, so its versions
            // are appended to `field_versions_by_entity`; only its one row in
            // `entities` goes to a random place. Any number unique to the
            // entity does for the entities already stored: the least
            // sequence number of their versions.
            try db.execute(
                sql: """
                    CREATE TABLE entities (
                        user_id  INTEGER NOT NULL REFERENCES users(id),
                        kind     TEXT NOT NULL,
                        entity   TEXT NOT NULL,
                        born     INTEGER NOT NULL,
                        PRIMARY KEY (user_id, kind, entity)
                    ) STRICT, WITHOUT ROWID;
                    INSERT INTO entities (user_id, kind, entity, born)
                        SELECT user_id, kind, entity, min(seq) FROM field_versions GROUP BY user_id, kind, entity;
                    ALTER TABLE field_versions ADD COLUMN born INTEGER NOT NULL DEFAULT 0;
                    UPDATE field_versions SET born = (
                        SELECT e.born FROM entities e
                        WHERE e.user_id = field_versions.user_id AND e.kind = field_versions.kind AND e.entity = field_versions.entity);
                    DROP INDEX field_versions_by_field;
                    CREATE INDEX field_versions_by_entity ON field_versions (user_id, born, field);
                    """)
        }
        return migrator
    }
}
