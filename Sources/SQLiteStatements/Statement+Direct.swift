import Foundation
import GRDB
import GRDBSQLite

// The statements a device runs for every entity it writes or reads (its
// row, its search queue entry, its outbox mark) and for every id a command
// names, and the server for every field it stores, run through SQLite's own
// API, as GRDB allows.
//
// GRDB's general path copies its arguments into `StatementArguments`,
// checks them against the statement, binds them one nested closure each
// and makes a `Row` (a dictionary of the statement's column names,
// lowercased) for every row read: for an article's thirteen-column upsert
// that took 11–12 µs against 6–7 µs bound and stepped here (a throwaway
// harness, 100,000 runs of the same statement), and making `Row`s was a
// third of loading an entity.
//
// What is skipped is GRDB's bookkeeping around a statement: transaction
// observers (readsync registers none) and the note of whether the
// connection left autocommit (these statements run inside a transaction
// GRDB opened, and neither begin nor end one). A statement that fails
// throws SQLite's error, and is reset so that it can run again.
extension Statement {
    /// Runs the statement once with `values` bound to its parameters, in
    /// order (there must be as many as it has), through to its end.
    public func run(_ values: [DatabaseValue]) throws {
        try bind(values)
        defer { sqlite3_reset(sqliteStatement) }
        while true {
            switch sqlite3_step(sqliteStatement) {
            case SQLITE_DONE: return
            case SQLITE_ROW: continue
            case let code: throw failure(code)
            }
        }
    }

    /// Runs the statement with `values` bound (as `run` does) and hands
    /// `body` the columns of its first row, or nil when it has none; the
    /// statement is reset after. For lookups by key.
    public func firstRow<T>(_ values: [DatabaseValue], _ body: (StatementColumns?) throws -> T) throws -> T {
        try bind(values)
        // Not left open: a statement stepped and not reset holds its read.
        defer { sqlite3_reset(sqliteStatement) }
        switch sqlite3_step(sqliteStatement) {
        case SQLITE_ROW: return try body(StatementColumns(statement: sqliteStatement))
        case SQLITE_DONE: return try body(nil)
        case let code: throw failure(code)
        }
    }

    /// Runs the statement with `values` bound (as `run` does) and hands
    /// `body` the columns of each row it gives, in order.
    public func forEachRow(_ values: [DatabaseValue], _ body: (StatementColumns) throws -> Void) throws {
        try bind(values)
        defer { sqlite3_reset(sqliteStatement) }
        while true {
            switch sqlite3_step(sqliteStatement) {
            case SQLITE_ROW: try body(StatementColumns(statement: sqliteStatement))
            case SQLITE_DONE: return
            case let code: throw failure(code)
            }
        }
    }

    /// Binds `values` to the parameters, in order. Text and blobs are
    /// copied by SQLite (`SQLITE_TRANSIENT`), so nothing must outlive a call.
    private func bind(_ values: [DatabaseValue]) throws {
        let statement = sqliteStatement
        precondition(
            values.count == Int(sqlite3_bind_parameter_count(statement)),
            "\(values.count) values for the \(sqlite3_bind_parameter_count(statement)) parameters of: \(sql)")
        sqlite3_reset(statement)
        for (offset, value) in values.enumerated() {
            let index = CInt(offset + 1)
            let code: CInt
            switch value.storage {
            case .null:
                code = sqlite3_bind_null(statement, index)
            case .int64(let number):
                code = sqlite3_bind_int64(statement, index, number)
            case .double(let number):
                code = sqlite3_bind_double(statement, index, number)
            case .string(var text):
                code = text.withUTF8 { sqlite3_bind_text64(statement, index, $0.baseAddress, UInt64($0.count), transient, UInt8(SQLITE_UTF8)) }
            case .blob(let bytes) where bytes.isEmpty:
                // Not a null pointer, which would bind null.
                code = sqlite3_bind_zeroblob(statement, index, 0)
            case .blob(let bytes):
                code = bytes.withUnsafeBytes { sqlite3_bind_blob64(statement, index, $0.baseAddress, UInt64($0.count), transient) }
            }
            // Only a value over SQLite's limit (a gigabyte) is refused.
            guard code == SQLITE_OK else { throw failure(code) }
        }
    }

    private func failure(_ code: CInt) -> DatabaseError {
        DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(sqlite3_db_handle(sqliteStatement))), sql: sql)
    }
}

/// The row `Statement.firstRow` or `forEachRow` stepped to, valid only
/// inside their body.
public struct StatementColumns {
    fileprivate let statement: SQLiteStatement

    /// The value of the column at `index` (from 0), copied.
    public subscript(index: Int) -> DatabaseValue { DatabaseValue(sqliteStatement: statement, index: CInt(index)) }
}

/// SQLite's `SQLITE_TRANSIENT`: copy the bytes before the bind returns (a
/// C macro Swift does not import).
private let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
