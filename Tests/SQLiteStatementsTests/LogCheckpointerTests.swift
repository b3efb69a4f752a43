import Foundation
import GRDB
import SQLiteStatements
import Testing

/// Once a commit grows a WAL database's log past the threshold, the
/// checkpointer copies the log into the main file on its own connection
/// (the commit no longer copies it); detached, SQLite's automatic
/// checkpoint copies it inside the commits again.
struct LogCheckpointerTests {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("log-checkpointer-\(UUID().uuidString)")

    @Test func theLogIsCopiedByTheCheckpointerOnceACommitGrowsItPastTheThreshold() throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("library.sqlite").path
        let pool = try DatabasePool(path: path)
        try pool.write { db in try db.execute(sql: "CREATE TABLE pages (body BLOB)") }
        let checkpointer = try LogCheckpointer(pool)
        func mainFileBytes() throws -> Int { try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int }
        // Rows of 4,000 bytes: a page each.
        func commit(pages: Int) throws {
            try pool.write { db in
                try db.execute(
                    sql: """
                        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
                        INSERT INTO pages SELECT zeroblob(4000) FROM n
                        """, arguments: [pages])
            }
        }
        let empty = try mainFileBytes()

        try commit(pages: 600)
        checkpointer.waitUntilIdle()
        #expect(checkpointer.checkpointsRun == 0, "under the threshold the log is left as it is")
        #expect(try mainFileBytes() == empty)

        try commit(pages: 600)
        checkpointer.waitUntilIdle()
        #expect(checkpointer.checkpointsRun == 1)
        #expect(try mainFileBytes() > empty + 1_200 * 4_000, "the two commits are in the main file")

        checkpointer.detach(from: pool)
        let copied = try mainFileBytes()
        try commit(pages: 1_200)
        #expect(try mainFileBytes() > copied + 1_000 * 4_000, "SQLite's own checkpoint copied it inside the commit")
        checkpointer.waitUntilIdle()
        #expect(checkpointer.checkpointsRun == 1)
    }
}
