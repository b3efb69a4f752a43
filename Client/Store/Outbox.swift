import Foundation
import GRDB
import ReadSyncCore
import SQLiteStatements

/// The fields written on this device and not yet acknowledged by the server:
/// one row per entity (migration `v9-outbox-per-entity`), naming its waiting
/// fields (`OutboxEntry`), not their versions: a push sends each field's
/// current value and clock, so a field written ten times before a sync is
/// sent once, and an article added with five fields is one row.
enum Outbox {
    /// The entity's waiting fields (empty when none waits).
    static func entry(_ address: EntityAddress, _ db: Database) throws -> OutboxEntry {
        guard
            let blob = try db.cachedStatement(sql: "SELECT fields FROM outbox WHERE kind = ? AND entity = ?").firstRow(
                [address.kind.rawValue.databaseValue, address.id.databaseValue], { $0.flatMap { Data.fromDatabaseValue($0[0]) } })
        else { return OutboxEntry() }
        return try decode(blob, address)
    }

    /// Stores the entity's waiting fields: a new entity goes last in the
    /// outbox, one already there keeps its place; none left removes its row.
    static func save(_ entry: OutboxEntry, of address: EntityAddress, _ db: Database) throws {
        if entry.isEmpty {
            try db.cachedStatement(sql: "DELETE FROM outbox WHERE kind = ? AND entity = ?").run([
                address.kind.rawValue.databaseValue, address.id.databaseValue,
            ])
        } else {
            try db.cachedStatement(
                sql: """
                    INSERT INTO outbox (kind, entity, fields, field_count) VALUES (?, ?, ?, ?)
                    ON CONFLICT (kind, entity) DO UPDATE SET fields = excluded.fields, field_count = excluded.field_count
                    """
            ).run([address.kind.rawValue.databaseValue, address.id.databaseValue, Data(entry.encoded).databaseValue, entry.fields.count.databaseValue])
        }
    }

    /// How many fields wait.
    static func count(_ db: Database) throws -> Int {
        try Int.fetchOne(db.cachedStatement(sql: "SELECT COALESCE(sum(field_count), 0) FROM outbox")) ?? 0
    }

    /// An entity whose every waiting field a push sent: its outbox row and
    /// its clocks as they were read. Found unchanged when the push is
    /// acknowledged, the row goes whole, in one statement.
    struct SentEntity: Sendable {
        let seq: Int64
        let kind: EntityKind
        let id: String
        let fields: Data
        let clocks: Data
    }

    /// A field sent in a push: what its acknowledgement must find unchanged.
    struct Sent: Sendable {
        /// The outbox row (its entity's) the field was read from.
        let seq: Int64
        let key: RegisterKey
        let timestamp: HLCTimestamp
        let vector: VersionVector
    }

