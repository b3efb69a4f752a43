import Foundation
import GRDB

/// The physical limit for storing the library: the same rows bulk-inserted
/// into plain tables with the same columns, one transaction, a fresh WAL
/// database, statements prepared once. Optionally an FTS5 index built after.
enum RawBaseline {
    struct Result {
        var insertSeconds: Double
        /// Building the FTS5 index after the insert (0 when not asked).
        var ftsSeconds: Double
    }

    static func insert(_ library: Library, into directory: URL, withFTS: Bool) throws -> Result {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var configuration = Configuration()
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = NORMAL") }
        let database = try DatabaseQueue(path: directory.appendingPathComponent("raw.sqlite").path, configuration: configuration)
        defer { try? database.close() }
        try database.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA journal_mode = WAL")
            try db.execute(
                sql: """
                    CREATE TABLE articles (id TEXT PRIMARY KEY, url TEXT, title TEXT NOT NULL, author TEXT, site TEXT, published TEXT,
                        content TEXT NOT NULL, excerpt TEXT NOT NULL, word_count INTEGER NOT NULL, added_at TEXT NOT NULL, deleted INTEGER NOT NULL) STRICT;
                    CREATE TABLE notes (id TEXT PRIMARY KEY, article_id TEXT NOT NULL, body TEXT NOT NULL, quote TEXT,
                        created_at TEXT NOT NULL, deleted INTEGER NOT NULL) STRICT;
                    CREATE INDEX notes_by_article ON notes (article_id, created_at);
                    CREATE TABLE read_state (article_id TEXT PRIMARY KEY, status TEXT NOT NULL, archived INTEGER NOT NULL,
                        favorite INTEGER NOT NULL, progress REAL NOT NULL, read_at TEXT) STRICT;
                    """)
        }
        let now = "2026-11-21T12:00:00.000Z"
        let insertSeconds = try Measure.seconds {
            try database.inTransaction { db in
                let article = try db.makeStatement(sql: "INSERT INTO articles VALUES (?, ?, ?, NULL, NULL, NULL, ?, ?, ?, ?, 0)")
                for (index, row) in library.articles.enumerated() {
                    try article.execute(arguments: [
                        articleID(index), row.url, row.title, row.content, String(row.content.prefix(200)), row.content.utf8.count / 6, now,
                    ])
                }
                let note = try db.makeStatement(sql: "INSERT INTO notes VALUES (?, ?, ?, NULL, ?, 0)")
                for (index, row) in library.notes.enumerated() {
                    try note.execute(arguments: ["note-\(index)", articleID(row.article), row.body, now])
                }
                let readState = try db.makeStatement(sql: "INSERT OR REPLACE INTO read_state VALUES (?, ?, 0, 0, ?, ?)")
                for row in library.readChanges {
                    let status = row.progress == 0 ? "unread" : row.progress == 100 ? "read" : "reading"
                    try readState.execute(arguments: [articleID(row.article), status, row.progress / 100, row.progress == 100 ? now : nil])
                }
                return .commit
            }
        }
        guard withFTS else { return Result(insertSeconds: insertSeconds, ftsSeconds: 0) }
        let ftsSeconds = try Measure.seconds {
            try database.write { db in
                try db.execute(
                    sql: """
                        CREATE VIRTUAL TABLE search_index USING fts5(title, body, notes, tokenize = 'unicode61 remove_diacritics 2');
                        INSERT INTO search_index (rowid, title, body, notes)
                        SELECT a.rowid, a.title, a.content,
                               coalesce((SELECT group_concat(body, char(10)) FROM notes WHERE article_id = a.id), '')
                        FROM articles a;
                        """)
            }
        }
        return Result(insertSeconds: insertSeconds, ftsSeconds: ftsSeconds)
    }

    private static func articleID(_ index: Int) -> String { String(format: "a%015x", index) }
}
