import Dispatch
import GRDB
import GRDBSQLite
import Synchronization

/// Copies a WAL database's log into its main file on a connection and a
/// queue of its own, once a commit has grown the log past `threshold`
/// pages, instead of inside that commit as SQLite's automatic checkpoint
/// does.
///
/// The automatic checkpoint runs in the committing thread, which waits for
/// the copy: on a device it was a tenth of the work of a library's full
/// sync (every pulled page committed, then copied before the next could be
/// applied); on the server, 8 % of a library's first push, before its
/// answer. Here the copy runs beside the writer's next transaction. A
/// passive checkpoint waits for no one: it copies the frames that are
/// committed and that no reader still needs, and a later one copies the
/// rest; the writer starts the log over once all of it has been copied.
public final class LogCheckpointer: Sendable {
    /// Pages, as SQLite's automatic checkpoint counts them (its default).
    public static let threshold: Int32 = 1_000

    /// The checkpointing connection, used on `queue` only.
    nonisolated(unsafe) private let connection: OpaquePointer
    private let queue = DispatchQueue(label: "readsync.log-checkpointer")
    /// Whether a checkpoint is already waiting for its turn.
    private let asked = Atomic<Bool>(false)
    private let checkpoints = Atomic<Int>(0)

    /// Takes over checkpointing from `pool`'s writer connection. Call
    /// `detach(from:)` before the checkpointer goes while the pool stays.
    public init(_ pool: DatabasePool) throws {
        var handle: OpaquePointer?
        let opened = sqlite3_open_v2(pool.path, &handle, SQLITE_OPEN_READWRITE, nil)
        guard opened == SQLITE_OK, let handle else {
            let message = handle.flatMap { sqlite3_errmsg($0) }.map { String(cString: $0) }
            sqlite3_close_v2(handle)
            throw DatabaseError(resultCode: ResultCode(rawValue: opened), message: message)
        }
        // A connection learns that the database is in WAL mode when it first
        // reads it; until then a checkpoint finds no log to copy.
        let read = sqlite3_exec(handle, "SELECT count(*) FROM sqlite_schema", nil, nil, nil)
        guard read == SQLITE_OK else {
            let message = String(cString: sqlite3_errmsg(handle))
            sqlite3_close_v2(handle)
            throw DatabaseError(resultCode: ResultCode(rawValue: read), message: message)
        }
        connection = handle
        try pool.writeWithoutTransaction { db in
            // The WAL hook replaces the automatic checkpoint (which is itself
            // a WAL hook); SQLite calls it after every commit with the log's
            // length in pages.
            _ = sqlite3_wal_hook(
                db.sqliteConnection,
                { context, _, _, pages in
                    if pages >= LogCheckpointer.threshold {
                        Unmanaged<LogCheckpointer>.fromOpaque(context!).takeUnretainedValue().askForCheckpoint()
                    }
                    return SQLITE_OK
                }, Unmanaged.passUnretained(self).toOpaque())
        }
    }

    /// Gives `pool`'s writer back SQLite's automatic checkpoint, so that
    /// its commits no longer call this checkpointer.
    public func detach(from pool: DatabasePool) {
        try? pool.writeWithoutTransaction { db in _ = sqlite3_wal_autocheckpoint(db.sqliteConnection, Self.threshold) }
    }

    /// Returns once the checkpoint asked for so far, if any, has run.
    public func waitUntilIdle() {
        queue.sync {}
    }

    /// How many checkpoints have run (for tests).
    public var checkpointsRun: Int { checkpoints.load(ordering: .acquiring) }

    private func askForCheckpoint() {
        guard !asked.exchange(true, ordering: .acquiringAndReleasing) else { return }
        // The block keeps the checkpointer (and its connection) until it has run.
        queue.async { [self] in
            asked.store(false, ordering: .releasing)
            // One that fails (the disk full, a checkpoint already running)
            // leaves the log to the next.
            _ = sqlite3_wal_checkpoint_v2(connection, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
            checkpoints.add(1, ordering: .releasing)
        }
    }

    deinit {
        sqlite3_close_v2(connection)
    }
}