    /// The oldest waiting entities after outbox position `after`, with the
    /// current versions of their waiting fields: whole entities, at most
    /// `limit` fields (past the first entity) and at most `maxBytes` of text.
    /// An entity whose waiting fields alone hold more text (several fields
    /// near their size limit) is sent a field at a time, as many as fit and
    /// at least one: whole, it could be more than a request may carry, and
    /// every later push would be refused with it. `more` says whether fields
    /// past the batch wait as well.
    static func batch(after: Int64 = 0, limit: Int, maxBytes: Int, _ db: Database) throws -> (
        changes: [Change], sent: [Sent], whole: [SentEntity], more: Bool
    ) {
        var changes: [Change] = [], sent: [Sent] = [], whole: [SentEntity] = []
        var bytes = 0
        func size(_ register: Register) -> Int { (register.value.text?.utf8.count ?? 8) + 200 }
        // All read before any entity is loaded, as plain values: GRDB's `Row`s,
        // copied whole and freed, were nearly a third of reading a batch.
        var rows: [(seq: Int64, kind: String, entity: String, fields: Data)] = []
        try db.cachedStatement(sql: "SELECT seq, kind, entity, fields FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?").forEachRow([
            after.databaseValue, limit.databaseValue,
        ]) { row in
            guard let seq = Int64.fromDatabaseValue(row[0]), let kind = String.fromDatabaseValue(row[1]),
                let entity = String.fromDatabaseValue(row[2]), let fields = Data.fromDatabaseValue(row[3])
            else { throw DatabaseError(resultCode: .SQLITE_CORRUPT, message: "an invalid outbox row") }
            rows.append((seq, kind, entity, fields))
        }
        // As many rows as asked for were read: more may wait past them.
        var more = rows.count == limit
        for row in rows {
            guard let kind = EntityKind(rawValue: row.kind) else { continue }
            let address = EntityAddress(kind: kind, id: row.entity)
            let entry = try decode(row.fields, address)
            let entity = try StoredEntity.load(kind, address.id, db)
            var entityChanges: [Change] = []
            for (field, _) in entry.fields {
                guard let register = entity.registers[field] else { continue }
                bytes += size(register)
                entityChanges.append(Change(key: RegisterKey(kind: kind, entity: address.id, field: field), register: register))
            }
            if changes.isEmpty && bytes > maxBytes {
                var fitting = 0
                var taken = 0
                for change in entityChanges {
                    taken += size(change.register)
                    if fitting > 0 && taken > maxBytes { break }
                    fitting += 1
                }
                more = more || rows.count > 1 || fitting < entityChanges.count
                entityChanges = Array(entityChanges.prefix(fitting))
                changes = entityChanges
                sent = entityChanges.map { Sent(seq: row.seq, key: $0.key, timestamp: $0.timestamp, vector: $0.vector) }
                break
            }
            if !changes.isEmpty && (bytes > maxBytes || changes.count + entityChanges.count > limit) {
                more = true
                break
            }
            changes += entityChanges
            sent += entityChanges.map { Sent(seq: row.seq, key: $0.key, timestamp: $0.timestamp, vector: $0.vector) }
            if kind.isKnown, entityChanges.count == entry.fields.count, let clocks = entity.storedClocks {
                whole.append(SentEntity(seq: row.seq, kind: kind, id: address.id, fields: row.fields, clocks: clocks))
            }
        }
        return (changes, sent, whole, more)
    }

    /// The server stored `sent`: each field leaves the outbox unless it was
    /// written again since (then its new version still waits, and its base
    /// becomes `node`'s count in the version the server now has; `node` is
    /// this device's).
    ///
    /// An entity of `whole` whose outbox row and clocks are as they were
    /// read leaves in one statement: none of its fields was written since,
    /// so every one was acknowledged. (Reading both and writing the row
    /// back, three statements an entity, was most of an acknowledgement,
    /// which the next push waits for.) The others are compared field by field.
    static func acknowledge(_ sent: [Sent], whole: [SentEntity], node: NodeID, _ db: Database) throws {
        var gone: Set<EntityAddress> = []
        for entity in whole {
            try db.cachedStatement(sql: Self.deleteUnchanged[entity.kind]!).run([
                entity.seq.databaseValue, entity.fields.databaseValue, entity.id.databaseValue, entity.clocks.databaseValue,
            ])
            if db.changesCount == 1 { gone.insert(EntityAddress(kind: entity.kind, id: entity.id)) }
        }
        var order: [EntityAddress] = []
        var byEntity: [EntityAddress: [Sent]] = [:]
        for field in sent {
            let address = EntityAddress(kind: field.key.kind, id: field.key.entity)
            if gone.contains(address) { continue }
            if byEntity[address] == nil { order.append(address) }
            byEntity[address, default: []].append(field)
        }
        for address in order {
            var entry = try entry(address, db)
            let clocks = try StoredEntity.clocks(address.kind, address.id, db)
            for field in byEntity[address]! {
                if clocks[field.key.field]?.timestamp == field.timestamp {
                    entry.remove(field.key.field)
                } else {
                    entry.setBase(of: field.key.field, to: field.vector[node])
                }
            }
            try save(entry, of: address, db)
        }
    }

