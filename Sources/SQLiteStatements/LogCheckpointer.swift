import Dispatch
import GRDB
import GRDBSQLite
import Synchronization

/// Copies a WAL database's log into its main file on a connection and a
/// queue of its own, once a commit has grown the log past `threshold`
/// pages (`thresholdBytes`), instead of inside that commit as SQLite's
/// automatic checkpoint does.
///
/// The automatic checkpoint runs in the committing thread, which waits for
/// the copy: on a device it was a tenth of the work of a library's full
/// sync (every pulled page committed, then copied before the next could be
/// applied); on the server, 8 % of a library's first push, before its
/// answer. Here the copy runs beside the writer's next transaction. A
/// passive checkpoint waits for no one: it copies the frames that are
/// committed and that no reader still needs, and a later one copies the
/// rest.
///
/// The writer starts the log over only at the start of a transaction that
/// finds all of it copied; a writer that commits again and again before a
/// copy ends (the batches of an import, the pages of a first pull) would
/// grow it without end. Past `limit` pages the writer waits for the copy
/// under way and copies the rest itself, as the automatic checkpoint would:
/// the log stays within a few times `threshold`.
public final class LogCheckpointer: Sendable {
    /// Bytes of log past which a copy is asked for: SQLite's automatic
    /// checkpoint's default (1,000 pages) at its default page size (4 KB).
    /// Counted in bytes, not pages: a database of larger pages (the
    /// server's, `SQLiteSyncStore.pageSize`) would otherwise keep a log
    /// eight times as long.
    public static let thresholdBytes = 1_000 * 4_096
    /// `thresholdBytes` in this database's pages, as SQLite counts the log.
    public let threshold: Int32
    /// Pages past which the writer catches the copies up itself.
    public var limit: Int32 { 4 * threshold }

    /// The checkpointing connection, used on `queue` only (and closed by `close`).
    nonisolated(unsafe) private let connection: OpaquePointer
    private let queue = DispatchQueue(label: "readsync.log-checkpointer")
    /// Whether a checkpoint is already waiting for its turn.
    private let asked = Atomic<Bool>(false)
    private let closed = Atomic<Bool>(false)
    private let checkpoints = Atomic<Int>(0)

    /// Takes over checkpointing from `pool`'s writer connection until
    /// `close(detachingFrom:)`, which must be called before the pool closes
    /// (the writer's hook holds the checkpointer until then).
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
        let pageSize = try pool.read { db in try Int.fetchOne(db, sql: "PRAGMA page_size") } ?? 4_096
        threshold = Int32(max(1, Self.thresholdBytes / pageSize))
        try pool.writeWithoutTransaction { db in
            // The WAL hook replaces the automatic checkpoint (which is itself
            // a WAL hook); SQLite calls it after every commit with the log's
            // length in pages. It holds the checkpointer: a checkpointer
            // never closed is kept, not called once freed.
            _ = sqlite3_wal_hook(
                db.sqliteConnection,
                { context, writer, _, pages in
                    let checkpointer = Unmanaged<LogCheckpointer>.fromOpaque(context!).takeUnretainedValue()
                    if pages >= checkpointer.limit {
                        checkpointer.catchUp(writer!)
                    } else if pages >= checkpointer.threshold {
                        checkpointer.askForCheckpoint()
                    }
                    return SQLITE_OK
                }, Unmanaged.passRetained(self).toOpaque())
        }
    }

    /// Gives `pool`'s writer back SQLite's automatic checkpoint, waits for
    /// the copy under way and closes the checkpointer's connection. Later
    /// calls do nothing.
    public func close(detachingFrom pool: DatabasePool) {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        // A pool already closed has no writer left to call the hook.
        try? pool.writeWithoutTransaction { db in
            if let writer = db.sqliteConnection { _ = sqlite3_wal_autocheckpoint(writer, threshold) }
        }
        queue.sync { _ = sqlite3_close_v2(connection) }
        Unmanaged.passUnretained(self).release()  // the hook's
    }

    /// Returns once the checkpoint asked for so far, if any, has run.
    public func waitUntilIdle() {
        queue.sync {}
    }

    /// How many checkpoints have run beside the writer (for tests).
    public var checkpointsRun: Int { checkpoints.load(ordering: .acquiring) }

    private func askForCheckpoint() {
        guard !asked.exchange(true, ordering: .acquiringAndReleasing) else { return }
        queue.async { [self] in
            asked.store(false, ordering: .releasing)
            // One that fails (the disk full, a checkpoint already running)
            // leaves the log to the next.
            _ = sqlite3_wal_checkpoint_v2(connection, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
            checkpoints.add(1, ordering: .releasing)
        }
    }

    /// On the writer, from its hook: waits for the copy under way (which
    /// never waits for the writer), then copies what is left.
    private func catchUp(_ writer: OpaquePointer) {
        queue.sync {}
        _ = sqlite3_wal_checkpoint_v2(writer, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
    }

    deinit {
        // Only a checkpointer whose hook was never installed gets here open.
        if !closed.load(ordering: .acquiring) { sqlite3_close_v2(connection) }
    }
}
