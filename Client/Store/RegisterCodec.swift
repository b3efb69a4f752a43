import Foundation
import GRDB
import ReadSyncCore

/// Reads and writes registers and change-log rows as SQLite rows (values and
/// vectors as compact JSON text).
enum RegisterCodec {
    static func encode(_ value: FieldValue) throws -> String { try WireCoding.text(value) }
    static func encode(_ vector: VersionVector) throws -> String { try WireCoding.text(vector) }
    static func decodeValue(_ text: String) throws -> FieldValue { try WireCoding.value(fromText: text) }
    static func decodeVector(_ text: String) throws -> VersionVector { try WireCoding.vector(fromText: text) }

    /// The stored register at `key`, if any.
    static func register(at key: RegisterKey, _ db: Database) throws -> Register? {
        // Decoded in place rather than copied (`fetchOne`): every write and
        // every pulled change looks its register up. The cursor resets the
        // statement when released, so it must outlive the decoding.
        let found = try Row.fetchCursor(db.cachedStatement(sql: """
            SELECT value, timestamp, vector FROM registers WHERE kind = ? AND entity = ? AND field = ?
            """), arguments: [key.kind.rawValue, key.entity, key.field])
        return try withExtendedLifetime(found) { try found.next().map(register(from:)) }
    }

    /// Whether the register at `key` was ever written (without decoding it).
    static func exists(at key: RegisterKey, _ db: Database) throws -> Bool {
        try Bool.fetchOne(db.cachedStatement(sql: """
            SELECT 1 FROM registers WHERE kind = ? AND entity = ? AND field = ?
            """), arguments: [key.kind.rawValue, key.entity, key.field]) != nil
    }

    /// The values of one entity's registers, by field (their clocks left
    /// undecoded). Values in `known` (what this transaction just stored)
    /// are taken as they are instead of being decoded again.
    static func values(of kind: EntityKind, _ entity: String, _ db: Database,
                       known: [RegisterKey: FieldValue] = [:]) throws -> [String: FieldValue] {
        var result: [String: FieldValue] = [:]
        let rows = try Row.fetchCursor(db.cachedStatement(sql: """
            SELECT field, value FROM registers WHERE kind = ? AND entity = ?
            """), arguments: [kind.rawValue, entity])
        while let row = try rows.next() {
            let field: String = row["field"]
            if !known.isEmpty, let value = known[RegisterKey(kind: kind, entity: entity, field: field)] {
                result[field] = value
            } else {
                result[field] = try decodeValue(row["value"])
            }
        }
        return result
    }

    /// Every stored register of one entity, by field.
    static func registers(of kind: EntityKind, _ entity: String, _ db: Database) throws -> [String: Register] {
        var result: [String: Register] = [:]
        let rows = try Row.fetchCursor(db.cachedStatement(sql: """
            SELECT field, value, timestamp, vector FROM registers WHERE kind = ? AND entity = ?
            """), arguments: [kind.rawValue, entity])
        while let row = try rows.next() {
            result[row["field"]] = try register(from: row)
        }
        return result
    }

    static func register(from row: Row) throws -> Register {
        let timestampText: String = row["timestamp"]
        guard let timestamp = HLCTimestamp(encoded: timestampText) else {
            throw DatabaseError(resultCode: .SQLITE_CORRUPT, message: "invalid register timestamp \(timestampText)")
        }
        return Register(value: try decodeValue(row["value"]), timestamp: timestamp, vector: try decodeVector(row["vector"]))
    }

    static func store(_ register: Register, at key: RegisterKey, _ db: Database) throws {
        try store(Encoded(register), at: key, db)
    }

    /// A register as its columns hold it: encoded once, whether it goes to
    /// the registers, the change log or both.
    struct Encoded {
        let value: String
        let timestamp: String
        let vector: String

        init(_ register: Register) throws {
            value = try RegisterCodec.encode(register.value)
            timestamp = register.timestamp.encoded
            vector = try RegisterCodec.encode(register.vector)
        }
    }

    static func store(_ register: Encoded, at key: RegisterKey, _ db: Database) throws {
        try db.cachedStatement(sql: """
            INSERT INTO registers (kind, entity, field, value, timestamp, vector) VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT (kind, entity, field) DO UPDATE
            SET value = excluded.value, timestamp = excluded.timestamp, vector = excluded.vector
            """).execute(arguments: [key.kind.rawValue, key.entity, key.field, register.value, register.timestamp, register.vector])
    }

    /// Appends a local write to the change log.
    static func appendToChangeLog(_ register: Encoded, at key: RegisterKey, _ db: Database) throws {
        try db.cachedStatement(sql: """
            INSERT INTO change_log (kind, entity, field, value, timestamp, vector) VALUES (?, ?, ?, ?, ?, ?)
            """).execute(arguments: [key.kind.rawValue, key.entity, key.field, register.value, register.timestamp, register.vector])
    }
}