    /// Per known kind: deletes an outbox row (seq, fields) if its entity's
    /// clocks (id, clocks) are still the ones given.
    private static let deleteUnchanged: [EntityKind: String] = Dictionary(
        uniqueKeysWithValues: EntityKind.known.map { kind in
            (kind, "DELETE FROM outbox WHERE seq = ? AND fields = ? AND (SELECT clocks FROM \(ValueTable.name(of: kind)) WHERE id = ?) = ?")
        })

    /// Sets every waiting field's base to `base(key)`. Bases count the writes
    /// of the node id the device had; under a new one, the fields still
    /// waiting are sent as they are (`moveToNewNode` re-stamped those it had
    /// to), so only the re-stamped keep one.
    static func resetBases(_ db: Database, to base: (RegisterKey) -> UInt64?) throws {
        for (address, var entry) in try everyEntry(db) {
            for (field, _) in entry.fields {
                entry.setBase(of: field, to: base(RegisterKey(kind: address.kind, entity: address.id, field: field)), force: true)
            }
            try save(entry, of: address, db)
        }
    }

    /// Every field written here or received (of kinds this version does not
    /// know too), to be sent again (to a server that is new to this device),
    /// the entities in the order of their oldest field.
    static func requeueEverything(_ db: Database) throws {
        var entities: [(address: EntityAddress, fields: [(name: String, timestamp: HLCTimestamp)])] = []
        for address in try StoredEntity.everyEntity(db) {
            let clocks = try StoredEntity.clocks(address.kind, address.id, db)
            let fields = clocks.map { (name: $0.key, timestamp: $0.value.timestamp) }.sorted { $0.timestamp < $1.timestamp }
            if !fields.isEmpty { entities.append((address, fields)) }
        }
        for (address, fields) in entities.sorted(by: { $0.fields[0].timestamp < $1.fields[0].timestamp }) {
            try queueAgain(fields.map(\.name), of: address, db)
        }
    }

    /// The entity's `fields` wait to be sent again; those already waiting keep their marks.
    static func queueAgain(_ fields: [String], of address: EntityAddress, _ db: Database) throws {
        var entry = try entry(address, db)
        for field in fields { entry.queueAgain(field) }
        try save(entry, of: address, db)
    }

    /// A waiting field with its current timestamp, floor and base.
    struct Waiting {
        let key: RegisterKey
        let timestamp: HLCTimestamp
        let floor: HLCTimestamp?
        /// See `OutboxEntry.Mark.base`.
        let base: UInt64?
    }

    /// Every waiting field, oldest timestamp first.
    static func waiting(_ db: Database) throws -> [Waiting] {
        var waiting: [Waiting] = []
        for (address, entry) in try everyEntry(db) {
            let clocks = try StoredEntity.clocks(address.kind, address.id, db)
            for (field, mark) in entry.fields {
                guard let clock = clocks[field] else { continue }
                waiting.append(
                    Waiting(
                        key: RegisterKey(kind: address.kind, entity: address.id, field: field), timestamp: clock.timestamp,
                        floor: mark.floor, base: mark.base))
            }
        }
        return waiting.sorted { $0.timestamp < $1.timestamp }
    }

    private static func everyEntry(_ db: Database) throws -> [(EntityAddress, OutboxEntry)] {
        try Row.fetchAll(db, sql: "SELECT kind, entity, fields FROM outbox ORDER BY seq").compactMap { row in
            guard let kind = EntityKind(rawValue: row[0]) else { return nil }
            let address = EntityAddress(kind: kind, id: row[1])
            return (address, try decode(row[2], address))
        }
    }

    private static func decode(_ blob: Data, _ address: EntityAddress) throws -> OutboxEntry {
        guard let entry = OutboxEntry(encoded: blob) else {
            throw DatabaseError(resultCode: .SQLITE_CORRUPT, message: "invalid outbox row of \(address.kind.rawValue) \(address.id)")
        }
        return entry
    }
}
