import FaultPoints
import Foundation
import GRDB
import ReadSyncCore

/// One transaction's worth of local writes. Each `set` stamps the register with
/// the replica's hybrid logical clock, stores it and appends it to the change
/// log; `finish()` re-materialises every entity touched and persists the clock.
/// All of it happens inside the caller's database transaction.
final class LocalWrite {
    let db: Database
    private var clock: HybridLogicalClock
    private let wallClock: any WallClock
    private var touched = TouchedEntities()
    /// Registers changed so far in this transaction.
    private(set) var writes = 0
    /// In a batch: the articles whose search entries `finish()` refreshes.
    private var searchLater: Set<String>?
    /// Whether this command changed anything (in a batch: this command alone).
    private var commandChanged = false

    init(db: Database, clock: HybridLogicalClock, wallClock: any WallClock, batched: Bool = false) {
        self.db = db
        self.clock = clock
        self.wallClock = wallClock
        searchLater = batched ? [] : nil
    }

    /// One command of a batch, in a savepoint: its tables are materialised
    /// at once (the next command may read them), its search entries later.
    func command<T>(_ body: (LocalWrite) throws -> T) throws -> T {
        var result: T?
        commandChanged = false
        // A command that throws is rolled back whole: nothing it touched
        // needs materialising, and the values it wrote are gone.
        defer { touched = TouchedEntities() }
        try db.inSavepoint {
            result = try body(self)
            let targets = try Materializer(db: db).refresh(touched, search: searchLater == nil)
            searchLater?.formUnion(targets)
            return .commit
        }
        return result!
    }

    /// The wall-clock time for user-visible dates (added-at, read-at, …), as
    /// ISO 8601. Ordering never depends on it; registers use the HLC.
    var now: String { ISOTime.string(milliseconds: wallClock.nowMilliseconds()) }

    /// Writes `value` to the register at `key`, unless it already holds it.
    /// Returns whether anything changed.
    @discardableResult
    func set(_ key: RegisterKey, _ value: FieldValue) throws -> Bool {
        let current = try RegisterCodec.register(at: key, db)
        // A register never written reads as null, so writing null to it changes nothing.
        if (current?.value ?? .null) == value { return false }
        let timestamp = clock.tick()
        let register = current?.overwritten(with: value, at: timestamp) ?? .initial(value, at: timestamp)
        // Refuse here what the server would refuse: a write it cannot take
        // would otherwise block every later sync.
        if let problem = ChangeValidation.problem(with: Change(key: key, register: register)) {
            throw ClientError.unsyncable(problem)
        }
        let encoded = try RegisterCodec.Encoded(register)
        try RegisterCodec.store(encoded, at: key, db)
        try RegisterCodec.appendToChangeLog(encoded, at: key, db)
        touched.insert(key, value: value)
        commandChanged = true
        writes += 1
        return true
    }

    /// Writes `value` only when the register has never been written (e.g. the
    /// first added-at of an article). Returns whether anything changed.
    @discardableResult
    func setIfAbsent(_ key: RegisterKey, _ value: FieldValue) throws -> Bool {
        guard try !RegisterCodec.exists(at: key, db) else { return false }
        return try set(key, value)
    }

    /// Whether any register changed in this transaction.
    var changedAnything: Bool { commandChanged }

    func finish() throws {
        let materializer = Materializer(db: db)
        try materializer.refresh(touched)
        for id in searchLater ?? [] { try materializer.searchEntry(articleID: id) }
        try MetaKey.clock.write(clock.latest.encoded, db)
        FaultPoint.clientWriteBeforeCommit.reach()
    }
}

/// The entities a transaction touched, grouped as the materialiser needs them,
/// with the values it stored in their registers.
struct TouchedEntities {
    var articles: Set<String> = []
    var readStates: Set<String> = []
    var notes: Set<String> = []
    var tags: Set<String> = []
    /// What the registers written here hold now: the materialiser takes these
    /// instead of decoding the stored text again (an article's body is kilobytes).
    var values: [RegisterKey: FieldValue] = [:]

    var isEmpty: Bool { articles.isEmpty && readStates.isEmpty && notes.isEmpty && tags.isEmpty }

    /// Records that the register at `key` now holds `value`.
    mutating func insert(_ key: RegisterKey, value: FieldValue) {
        values[key] = value
        switch key.kind {
        case .article: articles.insert(key.entity)
        case .readState: readStates.insert(key.entity)
        case .note: notes.insert(key.entity)
        case .tag: tags.insert(key.entity)
        }
    }
}

/// ISO 8601 text for user-visible times, in UTC with milliseconds
/// (`2026-11-21T19:15:04.123Z`), so "newest first" holds within a second.
public enum ISOTime {
    public static func string(milliseconds: Int64) -> String {
        // Integer arithmetic: formatting a Double date loses the last millisecond.
        let seconds = milliseconds.quotient(dividingBy: 1000)
        let fraction = milliseconds - seconds * 1000
        let whole = Date(timeIntervalSince1970: Double(seconds)).formatted(.iso8601)  // …T19:15:04Z
        let digits = String(fraction)
        return whole.dropLast() + "." + String(repeating: "0", count: 3 - digits.count) + digits + "Z"
    }
}

extension Int64 {
    /// Division rounding towards negative infinity.
    fileprivate func quotient(dividingBy divisor: Int64) -> Int64 {
        let (quotient, remainder) = quotientAndRemainder(dividingBy: divisor)
        return remainder < 0 ? quotient - 1 : quotient
    }
}
