import Foundation
import Logging
import PostgresNIO

/// The PostgreSQL schema, as named, ordered migrations (as `ServerSchema`
/// for SQLite). The tables are the SQLite store's as of its `v6-collection`:
/// one schema, two engines. Text that is compared or ordered (ids, times)
/// is `COLLATE "C"`, byte order as in SQLite, whatever the database's locale.
/// Not here yet: SQLite's `v9-entities` (versions found through an entity's
/// number rather than an index of random ids), measured only on SQLite.
enum PostgresSchema {
    static let migrations: [(name: String, statements: [String])] = [
        (
            "v1",
            [
                """
                CREATE TABLE meta (
                    key   TEXT COLLATE "C" PRIMARY KEY,
                    value TEXT NOT NULL
                )
                """,
                """
                CREATE TABLE users (
                    id          BIGSERIAL PRIMARY KEY,
                    name        TEXT COLLATE "C" NOT NULL UNIQUE,
                    token_hash  TEXT UNIQUE,            -- SHA-256 of the token; NULL once revoked
                    created_at  TEXT NOT NULL,
                    last_seq    BIGINT NOT NULL DEFAULT 0,
                    lineage     TEXT NOT NULL DEFAULT ''
                )
                """,
                // Each field's versions that no accepted write has seen, numbered
                // by the sequence they were accepted under: the change feed, and
                // (merged) the state (see `ServerMerge`).
                """
                CREATE TABLE field_versions (
                    user_id   BIGINT NOT NULL REFERENCES users(id),
                    seq       BIGINT NOT NULL,
                    origin    TEXT COLLATE "C" NOT NULL,
                    kind      TEXT COLLATE "C" NOT NULL,
                    entity    TEXT COLLATE "C" NOT NULL,
                    field     TEXT COLLATE "C" NOT NULL,
                    value     TEXT NOT NULL,
                    timestamp TEXT NOT NULL,
                    vector    TEXT NOT NULL,
                    PRIMARY KEY (user_id, seq)
                )
                """,
                "CREATE INDEX field_versions_by_field ON field_versions (user_id, kind, entity, field)",
                // Each commit's last sequence number and token (`KnownHistory`).
                """
                CREATE TABLE history (
                    user_id   BIGINT NOT NULL REFERENCES users(id),
                    last_seq  BIGINT NOT NULL,
                    token     TEXT NOT NULL,
                    PRIMARY KEY (user_id, last_seq)
                )
                """,
                """
                CREATE TABLE devices (
                    user_id     BIGINT NOT NULL REFERENCES users(id),
                    node        TEXT COLLATE "C" NOT NULL,
                    name        TEXT NOT NULL DEFAULT '',
                    first_seen  TEXT COLLATE "C" NOT NULL,
                    last_seen   TEXT COLLATE "C" NOT NULL,
                    pulled      BIGINT NOT NULL DEFAULT 0,   -- the cursor it last asked from
                    push_token  TEXT,
                    retired_at  TEXT,
                    PRIMARY KEY (user_id, node)
                )
                """,
                """
                CREATE TABLE trash (
                    user_id  BIGINT NOT NULL REFERENCES users(id),
                    article  TEXT COLLATE "C" NOT NULL,
                    since    TEXT COLLATE "C" NOT NULL,
                    through  BIGINT NOT NULL,
                    PRIMARY KEY (user_id, article)
                )
                """,
            ]
        ),
        // As SQLite's `v7-wallabag-credentials`.
        (
            "v2-wallabag-credentials",
            [
                """
                ALTER TABLE users ADD COLUMN wallabag_client_id TEXT COLLATE "C" UNIQUE,
                                  ADD COLUMN wallabag_secret_hash TEXT,
                                  ADD COLUMN wallabag_password_hash TEXT
                """
            ]
        ),
        // As SQLite's `v8-web-password`.
        (
            "v3-web-password",
            [
                "ALTER TABLE users ADD COLUMN web_password_hash TEXT"
            ]
        ),
    ]

    /// Every table, parents first (what a copy of the store takes).
    static let tables = ["meta", "users", "field_versions", "history", "devices", "trash"]

    /// Applies the migrations not applied yet, in order, in one transaction,
    /// in `schema` (created if missing; tests give each store one) or the
    /// database's default. Servers starting together on one database take
    /// turns (an advisory lock), so each migration runs once.
    static func migrate(_ connection: PostgresConnection, schema: String?, logger: Logger) async throws {
        try await connection.withTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(lockKey))", logger: logger)
            if let schema {
                // Under the lock: two CREATE SCHEMA IF NOT EXISTS at once can still collide.
                try await connection.query(PostgresQuery(unsafeSQL: "CREATE SCHEMA IF NOT EXISTS \"\(schema)\""), logger: logger)
                try await connection.query(PostgresQuery(unsafeSQL: "SET search_path TO \"\(schema)\""), logger: logger)
            }
            try await connection.query(
                """
                CREATE TABLE IF NOT EXISTS readsync_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)
                """, logger: logger)
            var applied: Set<String> = []
            for try await name in try await connection.query("SELECT name FROM readsync_migrations", logger: logger).decode(String.self) {
                applied.insert(name)
            }
            for migration in migrations where !applied.contains(migration.name) {
                for statement in migration.statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                let now = Date().formatted(.iso8601)
                try await connection.query("INSERT INTO readsync_migrations (name, applied_at) VALUES (\(migration.name), \(now))", logger: logger)
            }
        }
    }

    /// The advisory lock migrations hold ("readsync" in ASCII).
    private static let lockKey: Int64 = 0x7265_6164_7379_6E63
}
