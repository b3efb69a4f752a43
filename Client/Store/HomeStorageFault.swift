import GRDB

#if canImport(Glibc)
import Glibc
#endif

/// A failure of the storage under a device's library rather than of the
/// command: what the person must act on (free space, fix permissions, wait
/// for another process). Recognised from SQLite's result codes; anything
/// else is not one of these and keeps its own error.
public enum HomeStorageFault: Equatable, Sendable {
    /// The disk holding the home is full (`SQLITE_FULL`).
    case diskFull
    /// The library cannot be written: a read-only file, folder or disk (`SQLITE_READONLY`).
    case readOnly
    /// Another process held the library's lock past the busy timeout
    /// (`SQLITE_BUSY`, `SQLITE_LOCKED`).
    case busy

    /// `home`: the folder whose disk to look at when SQLite only says "I/O error".
    init?(_ error: any Error, home: String?) {
        guard let error = error as? DatabaseError else { return nil }
        // `resultCode` is the primary code, so SQLITE_READONLY_DBMOVED and
        // the like land here too.
        switch error.resultCode {
        case .SQLITE_FULL: self = .diskFull
        case .SQLITE_READONLY: self = .readOnly
        case .SQLITE_BUSY, .SQLITE_LOCKED: self = .busy
        // SQLite says SQLITE_FULL only for a failed write to the database or
        // its log. Its shared-memory file (-shm), made anew by each process
        // that opens the library, fails on ENOSPC as SQLITE_IOERR_SHMSIZE,
        // and the first command on a full disk meets that: an I/O error
        // while the home's disk has (almost) no room left is the full disk.
        case .SQLITE_IOERR where home.map(Self.isAlmostFull) == true: self = .diskFull
        // The same file on a read-only disk cannot be made at all.
        case .SQLITE_CANTOPEN where home.map(Self.isReadOnlyDisk) == true: self = .readOnly
        default: return nil
        }
    }

    /// Under a megabyte free for this account on the disk holding `folder`:
    /// a write of a few pages may have failed for want of room.
    private static func isAlmostFull(_ folder: String) -> Bool {
        var disk = statvfs()
        guard statvfs(folder, &disk) == 0 else { return false }
        return Int64(disk.f_bavail) * Int64(disk.f_frsize) < 1_048_576
    }

    private static func isReadOnlyDisk(_ folder: String) -> Bool {
        var disk = statvfs()
        guard statvfs(folder, &disk) == 0 else { return false }
        return disk.f_flag & UInt(ST_RDONLY) != 0
    }

    /// What was being written when the storage failed: it decides what the
    /// message can promise, since each is rolled back differently.
    public enum Activity: Equatable, Sendable {
        /// One command (add, note, read…): its one transaction rolled back whole.
        case command
        /// Commands committed in batches (import): the batch in progress
        /// rolled back, earlier batches stay.
        case batch
        /// A sync storing what it pulled or recording what it pushed: the
        /// outbox is only cleared with the server's acknowledgement, in the
        /// same transaction, so this device's changes stay queued.
        case sync
    }

    /// One sentence naming `home` and saying what was kept.
    func message(home: String, during activity: Activity) -> String {
        let problem: String
        let remedy: String
        switch self {
        case .diskFull:
            problem = "the disk holding \(home) is full"
            remedy = "free some space on it and"
        case .readOnly:
            problem = "the library in \(home) cannot be written (its file, folder or disk is read-only)"
            remedy = "make it writable and"
        case .busy:
            problem = "the library in \(home) is locked by another process, still after 10 seconds"
            remedy = "once that process is done,"
        }
        switch activity {
        case .command:
            return "\(problem); nothing of this command was saved. \(remedy.capitalizedFirst) run it again"
        case .batch:
            return "\(problem); the command stopped and nothing of the batch it was saving was kept (earlier batches were). "
                + "\(remedy.capitalizedFirst) run it again: it goes on where it stopped"
        case .sync:
            return "\(problem), so the sync stopped; nothing was lost and this device's changes stay queued for the next sync. "
                + "\(remedy.capitalizedFirst) sync again"
        }
    }
}

extension String {
    fileprivate var capitalizedFirst: String { prefix(1).uppercased() + dropFirst() }
}
