import GRDB
import Testing

@testable import ReadSyncClient

/// A library hands the pages a sync freed back to the file system.
struct FreePagesTests {
    let temporary = TemporaryHome()

    @Test func freedPagesGoBackToTheFileSystem() throws {
        let list = try temporary.open()
        // Free a few megabytes of pages, as acknowledging a big outbox does.
        try list.store.database.write { db in
            try db.execute(sql: "CREATE TABLE ballast (x BLOB)")
            for _ in 0..<400 { try db.execute(sql: "INSERT INTO ballast VALUES (zeroblob(8000))") }
            try db.execute(sql: "DROP TABLE ballast")
        }
        func freePages() throws -> Int { try list.store.read { try Int.fetchOne($0, sql: "PRAGMA freelist_count") ?? -1 } }
        #expect(try freePages() > 256)
        #expect(try list.store.read { try Int.fetchOne($0, sql: "PRAGMA auto_vacuum") } == 2, "a new library vacuums incrementally")
        try list.store.releaseFreePages()
        #expect(try freePages() == 0)
    }
}
