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
        /// Field values purged because the server collected their article.
        var purged = 0
    }

    /// Purges what the server collected of each article (`Tombstone`): the
    /// fields of its family, but for the tombstone's. An entity with a field
    /// this device has not pushed yet is kept whole, and the rest of it is
    /// queued too, so that the edit reaches the server with what it belongs
    /// to (the server purged that): a device back after months keeps its
    /// offline edits of a collected article, in the trash.
    func purge(collected articles: [String]) throws -> Int {
        var purged = 0
        for article in articles {
            var family = [EntityAddress(kind: .article, id: article), EntityAddress(kind: .readState, id: article)]
            family += try String.fetchAll(db.cachedStatement(sql: "SELECT id FROM tag_values WHERE article_id = ?"), arguments: [article])
                .map { EntityAddress(kind: .tag, id: $0) }
            family += try String.fetchAll(db.cachedStatement(sql: "SELECT id FROM note_values WHERE article_id = ?"), arguments: [article])
                .map { EntityAddress(kind: .note, id: $0) }
            for address in family {
                var entity = try StoredEntity.load(address.kind, address.id, db)
                let unsent = try Int.fetchOne(db.cachedStatement(sql: "SELECT count(*) FROM outbox WHERE kind = ? AND entity = ?"),
                                              arguments: [address.kind.rawValue, address.id]) ?? 0
                if unsent > 0 {
                    for field in entity.registers.keys {
                        try db.cachedStatement(sql: "INSERT OR IGNORE INTO outbox (kind, entity, field) VALUES (?, ?, ?)")
                            .execute(arguments: [address.kind.rawValue, address.id, field])
                    }
                    continue
                }
                for field in entity.registers.keys where Tombstone.isPurged(kind: address.kind, field: field) {
                    entity.remove(field)
                    purged += 1
                }
                try entity.save(db)
            }
        }
        return purged
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
            let address = EntityAddress(kind: change.kind, id: change.entity)
            var entity = try entities[address] ?? StoredEntity.load(change.kind, change.entity, db)
            defer { entities[address] = entity }
            guard let current = entity.registers[change.field] else {
                entity.set(change.field, change.register)
                result.changed += 1
                continue
            }
            let merge = Register.merge(current, change.register)
            if merge.merged != current {
                entity.set(change.field, merge.merged)
                result.changed += 1
            }
            // Concurrent writes of the same value lose nothing, and bookkeeping
            // times are not the user's edits: neither is a conflict.
            if let loser = merge.concurrentLoser, loser.value != merge.merged.value, !change.kind.isBookkeeping(change.field) {
                try db.cachedStatement(sql: """
                    INSERT INTO conflicts (kind, entity, field, kept_value, kept_timestamp, lost_value, lost_timestamp)
                    VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
                    """).execute(arguments: [change.kind.rawValue, change.entity, change.field, try WireCoding.text(merge.merged.value),
                                     merge.merged.timestamp.encoded, try WireCoding.text(loser.value), loser.timestamp.encoded])
                result.conflicts += db.changesCount
            }
        }
        // Search entries wait for the end of the pull (`SearchIndex`): a page
        // of notes would otherwise re-index the whole text of their articles.
        for address in entities.keys { try entities[address]!.save(db) }
        try MetaKey.clock.write(clock.latest.encoded, db)
        if let newest = changes.map(\.timestamp).max() { try ClientStore.raisePublicClock(to: newest.encoded, db) }
        return result
    }
}
