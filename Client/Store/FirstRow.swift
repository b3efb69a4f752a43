import GRDB
import GRDBSQLite

extension Statement {
    /// Runs the statement with `arguments` and hands `body` the columns of
    /// its first row, or nil when it has none; the statement is reset after.
    ///
    /// For lookups by key that a device makes for every entity it reads or
    /// writes. GRDB's fetches make a `Row` each, and making one builds a
    /// dictionary of the statement's column names, lowercased: a third of
    /// loading an entity (perf, a 20,000-row Pocket import). This steps the
    /// statement through its SQLite handle instead, as GRDB allows.
    func firstRow<T>(_ arguments: StatementArguments, _ body: (FirstRowColumns?) throws -> T) throws -> T {
        try setArguments(arguments)
        // Not left open: a statement stepped and not reset holds its read.
        defer { sqlite3_reset(sqliteStatement) }
        switch sqlite3_step(sqliteStatement) {
        case SQLITE_ROW: return try body(FirstRowColumns(statement: sqliteStatement))
        case SQLITE_DONE: return try body(nil)
        case let code:
            throw DatabaseError(
                resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(sqlite3_db_handle(sqliteStatement))), sql: sql)
        }
    }
}

/// The row `Statement.firstRow` stepped to, valid only inside its body.
struct FirstRowColumns {
    fileprivate let statement: SQLiteStatement

    /// The value of the column at `index` (from 0), copied.
    subscript(index: Int) -> DatabaseValue { DatabaseValue(sqliteStatement: statement, index: CInt(index)) }
}
