import Foundation
import GRDB
import ReadSyncCore

/// Merges changes received from the server into the local registers with the
/// Core merge, records concurrent losers as conflicts, advances the clock
/// past every received timestamp and re-materialises what changed (queueing
/// the search entries it affects, see `ClientStore.refreshSearchIndex`). Runs
/// inside the caller's transaction, with the cursor written in the same one.
struct RemoteApply {
    let db: Database
    let node: NodeID
    let wallClock: any WallClock

    struct Result {
        var changed = 0
        var conflicts = 0
    }

    func apply(_ changes: [Change]) throws -> Result {
        var clock = HybridLogicalClock(node: node, wallClock: wallClock, resumingAfter: try ClientStore.storedClock(db))
        var touched = TouchedEntities()
        var result = Result()
        for change in changes {
            // The server validates too; a change this client cannot read is
            // skipped rather than allowed to corrupt the library.
            guard ChangeValidation.problem(with: change) == nil else { continue }
            clock.observe(change.timestamp)
            let key = change.key
            guard let current = try RegisterCodec.register(at: key, db) else {
                try RegisterCodec.store(change.register, at: key, db)
                touched.insert(key, value: change.value)
                result.changed += 1
                continue
            }
            let merge = Register.merge(current, change.register)
            if merge.merged != current {
                try RegisterCodec.store(merge.merged, at: key, db)
                touched.insert(key, value: merge.merged.value)
                result.changed += 1
            }
            // Concurrent writes of the same value lose nothing, and bookkeeping
            // times are not the user's edits: neither is a conflict.
            if let loser = merge.concurrentLoser, loser.value != merge.merged.value, !key.kind.isBookkeeping(key.field) {
                try db.cachedStatement(sql: """
                    INSERT INTO conflicts (kind, entity, field, kept_value, kept_timestamp, lost_value, lost_timestamp)
                    VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
                    """).execute(arguments: [key.kind.rawValue, key.entity, key.field, try WireCoding.text(merge.merged.value),
                                     merge.merged.timestamp.encoded, try WireCoding.text(loser.value), loser.timestamp.encoded])
                result.conflicts += db.changesCount
            }
        }
        // Search entries wait for the end of the pull: a page of notes would
        // otherwise re-index the whole text of every article they belong to.
        let materializer = Materializer(db: db)
        try materializer.queueSearchEntries(try materializer.refresh(touched, search: false))
        try MetaKey.clock.write(clock.latest.encoded, db)
        if let newest = changes.map(\.timestamp).max() { try ClientStore.raisePublicClock(to: newest.encoded, db) }
        return result
    }
}
