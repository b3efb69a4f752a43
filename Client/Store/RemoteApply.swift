import Foundation
import GRDB
import ReadSyncCore

/// Merges changes received from the server into the stored fields with the
/// Core merge, records concurrent losers as conflicts, advances the clock
/// past every received timestamp and saves each entity the page touched once
/// (queueing the search entries it affects, see `SearchIndex`). Runs inside
/// the caller's transaction, with the cursor written in the same one.
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
        var entities: [EntityAddress: StoredEntity] = [:]
        var result = Result()
        for change in changes {
            // The server validates too; a change this client cannot read is
            // skipped rather than allowed to corrupt the library.
            guard ChangeValidation.problem(with: change) == nil else { continue }
            clock.observe(change.timestamp)
            // Changed where it is held (see `index(loading:)`).
            let held = try entities.index(loading: EntityAddress(kind: change.kind, id: change.entity), db)
            guard let current = entities.values[held].registers[change.field] else {
                entities.values[held].set(change.field, change.register)
                result.changed += 1
                continue
            }
            let merge = Register.merge(current, change.register)
            if merge.merged != current {
                entities.values[held].set(change.field, merge.merged)
                result.changed += 1
            }
            // Concurrent writes of the same value lose nothing, and bookkeeping
            // times are not the user's edits: neither is a conflict.
            if let loser = merge.concurrentLoser, loser.value != merge.merged.value, !change.kind.isBookkeeping(change.field) {
                try db.cachedStatement(
                    sql: """
                        INSERT INTO conflicts (kind, entity, field, kept_value, kept_timestamp, lost_value, lost_timestamp)
                        VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
                        """
                ).execute(arguments: [
                    change.kind.rawValue, change.entity, change.field, try WireCoding.text(merge.merged.value),
                    merge.merged.timestamp.encoded, try WireCoding.text(loser.value), loser.timestamp.encoded,
                ])
                result.conflicts += db.changesCount
            }
        }
        // Search entries wait for the end of the pull (`SearchIndex`): a page
        // of notes would otherwise re-index the whole text of their articles.
        try StoredEntity.save(&entities, db)
        try MetaKey.clock.write(clock.latest.encoded, db)
        if let newest = changes.map(\.timestamp).max() { try ClientStore.raisePublicClock(to: newest.encoded, db) }
        return result
    }
}
