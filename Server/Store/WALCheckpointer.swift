import GRDB
import GRDBSQLite
import Synchronization

/// Checkpoints the server database's WAL in a writer turn of its own, after
/// the commit that grew it past `threshold` pages, instead of inside that
/// commit as SQLite's automatic checkpoint does. The push that committed is
/// answered first, and copying its pages into the main file overlaps with
/// the next request's transfer and parsing (the checkpoint was 8 % of the
/// server's CPU in a library's first push, all of it before the answer).
final class WALCheckpointer: Sendable {
    /// Pages, as SQLite's automatic checkpoint counts them (its default).
    static let threshold: Int32 = 1_000

    private let database: DatabasePool
    /// Whether a checkpoint is already waiting for its turn.
    private let asked = Atomic<Bool>(false)

    /// Takes over checkpointing from `database`'s writer connection, for as
    /// long as the pool lives (the pool keeps its writer).
    init(_ database: DatabasePool) throws {
        self.database = database
        try database.writeWithoutTransaction { db in
            // A WAL hook replaces the automatic checkpoint (sqlite3_wal_hook);
            // SQLite calls it after every commit with the WAL's length.
            _ = sqlite3_wal_hook(
                db.sqliteConnection,
                { context, _, _, pages in
                    if pages >= WALCheckpointer.threshold {
                        Unmanaged<WALCheckpointer>.fromOpaque(context!).takeUnretainedValue().askForCheckpoint()
                    }
                    return SQLITE_OK
                }, Unmanaged.passUnretained(self).toOpaque())
        }
    }

    private func askForCheckpoint() {
        guard !asked.exchange(true, ordering: .acquiringAndReleasing) else { return }
        database.asyncWriteWithoutTransaction { db in
            self.asked.store(false, ordering: .releasing)
            // Passive, as the automatic one: readers are not waited for, and
            // what they still read is copied by a later checkpoint. One that
            // fails leaves the WAL to the next.
            _ = try? db.checkpoint(.passive)
        }
    }
}
