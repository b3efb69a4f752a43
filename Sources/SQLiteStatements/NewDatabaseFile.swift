import Foundation
import GRDB

/// What a database file can only be given while it is new.
///
/// A few of SQLite's settings take effect only before the file has its first
/// page (the page size, `auto_vacuum`), and a `DatabasePool` turns a file to
/// WAL as it opens it, which writes that page. So a store that wants them
/// creates its file empty (with the permissions it wants), then sets them here
/// and turns the file to WAL itself, before opening the pool. An existing
/// database keeps what it has: changing them would rewrite the whole file.
public enum NewDatabaseFile {
    /// Runs `pragmas` (statements such as `PRAGMA page_size = 32768`), then
    /// turns the file to WAL, when the file at `path` is empty: new, or made
    /// by a run that stopped before this step.
    public static func settle(_ path: String, pragmas: String, configuration: Configuration) throws {
        guard (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) == 0 else { return }
        let new = try DatabaseQueue(path: path, configuration: configuration)
        try new.writeWithoutTransaction { db in try db.execute(sql: pragmas + "; PRAGMA journal_mode = WAL") }
        try new.close()
    }
}
