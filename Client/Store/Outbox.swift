import Foundation
import GRDB
import ReadSyncCore

/// The fields written on this device and not yet acknowledged by the server.
/// A row names a field, not a version: a push sends the field's current
/// value and clock, so a field written ten times before a sync is sent once.
enum Outbox {
    /// Marks the field at `key` written. When it was already waiting, the
    /// version it replaces (stamped `replaced`) may have reached the server
    /// in a push whose answer was lost: its timestamp becomes the floor that
    /// re-stamping stays above. When it was not (or waits only to be sent
    /// again to a new server), `base` (the writer's count in the field's
    /// vector before this write) is kept with it.
    static func markWritten(_ key: RegisterKey, replacing replaced: HLCTimestamp?, base: UInt64, _ db: Database) throws {
        let floor = replaced?.stored
        try db.cachedStatement(
            sql: """
                INSERT INTO outbox (kind, entity, field, base) VALUES (?, ?, ?, ?)
                ON CONFLICT (kind, entity, field) DO UPDATE SET floor = COALESCE(max(floor, ?), ?, floor), base = COALESCE(base, excluded.base)
                """
        ).execute(arguments: [key.kind.rawValue, key.entity, key.field, Int64(base), floor, floor])
    }

    static func count(_ db: Database) throws -> Int {
        try Int.fetchOne(db.cachedStatement(sql: "SELECT count(*) FROM outbox")) ?? 0
    }

    /// A field sent in a push: what its acknowledgement must find unchanged.
    struct Sent: Sendable {
        let seq: Int64
        let key: RegisterKey
        let timestamp: HLCTimestamp
        let vector: VersionVector
    }

    /// The oldest waiting fields after outbox position `after`, with their
    /// current versions, at most `limit` and (past the first) at most
    /// `maxBytes` of text.
    static func batch(after: Int64 = 0, limit: Int, maxBytes: Int, _ db: Database) throws -> (changes: [Change], sent: [Sent]) {
        var changes: [Change] = [], sent: [Sent] = []
        var bytes = 0
        var entities: [EntityAddress: StoredEntity] = [:]
        let rows = try Row.fetchAll(
            db.cachedStatement(sql: "SELECT seq, kind, entity, field FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?"),
            arguments: [after, limit])
        for row in rows {
            guard let kind = EntityKind(rawValue: row[1]) else { continue }
            let address = EntityAddress(kind: kind, id: row[2])
            if entities[address] == nil { entities[address] = try StoredEntity.load(kind, address.id, db) }
            let field: String = row[3]
            guard let register = entities[address]!.registers[field] else { continue }
            bytes += (register.value.text?.utf8.count ?? 8) + 200
            if !changes.isEmpty && bytes > maxBytes { break }
            let key = RegisterKey(kind: kind, entity: address.id, field: field)
            changes.append(Change(key: key, register: register))
            sent.append(Sent(seq: row[0], key: key, timestamp: register.timestamp, vector: register.vector))
        }
        return (changes, sent)
    }

    /// The server stored `sent`: each field leaves the outbox unless it was
    /// written again since (then its new version still waits, with the sent
    /// one as its floor).
    /// `node` is this device's: a field written again keeps waiting, and
    /// its base becomes `node`'s count in the version the server now has.
    static func acknowledge(_ sent: [Sent], node: NodeID, _ db: Database) throws {
        var clocks: [EntityAddress: [String: EntityClocks.Clock]] = [:]
        let remove = try db.cachedStatement(sql: "DELETE FROM outbox WHERE seq = ?")
        let rebase = try db.cachedStatement(sql: "UPDATE outbox SET base = ? WHERE seq = ? AND base IS NOT NULL")
        for field in sent {
            let address = EntityAddress(kind: field.key.kind, id: field.key.entity)
            if clocks[address] == nil { clocks[address] = try StoredEntity.clocks(address.kind, address.id, db) }
            if clocks[address]![field.key.field]?.timestamp == field.timestamp {
                try remove.execute(arguments: [field.seq])
            } else {
                try rebase.execute(arguments: [Int64(field.vector[node]), field.seq])
            }
        }
    }

    /// Bases count the writes of the node id the device had; under a new
    /// one, the fields still waiting are sent as they are (`moveToNewNode`
    /// re-stamped those it had to), so none keeps a base.
    static func forgetBases(_ db: Database) throws {
        try db.execute(sql: "UPDATE outbox SET base = NULL")
    }

    /// Every field written here or received (of kinds this version does not
    /// know too), to be sent again (to a server
    /// that is new to this device), oldest first.
    static func requeueEverything(_ db: Database) throws {
        var fields: [(key: RegisterKey, timestamp: HLCTimestamp)] = []
        for address in try StoredEntity.everyEntity(db) {
            for (field, clock) in try StoredEntity.clocks(address.kind, address.id, db) {
                fields.append((RegisterKey(kind: address.kind, entity: address.id, field: field), clock.timestamp))
            }
        }
        let insert = try db.cachedStatement(sql: "INSERT OR IGNORE INTO outbox (kind, entity, field) VALUES (?, ?, ?)")
        for (key, _) in fields.sorted(by: { $0.timestamp < $1.timestamp }) {
            try insert.execute(arguments: [key.kind.rawValue, key.entity, key.field])
        }
    }

    /// A waiting field with its current timestamp, floor and base.
    struct Waiting {
        let key: RegisterKey
        let timestamp: HLCTimestamp
        let floor: HLCTimestamp?
        /// The writer's count in the field's vector before its first waiting
        /// write; nil for a field that waits only to be sent again (to a
        /// server that lost it or is new), or since before bases were kept.
        let base: UInt64?
    }

    /// Every waiting field, oldest timestamp first.
    static func waiting(_ db: Database) throws -> [Waiting] {
        var clocks: [EntityAddress: [String: EntityClocks.Clock]] = [:]
        var waiting: [Waiting] = []
        for row in try Row.fetchAll(db, sql: "SELECT kind, entity, field, floor, base FROM outbox") {
            guard let kind = EntityKind(rawValue: row[0]) else { continue }
            let address = EntityAddress(kind: kind, id: row[1])
            if clocks[address] == nil { clocks[address] = try StoredEntity.clocks(kind, address.id, db) }
            guard let clock = clocks[address]![row[2]] else { continue }
            waiting.append(
                Waiting(
                    key: RegisterKey(kind: kind, entity: address.id, field: row[2]), timestamp: clock.timestamp,
                    floor: (row[3] as Data?).flatMap { HLCTimestamp(compact: $0) }, base: (row[4] as Int64?).map { UInt64($0) }))
        }
        return waiting.sorted { $0.timestamp < $1.timestamp }
    }
}
