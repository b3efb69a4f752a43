import FaultPoints
import Foundation
import GRDB
import ReadSyncCore

/// One transaction's worth of local writes. Each `set` stamps the field with
/// the replica's hybrid logical clock and marks it in the outbox; the
/// entities written are kept in memory and saved, one row write each, when
/// the command ends. `finish()` brings the search index up to date and
/// persists the clock. All of it happens inside the caller's transaction.
final class LocalWrite {
    private let database: Database
    private var clock: HybridLogicalClock
    private let wallClock: any WallClock
    /// The entities this command is writing, and their outbox entries,
    /// saved by `saveEntities()`.
    private var entities: [EntityAddress: StoredEntity] = [:]
    private var outboxEntries: [EntityAddress: OutboxEntry] = [:]
    /// The order the entries were first marked in: the outbox's order.
    private var outboxOrder: [EntityAddress] = []
    /// Fields changed so far in this transaction.
    private(set) var writes = 0
    /// Whether the current command changed anything.
    private var commandChanged = false
    /// Whether a command of a batch is running, and whether it opened a
    /// savepoint (`command`).
    private var inBatchCommand = false
    private var commandSavepointOpen = false
    /// Set when saving a command's entities failed part way with no
    /// savepoint to undo it: the transaction holds part of a command and
    /// must not commit, so every later command and `finish()` throw it.
    private var failedSave: (any Error)?
    /// Set while `saveEntities` runs, and left set if it throws: the
    /// database may then hold part of what it was saving.
    private var savedPartly = false

    init(db: Database, clock: HybridLogicalClock, wallClock: any WallClock) {
        self.database = db
        self.clock = clock
        self.wallClock = wallClock
    }

    /// The database, for reading: what this command wrote so far is saved first.
    var db: Database {
        get throws {
            if inBatchCommand, !commandSavepointOpen, !outboxOrder.isEmpty {
                try database.execute(sql: "SAVEPOINT command")
                commandSavepointOpen = true
            }
            try saveEntities()
            return database
        }
    }

    /// One command of a batch, all or nothing. Its writes are held in memory
    /// and saved when it ends (the next command may read them); the search
    /// index waits for `finish()`. A command that throws before then has
    /// written nothing, so it needs no savepoint, which SQLite would make
    /// copy each page the command changes: one is opened only when the
    /// command saves early, to read what it wrote (`db`). Saving at the end
    /// can fail part way only on a storage error; the batch then cannot
    /// commit (`failedSave`).
    func command<T>(_ body: (LocalWrite) throws -> T) throws -> T {
        if let failedSave { throw failedSave }
        commandChanged = false
        inBatchCommand = true
        // A command that throws is rolled back whole: what it held in
        // memory is dropped with it.
        defer {
            entities = [:]
            outboxEntries = [:]
            outboxOrder = []
            inBatchCommand = false
            commandSavepointOpen = false
            savedPartly = false
        }
        let result: T
        do {
            result = try body(self)
            try saveEntities()
        } catch {
            if commandSavepointOpen {
                try database.execute(sql: "ROLLBACK TRANSACTION TO SAVEPOINT command; RELEASE SAVEPOINT command")
            } else if savedPartly {
                failedSave = error
            }
            throw error
        }
        if commandSavepointOpen { try database.execute(sql: "RELEASE SAVEPOINT command") }
        return result
    }

    /// The wall-clock time for user-visible dates (added-at, read-at, …), as
    /// ISO 8601. Ordering never depends on it; registers use the HLC.
    var now: String { ISOTime.string(milliseconds: wallClock.nowMilliseconds()) }

    /// The values of an entity's written fields, as this command left them.
    func values(of kind: EntityKind, _ id: String) throws -> [String: FieldValue] {
        try entity(EntityAddress(kind: kind, id: id)).values
    }

    /// An entity as this command left it.
    func entity(_ kind: EntityKind, _ id: String) throws -> StoredEntity {
        try entity(EntityAddress(kind: kind, id: id))
    }

    /// Whether the field at `key` was ever written.
    func exists(_ key: RegisterKey) throws -> Bool {
        try entity(EntityAddress(kind: key.kind, id: key.entity)).registers[key.field] != nil
    }

    /// Writes `value` to the register at `key`, unless it already holds it.
    /// Returns whether anything changed.
    @discardableResult
    func set(_ key: RegisterKey, _ value: FieldValue) throws -> Bool {
        let address = EntityAddress(kind: key.kind, id: key.entity)
        let held = try entities.index(loading: address, database)
        let current = entities.values[held].registers[key.field]
        // A register never written reads as null, so writing null to it changes nothing.
        if (current?.value ?? .null) == value { return false }
        let timestamp = clock.tick()
        let register = current?.overwritten(with: value, at: timestamp) ?? .initial(value, at: timestamp)
        // Refuse here what the server would refuse: a write it cannot take
        // would otherwise block every later sync.
        if let problem = ChangeValidation.problem(with: Change(key: key, register: register)) {
            throw EditError.unsyncable(problem)
        }
        // Changed where they are held (see `index(loading:)`).
        entities.values[held].set(key.field, register)
        if outboxEntries[address] == nil {
            outboxOrder.append(address)
            outboxEntries[address] = try storedOutboxEntry(address, entities.values[held])
        }
        outboxEntries[address]!.markWritten(key.field, replacing: current?.timestamp, base: current?.vector[timestamp.node] ?? 0)
        commandChanged = true
        writes += 1
        return true
    }

    /// Writes `value` only when the register has never been written (e.g. the
    /// first added-at of an article). Returns whether anything changed.
    @discardableResult
    func setIfAbsent(_ key: RegisterKey, _ value: FieldValue) throws -> Bool {
        guard try !exists(key) else { return false }
        return try set(key, value)
    }

    /// Whether the current command changed anything.
    var changedAnything: Bool { commandChanged }

    func finish() throws {
        if let failedSave { throw failedSave }
        try saveEntities()
        try SearchIndex.refreshQueued(database)
        try MetaKey.clock.write(clock.latest.encoded, database)
        FaultPoint.clientWriteBeforeCommit.reach()
    }

    private func entity(_ address: EntityAddress) throws -> StoredEntity {
        entities.values[try entities.index(loading: address, database)]
    }

    /// The entity's outbox entry as stored. Every entry is written with its
    /// entity's row, so an entity without one (new) has none: a new article
    /// is not looked up in the outbox at all.
    private func storedOutboxEntry(_ address: EntityAddress, _ entity: StoredEntity) throws -> OutboxEntry {
        guard entity.hasRow else {
            assert((try? Outbox.entry(address, database).isEmpty) ?? true, "an outbox entry for \(address.kind.rawValue) \(address.id) without its row")
            return OutboxEntry()
        }
        return try Outbox.entry(address, database)
    }

    private func saveEntities() throws {
        savedPartly = true
        try StoredEntity.save(&entities, database)
        // Saved, they are read again from the database when written next.
        for address in outboxOrder {
            try Outbox.save(outboxEntries[address]!, of: address, database)
        }
        outboxEntries = [:]
        outboxOrder = []
        savedPartly = false
    }
}
