import Foundation
import GRDB
import GRDBSQLite
import SQLiteStatements
import Testing

/// The statements run through SQLite's own API store every kind of value
/// as it was given (read back through GRDB), read back what SQLite holds,
/// and fail with SQLite's error, the statement ready to run again.
struct StatementDirectTests {
    let database: DatabaseQueue

    init() throws {
        database = try DatabaseQueue()
        try database.write { db in
            try db.execute(sql: "CREATE TABLE t (id INTEGER PRIMARY KEY, text TEXT, number REAL, bytes BLOB, absent TEXT, UNIQUE (text))")
        }
    }

    @Test func everyKindOfValueIsStoredAsItWasGiven() throws {
        let values: [[DatabaseValue]] = [
            [1.databaseValue, "plain".databaseValue, 0.5.databaseValue, Data([0, 1, 2, 255]).databaseValue, .null],
            // Accents and an emoji; a whole double; an empty blob.
            [2.databaseValue, "tab\tand é 📚".databaseValue, 3.0.databaseValue, Data().databaseValue, .null],
            [
                Int64.max.databaseValue, String(repeating: "long text ", count: 5_000).databaseValue, (-0.0).databaseValue,
                Data(repeating: 7, count: 70_000).databaseValue, .null,
            ],
        ]
        try database.write { db in
            let insert = try db.cachedStatement(sql: "INSERT INTO t (id, text, number, bytes, absent) VALUES (?, ?, ?, ?, ?)")
            for row in values { try insert.run(row) }
        }
        let stored = try database.read { db in
            try Row.fetchAll(db, sql: "SELECT id, text, number, bytes, absent, typeof(bytes) FROM t ORDER BY id").map { row in
                (Array(row.databaseValues.prefix(5)), row[5] as String)
            }
        }
        #expect(stored.map(\.0) == values)
        #expect(stored.map(\.1) == ["blob", "blob", "blob"], "an empty blob is a blob, not null")
    }

    @Test func aLookupGivesItsFirstRowOrNone() throws {
        try database.write { db in
            try db.execute(sql: "INSERT INTO t (id, text) VALUES (1, 'one'), (2, 'two'), (3, 'three')")
            let select = try db.cachedStatement(sql: "SELECT id, text FROM t WHERE id >= ? ORDER BY id")
            #expect(try select.firstRow([2.databaseValue]) { $0.map { [$0[0], $0[1]] } } == [2.databaseValue, "two".databaseValue])
            #expect(try select.firstRow([9.databaseValue]) { $0 == nil })
            var rows: [String] = []
            try select.forEachRow([1.databaseValue]) { rows.append(String.fromDatabaseValue($0[1])!) }
            #expect(rows == ["one", "two", "three"])
            // Reset after the first row and after a failure: a statement left
            // stepping would hold its read open.
            #expect(try select.firstRow([1.databaseValue]) { $0 != nil })
            #expect(sqlite3_stmt_busy(select.sqliteStatement) == 0)
            struct Stop: Error {}
            #expect(throws: Stop.self) { try select.forEachRow([1.databaseValue]) { _ in throw Stop() } }
            #expect(sqlite3_stmt_busy(select.sqliteStatement) == 0)
            try db.execute(sql: "DELETE FROM t WHERE id = 1")
            #expect(try select.firstRow([1.databaseValue]) { $0.map { Int64.fromDatabaseValue($0[0]) } } == 2)
        }
    }

    @Test func aFailingStatementThrowsSQLitesErrorAndRunsAgainAfter() throws {
        try database.write { db in
            let insert = try db.cachedStatement(sql: "INSERT INTO t (id, text) VALUES (?, ?)")
            try insert.run([1.databaseValue, "same".databaseValue])
            let error = try #require(throws: DatabaseError.self) { try insert.run([2.databaseValue, "same".databaseValue]) }
            #expect(error.resultCode == .SQLITE_CONSTRAINT)
            #expect(error.message?.contains("UNIQUE constraint failed: t.text") == true)
            try insert.run([2.databaseValue, "other".databaseValue])
        }
        #expect(try database.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM t") } == 2)
    }
}
