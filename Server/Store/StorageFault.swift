import GRDB

/// A failure of the storage under the server rather than of the request:
/// what a person running the server must act on. Recognised from SQLite's
/// and PostgreSQL's own error codes; anything else is not one of these.
public enum StorageFault: Equatable, Sendable {
    /// The disk the database writes to is full (SQLite `SQLITE_FULL`,
    /// PostgreSQL 53100). The request's transaction was rolled back whole.
    case diskFull
    /// The database refuses writes: a read-only file or folder, or a
    /// PostgreSQL server in read-only mode (25006).
    case readOnly
    /// Another process holds the database's lock past the wait allowed
    /// (SQLite `SQLITE_BUSY`/`SQLITE_LOCKED`, PostgreSQL's lock timeout 55P03).
    case busy

    public init?(_ error: any Error) {
        if let error = error as? DatabaseError {
            switch error.resultCode {
            case .SQLITE_FULL: self = .diskFull
            case .SQLITE_READONLY: self = .readOnly
            case .SQLITE_BUSY, .SQLITE_LOCKED: self = .busy
            // An I/O error while writing, when the disk is full, can surface
            // as SQLITE_IOERR_WRITE; it is not told apart from other write
            // errors by SQLite, so it stays a plain failure.
            default: return nil
            }
            return
        }
        if let error = error as? PostgresSyncStore.DatabaseFailure {
            switch error.sqlState {
            case "53100": self = .diskFull
            case "25006": self = .readOnly
            case "55P03": self = .busy
            default: return nil
            }
            return
        }
        return nil
    }
}
