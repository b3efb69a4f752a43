import Foundation
import GRDB
import PrivateStorage

/// An online backup of the server's database: a consistent copy taken while
/// the server runs and keeps accepting pushes (SQLite's `VACUUM INTO`, from a
/// connection of its own: in WAL mode a reader neither waits for the writer
/// nor holds it up). The copy is a database file like `server.sqlite`;
/// restoring it is putting it in place of that file while the server is
/// stopped, with the old `-wal` and `-shm` files removed. Devices that synced
/// after the backup notice what it lacks (`KnownHistory`) and send it again.
public enum ServerBackup {
    public enum Failure: Error, CustomStringConvertible {
        case noDatabase(String)
        case exists(String)
        case damaged(String, String)
        case unwritable(String, String)

        public var description: String {
            switch self {
            case .noDatabase(let path): return "no server database at \(path)"
            case .exists(let path): return "\(path) already exists; name a new file, a backup never overwrites one"
            case .damaged(let path, let problem): return "the copy at \(path) failed its integrity check (\(problem)); it was removed"
            case .unwritable(let path, let reason): return "cannot write the backup to \(path): \(reason)"
            }
        }
    }

    /// Copies the database in `dataDirectory` to `file` and checks the copy;
    /// returns its size in bytes.
    @discardableResult
    public static func write(dataDirectory: URL, to file: URL) throws -> Int {
        let source = dataDirectory.appendingPathComponent("server.sqlite").path
        guard FileManager.default.fileExists(atPath: source) else { throw Failure.noDatabase(source) }
        // The copy holds every user's library: made empty and 0600 first
        // (VACUUM INTO fills an empty file; it would create one 0644 under
        // the usual umask). Exclusive creation is also the never-overwrite check.
        let created: Bool
        do {
            created = try PrivateFiles.makeFile(file.path)
        } catch let error as PrivateFileError {
            throw Failure.unwritable(file.path, error.reason)
        }
        guard created else { throw Failure.exists(file.path) }
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(10)
        do {
            let database = try DatabaseQueue(path: source, configuration: configuration)
            // Outside any transaction: VACUUM INTO reads one snapshot of its own.
            try database.writeWithoutTransaction { db in try db.execute(sql: "VACUUM INTO ?", arguments: [file.path]) }
            try database.close()
        } catch {
            try? FileManager.default.removeItem(at: file)
            throw error
        }

        let copy = try DatabaseQueue(path: file.path, configuration: configuration)
        let check = try copy.read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") }
        try copy.close()
        guard check == ["ok"] else {
            try? FileManager.default.removeItem(at: file)
            throw Failure.damaged(file.path, check.prefix(3).joined(separator: "; "))
        }
        return (try FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int) ?? 0
    }
}
