import FaultPoints
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
        var deviceName: String?
        /// The private certificate authority `init --ca-file` gave, if any.
        var caFile: String?
        var cursor: Int64
        var epoch: String?
        var checkpoint: HistoryCheckpoint?
        var lastPush: String?
        var pendingPush: String?
        var lastSync: String?
        /// What the server last said it takes in one request (`MetaKey.serverTakes`).
        var serverTakes: Int?

        /// What requests show the server of its history and of this device's
        /// pushes (`KnownHistory`).
        var known: KnownHistory { KnownHistory(epoch: epoch, checkpoint: checkpoint, lastPush: lastPush, pendingPush: pendingPush) }
    }

    func syncState() throws -> SyncState {
        try readOneStatement { db in
            // Every key in one statement: a sync reads its state at every step.
            let meta = try MetaKey.readAll(db)
            return SyncState(
                serverURL: meta[.serverURL], token: meta[.serverToken], deviceName: meta[.deviceName], caFile: meta[.caFile],
                cursor: meta[.cursor].flatMap { Int64($0) } ?? 0,
                epoch: meta[.epoch], checkpoint: meta[.checkpoint].flatMap(HistoryCheckpoint.init),
                lastPush: meta[.pushToken], pendingPush: meta[.pendingPushToken], lastSync: meta[.lastSync],
                serverTakes: meta[.serverTakes].flatMap { Int($0) })
        }
    }

    /// Remembers how many field versions the server takes in one request.
    func recordServerTakes(_ changes: Int) throws {
        try write(during: .sync) { db in try MetaKey.serverTakes.write(String(changes), db) }
    }

    /// Fields written here and not yet acknowledged by a server.
    func pendingChangeCount() throws -> Int {
        try readOneStatement { db in try Outbox.count(db) }
    }

    /// A batch of the outbox: the current versions of the oldest waiting
    /// fields (after `batch`, when given), at most `limit` of them and (past
    /// the first) at most `maxBytes` of values, with what acknowledging it needs.
    func pendingBatch(after batch: PendingBatch? = nil, limit: Int, maxBytes: Int = SyncProtocol.maxRequestBytes / 2) throws -> PendingBatch? {
        try read { db in
            let (changes, sent, whole, more) = try Outbox.batch(after: batch?.sent.last?.seq ?? 0, limit: limit, maxBytes: maxBytes, db)
            return changes.isEmpty ? nil : PendingBatch(changes: changes, sent: sent, whole: whole, more: more)
        }
    }

    struct PendingBatch: Sendable {
        let changes: [Change]
        let sent: [Outbox.Sent]
        /// The entities of `sent` whose every waiting field it holds.
        let whole: [Outbox.SentEntity]
        /// Whether more fields waited in the outbox past this batch when it was read.
        let more: Bool
    }

    /// This device's next push in its chain (`PushChain`): the token the
    /// server recorded last, and the one for this push, kept until recorded.
    func nextPushChain() throws -> PushChain {
        try write(during: .sync) { db in
            let token = try MetaKey.pendingPushToken.read(db) ?? PushChain.newToken()
            try MetaKey.pendingPushToken.write(token, db)
            return PushChain(previous: try MetaKey.pushToken.read(db), token: token)
        }
    }

    /// The server stored `batch`, at `checkpoint` of its history, and now
    /// records `pushToken` as this device's last push; its fields leave the
    /// outbox (those not written again since the batch was read).
    func acknowledge(_ batch: PendingBatch, checkpoint: HistoryCheckpoint?, pushToken: String? = nil) throws {
        try write(during: .sync) { db in
            try recordStored(batch, checkpoint: checkpoint, pushToken: pushToken, db)
            try Outbox.acknowledge(batch.sent, whole: batch.whole, node: node, db)
            FaultPoint.clientAckBeforeCommit.reach()
        }
    }

    /// `acknowledge` in two steps, so that the next push need not wait for
    /// the outbox: first what that push carries (the checkpoint, the push
    /// token) and the clock, then, while it is on its way, `takeOutOfOutbox`.
    /// A device that stops between the two sends the batch's fields again,
    /// and the server, which has them, ignores them.
    func recordStored(_ batch: PendingBatch, checkpoint: HistoryCheckpoint?, pushToken: String?) throws {
        try write(during: .sync) { db in try recordStored(batch, checkpoint: checkpoint, pushToken: pushToken, db) }
    }

    /// The second step of `acknowledge`: `batch`'s fields leave the outbox,
    /// those not written again since it was read.
    func takeOutOfOutbox(_ batch: PendingBatch) throws {
        try write(during: .sync) { db in
            try Outbox.acknowledge(batch.sent, whole: batch.whole, node: node, db)
            FaultPoint.clientAckBeforeCommit.reach()
        }
    }

    private func recordStored(_ batch: PendingBatch, checkpoint: HistoryCheckpoint?, pushToken: String?, _ db: Database) throws {
        if let newest = batch.changes.map(\.timestamp).max() { try Self.raisePublicClock(to: newest.encoded, db) }
        try Self.advanceCheckpoint(to: checkpoint, db)
        try Self.recordPushToken(pushToken, db)
    }

    /// Encoded timestamps sort as the timestamps do, so text max is enough.
    static func raisePublicClock(to timestamp: String, _ db: Database) throws {
        if try MetaKey.publicClock.read(db).map({ $0 < timestamp }) ?? true {
            try MetaKey.publicClock.write(timestamp, db)
        }
    }

    /// The server now records `pushToken` as this device's last push.
    func recordPushToken(_ pushToken: String?) throws {
        try write(during: .sync) { db in try Self.recordPushToken(pushToken, db) }
    }

    private static func recordPushToken(_ pushToken: String?, _ db: Database) throws {
        try MetaKey.pushToken.write(pushToken, db)
        // A server that keeps no chains (an older version) answers without a
        // token: then nothing is pending either.
        let pending = try MetaKey.pendingPushToken.read(db)
        if pushToken == nil || pending == pushToken { try MetaKey.pendingPushToken.write(nil, db) }
    }

    /// Keeps `checkpoint` when it is further than the one kept.
    private static func advanceCheckpoint(to checkpoint: HistoryCheckpoint?, _ db: Database) throws {
        guard let checkpoint else { return }
        if try MetaKey.checkpoint.read(db).flatMap(HistoryCheckpoint.init).map({ $0.seq < checkpoint.seq }) ?? true {
            try MetaKey.checkpoint.write(checkpoint.description, db)
        }
    }

    /// Applies one pulled page and moves the cursor (to `checkpoint` of the
    /// server's history), in one transaction. The last page of a pull
    /// (`last`) also brings the full-text index up to date for every article
    /// the pull changed: in the same transaction, so that an incremental
    /// pull commits once (a transaction of its own for the index made
    /// pulling 100 changes into 10,000 articles take 4.0 ms, not 3.4).
    func applyPulled(_ changes: [Change], cursor: Int64, checkpoint: HistoryCheckpoint?, last: Bool = false) throws -> RemoteApply.Result {
        try write(during: .sync) { db in
            let result = try RemoteApply(db: db, node: node, wallClock: wallClock).apply(changes)
            try MetaKey.cursor.write(String(cursor), db)
            try Self.advanceCheckpoint(to: checkpoint, db)
            if last {
                try SearchIndex.refreshQueued(db)
                FaultPoint.clientIndexBeforeCommit.reach()
            }
            FaultPoint.clientPullBeforeCommit.reach()
            return result
        }
    }

    /// Brings the full-text index up to date for every article pulled pages
    /// changed, when a pull was cut off before its last page (which does
    /// it: `applyPulled`). Returns how many articles were re-indexed.
    @discardableResult
    func refreshSearchIndex() throws -> Int {
        try write(during: .sync) { db in
            let count = try SearchIndex.refreshQueued(db)
            FaultPoint.clientIndexBeforeCommit.reach()
            return count
        }
    }

    /// Refreshes the search index first if a pull left it behind (it was cut
    /// off before its end), so that a search sees every applied page.
    func refreshSearchIndexIfBehind() throws {
        let behind = try readOneStatement { db in
            try Bool.fetchOne(db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM search_queue)")) ?? false
        }
        if behind { try refreshSearchIndex() }
    }

    /// Remembers the epoch of the server first synced with.
    func adoptEpoch(_ epoch: String) throws {
        try write(during: .sync) { db in try MetaKey.epoch.write(epoch, db) }
    }

    /// The server is not the one the cursor belongs to (new epoch, or it lost
    /// changes): queue every register to be sent again and pull from zero.
    /// Merges are idempotent, so re-sending what the server has is harmless.
    func resetForResync(epoch: String) throws {
        try write(during: .sync) { db in
            try Outbox.requeueEverything(db)
            try MetaKey.cursor.write("0", db)
            try MetaKey.checkpoint.write(nil, db)
            try MetaKey.epoch.write(epoch, db)
        }
    }

    /// The server had retired this device (`PullResponse.retired`): pull
    /// everything again from zero. The checkpoint stays: it is how a server
    /// restored meanwhile notices what it lost of this device's pushes.
    func prepareToPullEverything() throws {
        try write(during: .sync) { db in try MetaKey.cursor.write("0", db) }
    }

    /// Gives unsynced local writes stamped after `cutoff` (made while the
    /// clock ran ahead) new timestamps from the corrected clock, keeping
    /// their order, values and version vectors. Safe because the server
    /// refuses anything after `cutoff`, so nobody else has seen them; the
    /// new stamps start above everything that may be known elsewhere (the
    /// public clock, and unsynced writes at or before `cutoff`, which may
    /// have been accepted with their acknowledgement lost). Returns how many
    /// were re-stamped. When to do it is `ClockSkewRecovery`'s to decide.
    func restampChanges(aheadOf cutoff: Int64) throws -> Int {
        try write(during: .sync) { db in
            let waiting = try Outbox.waiting(db)
            // Only this device's own writes: others' (queued again by a resync)
            // were accepted by the server, so they are at or before `cutoff`.
            let (late, kept) = waiting.partitioned { $0.timestamp.node == node && $0.timestamp.physical > cutoff }
            guard !late.isEmpty else { return 0 }
            // A floor after `cutoff` is a version the server refused too.
            let floors = waiting.compactMap(\.floor).filter { $0.physical <= cutoff }
            let floor =
                ([try MetaKey.publicClock.read(db).flatMap(HLCTimestamp.init(encoded:))].compactMap { $0 }
                + kept.map(\.timestamp) + floors).max()
            _ = try stamp(late, as: node, above: floor, vector: { _, register in register.vector }, db)
            return late.count
        }
    }

    /// The server saw another device push under this device's node id (a
    /// copy of its home it could not tell was copied, such as a cloned
    /// machine): this device takes a new node id. Its waiting writes are
    /// stamped again under the new id, each with the vector it had before
    /// its first waiting write (`Outbox.Waiting.base`) plus the new id's
    /// write, so that it neither claims to have seen the other device's
    /// writes under the old id nor is hidden by them: where both wrote one
    /// field, the two are concurrent and the loser is listed as a conflict.
    /// Pulls start again from zero, since while the two shared the id the
    /// server left the other's pushes out of this one's pulls.
    func moveToNewNode() throws -> DeviceIdentity.Fork {
        let old = node
        let new = NodeID.random()
        var fork = DeviceIdentity.Fork(from: old, to: new)
        try write(during: .sync) { db in
            // Only writes not sent yet: one that waits to be sent again (no
            // base) was accepted once, by a server that may since have lost it.
            let waiting = try Outbox.waiting(db).filter { $0.timestamp.node == old && $0.base != nil }
            let floor = ([try MetaKey.clock.read(db), try MetaKey.publicClock.read(db)].compactMap { $0.flatMap(HLCTimestamp.init(encoded:)) }).max()
            fork.restamped = try stamp(
                waiting, as: new, above: floor,
                vector: { field, register in
                    var counters = register.vector.counters
                    counters[old] = field.base!
                    return VersionVector(counters).incremented(for: new)
                }, db)
            // Each re-stamped write is the new id's first to its field; the
            // rest wait to be sent as they are.
            let restamped = Set(fork.restamped.map(\.key))
            try Outbox.resetBases(db) { restamped.contains($0) ? 0 : nil }
            try MetaKey.node.write(new.rawValue, db)
            try MetaKey.copiedFrom.write(old.rawValue, db)
            try MetaKey.pushToken.write(nil, db)
            try MetaKey.pendingPushToken.write(nil, db)
            try MetaKey.cursor.write("0", db)
        }
        node = new
        return fork
    }

    /// `verify --repair` for `entities`, given the server's `versions` of
    /// their fields, in one transaction: a field holding the same clock as a
    /// server version with another value was damaged here, and takes the
    /// server's; then every version is merged as a pull merges it. This
    /// device's fields of the entities wait to be sent again (the server may
    /// lack them). Nothing is deleted.
    func repair(_ entities: [EntitiesRequest.Address], with versions: [Change]) throws {
        try write(during: .sync) { db in
            var loaded: [EntityAddress: StoredEntity] = [:]
            for version in versions {
                let held = try loaded.index(loading: EntityAddress(kind: version.kind, id: version.entity), db)
                if let mine = loaded.values[held].registers[version.field], mine.timestamp == version.timestamp,
                    mine.vector == version.vector, mine.value != version.value
                {
                    loaded.values[held].set(version.field, version.register)
                }
            }
            try StoredEntity.save(&loaded, db)
            _ = try RemoteApply(db: db, node: node, wallClock: wallClock).apply(versions)
            for address in entities {
                let fields = try StoredEntity.clocks(address.kind, address.entity, db).keys.sorted()
                if !fields.isEmpty { try Outbox.queueAgain(fields, of: EntityAddress(kind: address.kind, id: address.entity), db) }
            }
            _ = try SearchIndex.refreshQueued(db)
        }
    }

    /// Stamps `fields` again under `node`, in their order, each with a new
    /// timestamp above `floor` and the vector `vector` gives it; saves their
    /// entities and the clock. Returns each field before and after.
    private func stamp(
        _ fields: [Outbox.Waiting], as node: NodeID, above floor: HLCTimestamp?,
        vector: (Outbox.Waiting, Register) -> VersionVector, _ db: Database
    ) throws -> [DeviceIdentity.Restamp] {
        var clock = HybridLogicalClock(
            node: node, wallClock: wallClock,
            resumingAfter: floor.map {
                HLCTimestamp(physical: $0.physical, counter: $0.counter, node: node)
            })
        var entities: [EntityAddress: StoredEntity] = [:]
        var restamped: [DeviceIdentity.Restamp] = []
        for field in fields {
            let held = try entities.index(loading: EntityAddress(kind: field.key.kind, id: field.key.entity), db)
            let register = entities.values[held].registers[field.key.field]!
            let after = Register(value: register.value, timestamp: clock.tick(), vector: vector(field, register))
            entities.values[held].set(field.key.field, after)
            restamped.append(DeviceIdentity.Restamp(key: field.key, before: register, after: after))
        }
        try StoredEntity.save(&entities, db)
        try MetaKey.clock.write(clock.latest.encoded, db)
        return restamped
    }

    func recordSuccessfulSync() throws {
        try write(during: .sync) { db in try MetaKey.lastSync.write(ISOTime.string(milliseconds: wallClock.nowMilliseconds()), db) }
        try releaseFreePages()
    }

    /// Hands the pages a sync freed back to the file system: an acknowledged
    /// outbox leaves its rows' pages free (a library's first push, 20 MB for
    /// 10,000 articles), and SQLite keeps free pages in the file otherwise.
    /// Only past a megabyte of them, so that an ordinary sync writes nothing more.
    func releaseFreePages() throws {
        try Self.saying(.sync, home: homePath) {
            try database.writeWithoutTransaction { db in
                let free = try Int.fetchOne(db, sql: "PRAGMA freelist_count") ?? 0
                if free > 256, try Int.fetchOne(db, sql: "PRAGMA auto_vacuum") == 2 {
                    try db.execute(sql: "PRAGMA incremental_vacuum")
                }
            }
        }
    }
}

extension Array {
    /// The elements that satisfy `predicate`, and the rest, in order.
    func partitioned(by predicate: (Element) -> Bool) -> (matching: [Element], rest: [Element]) {
        var matching: [Element] = [], rest: [Element] = []
        for element in self {
            if predicate(element) { matching.append(element) } else { rest.append(element) }
        }
        return (matching, rest)
    }
}
