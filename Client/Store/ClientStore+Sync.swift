import Foundation
import GRDB
import ReadSyncCore

/// What sync reads and writes in the local store. Each method is one
/// transaction, so a sync cut off anywhere leaves a consistent library.
extension ClientStore {
    /// The server settings `init` stored, and where sync stands.
    struct SyncState {
        var serverURL: String?
        var token: String?
        var cursor: Int64
        var epoch: String?
        var lastSync: String?
    }

    func syncState() throws -> SyncState {
        try database.read { db in
            SyncState(
                serverURL: try MetaKey.serverURL.read(db), token: try MetaKey.serverToken.read(db),
                cursor: try MetaKey.cursor.read(db).flatMap { Int64($0) } ?? 0,
                epoch: try MetaKey.epoch.read(db), lastSync: try MetaKey.lastSync.read(db))
        }
    }

    /// Local writes not yet acknowledged by a server.
    func pendingChangeCount() throws -> Int {
        try database.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM change_log") ?? 0 }
    }

    /// The oldest unacknowledged local writes, at most `limit`, with the
    /// change-log sequence number of the last one.
    func pendingBatch(limit: Int) throws -> (changes: [Change], lastSeq: Int64)? {
        try database.read { db in
            let rows = try Row.fetchAll(db, sql: """
                SELECT seq, kind, entity, field, value, timestamp, vector FROM change_log ORDER BY seq LIMIT ?
                """, arguments: [limit])
            guard let last = rows.last else { return nil }
            let changes = try rows.map { row in
                Change(key: RegisterKey(kind: EntityKind(rawValue: row["kind"])!, entity: row["entity"], field: row["field"]),
                       register: try RegisterCodec.register(from: row))
            }
            return (changes, last["seq"])
        }
    }

    /// The server acknowledged every change-log row up to `seq`.
    func acknowledge(upTo seq: Int64) throws {
        try database.write { db in try db.execute(sql: "DELETE FROM change_log WHERE seq <= ?", arguments: [seq]) }
    }

    /// Applies one pulled page and moves the cursor, in one transaction.
    func applyPulled(_ changes: [Change], cursor: Int64) throws -> RemoteApply.Result {
        try database.write { db in
            let result = try RemoteApply(db: db, node: node, wallClock: wallClock).apply(changes)
            try MetaKey.cursor.write(String(cursor), db)
            return result
        }
    }

    /// Remembers the epoch of the server first synced with.
    func adoptEpoch(_ epoch: String) throws {
        try database.write { db in try MetaKey.epoch.write(epoch, db) }
    }

    /// The server is not the one the cursor belongs to (new epoch, or it lost
    /// changes): queue every register to be sent again and pull from zero.
    /// Merges are idempotent, so re-sending what the server has is harmless.
    func resetForResync(epoch: String) throws {
        try database.write { db in
            try db.execute(sql: """
                DELETE FROM change_log;
                INSERT INTO change_log (kind, entity, field, value, timestamp, vector)
                SELECT kind, entity, field, value, timestamp, vector FROM registers ORDER BY timestamp;
                """)
            try MetaKey.cursor.write("0", db)
            try MetaKey.epoch.write(epoch, db)
        }
    }

    func recordSuccessfulSync() throws {
        try database.write { db in try MetaKey.lastSync.write(ISOTime.string(milliseconds: wallClock.nowMilliseconds()), db) }
    }
}
