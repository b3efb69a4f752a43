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
    /// The entities this command is writing, saved by `saveEntities()`.
    private var entities: [EntityAddress: StoredEntity] = [:]
    /// Fields changed so far in this transaction.
    private(set) var writes = 0
    /// Whether the current command changed anything.
    private var commandChanged = false

    init(db: Database, clock: HybridLogicalClock, wallClock: any WallClock) {
        self.database = db
        self.clock = clock
        self.wallClock = wallClock
    }

    /// The database, for reading: what this command wrote so far is saved first.
    var db: Database {
        get throws {
            try saveEntities()
            return database
        }
    }

    /// One command of a batch, in a savepoint: its entities are saved when it
    /// ends (the next command may read them); the search index waits for
    /// `finish()`.
    func command<T>(_ body: (LocalWrite) throws -> T) throws -> T {
        var result: T?
        commandChanged = false
        // A command that throws is rolled back whole: what it held in
        // memory is dropped with it.
        defer { entities = [:] }
        try database.inSavepoint {
            result = try body(self)
            try saveEntities()
            return .commit
        }
        return result!
    }

    /// The wall-clock time for user-visible dates (added-at, read-at, …), as
    /// ISO 8601. Ordering never depends on it; registers use the HLC.
    var now: String { ISOTime.string(milliseconds: wallClock.nowMilliseconds()) }

    /// The values of an entity's written fields, as this command left them.
    func values(of kind: EntityKind, _ id: String) throws -> [String: FieldValue] {
        try entity(EntityAddress(kind: kind, id: id)).values
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
        var entity = try entity(address)
        let current = entity.registers[key.field]
        // A register never written reads as null, so writing null to it changes nothing.
        if (current?.value ?? .null) == value { return false }
        let timestamp = clock.tick()
        let register = current?.overwritten(with: value, at: timestamp) ?? .initial(value, at: timestamp)
        // Refuse here what the server would refuse: a write it cannot take
        // would otherwise block every later sync.
        if let problem = ChangeValidation.problem(with: Change(key: key, register: register)) {
            throw ClientError.unsyncable(problem)
        }
        entity.set(key.field, register)
        entities[address] = entity
        try Outbox.markWritten(key, replacing: current?.timestamp, base: current?.vector[timestamp.node] ?? 0, database)
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
        try saveEntities()
        try SearchIndex.refreshQueued(database)
        try MetaKey.clock.write(clock.latest.encoded, database)
        FaultPoint.clientWriteBeforeCommit.reach()
    }

    private func entity(_ address: EntityAddress) throws -> StoredEntity {
        if let held = entities[address] { return held }
        let loaded = try StoredEntity.load(address.kind, address.id, database)
        entities[address] = loaded
        return loaded
    }

    private func saveEntities() throws {
        for address in entities.keys {
            try entities[address]!.save(database)
        }
    }
}

/// ISO 8601 text for user-visible times, in UTC with milliseconds
/// (`2026-11-21T19:15:04.123Z`), so "newest first" holds within a second.
public enum ISOTime {
    public static func string(milliseconds: Int64) -> String {
        // Integer arithmetic: formatting a Double date loses the last millisecond.
        let seconds = milliseconds.quotient(dividingBy: 1000)
        let fraction = Int(milliseconds - seconds * 1000)
        // Years 1583…9999 (every date a device or an import gives) by the
        // Gregorian calendar directly; anything else the way Foundation writes
        // it (Julian before the 1582 reform).
        guard (-12_212_553_600 ... 253_402_300_799).contains(seconds) else {
            let whole = Date(timeIntervalSince1970: Double(seconds)).formatted(.iso8601)  // …T19:15:04Z
            let digits = String(fraction)
            return whole.dropLast() + "." + String(repeating: "0", count: 3 - digits.count) + digits + "Z"
        }
        let days = seconds.quotient(dividingBy: 86_400)
        let time = Int(seconds - days * 86_400)
        let (year, month, day) = civilDate(daysSince1970: days)
        return String(unsafeUninitializedCapacity: 24) { buffer in
            var position = 0
            func put(_ value: Int, digits: Int, then separator: UInt8?) {
                var rest = value
                for offset in stride(from: digits - 1, through: 0, by: -1) {
                    buffer[position + offset] = UInt8(ascii: "0") + UInt8(rest % 10)
                    rest /= 10
                }
                position += digits
                if let separator { buffer[position] = separator; position += 1 }
            }
            put(year, digits: 4, then: UInt8(ascii: "-"))
            put(month, digits: 2, then: UInt8(ascii: "-"))
            put(day, digits: 2, then: UInt8(ascii: "T"))
            put(time / 3600, digits: 2, then: UInt8(ascii: ":"))
            put(time / 60 % 60, digits: 2, then: UInt8(ascii: ":"))
            put(time % 60, digits: 2, then: UInt8(ascii: "."))
            put(fraction, digits: 3, then: UInt8(ascii: "Z"))
            return position
        }
    }

    /// The proleptic Gregorian date `days` days after 1970-01-01 (the
    /// well-known days-to-civil conversion over 400-year eras).
    static func civilDate(daysSince1970 days: Int64) -> (year: Int, month: Int, day: Int) {
        let shifted = days + 719_468  // days since 0000-03-01
        let era = shifted.quotient(dividingBy: 146_097)
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthFromMarch = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthFromMarch + 2) / 5 + 1
        let month = monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (Int(year), Int(month), Int(day))
    }
}

extension Int64 {
    /// Division rounding towards negative infinity.
    fileprivate func quotient(dividingBy divisor: Int64) -> Int64 {
        let (quotient, remainder) = quotientAndRemainder(dividingBy: divisor)
        return remainder < 0 ? quotient - 1 : quotient
    }
}
