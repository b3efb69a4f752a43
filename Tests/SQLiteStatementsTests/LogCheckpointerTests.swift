import Foundation
import GRDB
import SQLiteStatements
import Testing

/// Once a commit grows a WAL database's log past the threshold, the
/// checkpointer copies the log into the main file on its own connection
/// (the commit no longer copies it); a writer that commits faster than the
/// copies catch up still keeps the log bounded; closed, the checkpointer
/// gives the writer back SQLite's automatic checkpoint.
struct LogCheckpointerTests {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("log-checkpointer-\(UUID().uuidString)")
    let path: String
    let pool: DatabasePool

    init() throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        path = folder.appendingPathComponent("library.sqlite").path
        pool = try DatabasePool(path: path)
        try pool.write { db in try db.execute(sql: "CREATE TABLE pages (body BLOB)") }
    }

    private func bytes(_ file: String) throws -> Int { try FileManager.default.attributesOfItem(atPath: file)[.size] as! Int }
    private func mainFileBytes() throws -> Int { try bytes(path) }

    /// Commits `pages` rows of 4,000 bytes: a page each.
    private func commit(pages: Int) throws {
        try pool.write { db in
            try db.execute(
                sql: """
                    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
                    INSERT INTO pages SELECT zeroblob(4000) FROM n
                    """, arguments: [pages])
        }
    }

    @Test func theLogIsCopiedByTheCheckpointerOnceACommitGrowsItPastTheThreshold() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        let checkpointer = try LogCheckpointer(pool)
        let empty = try mainFileBytes()

        try commit(pages: 600)
        checkpointer.waitUntilIdle()
        #expect(checkpointer.checkpointsRun == 0, "under the threshold the log is left as it is")
        #expect(try mainFileBytes() == empty)

        try commit(pages: 600)
        checkpointer.waitUntilIdle()
        #expect(checkpointer.checkpointsRun == 1)
        #expect(try mainFileBytes() > empty + 1_200 * 4_000, "the two commits are in the main file")

        checkpointer.close(detachingFrom: pool)
        checkpointer.close(detachingFrom: pool)  // once is enough; again does nothing
        let copied = try mainFileBytes()
        try commit(pages: 1_200)
        #expect(try mainFileBytes() > copied + 1_000 * 4_000, "SQLite's own checkpoint copied it inside the commit")
        #expect(checkpointer.checkpointsRun == 1)
    }

    /// The threshold is a length of log, not a count of pages: a database
    /// of 32 KB pages has it copied after about 4 MB, as one of SQLite's
    /// default 4 KB pages does, not after 1,000 of its larger pages.
    @Test func theThresholdIsTheSameLengthOfLogWhateverThePageSize() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        let largePages = folder.appendingPathComponent("large-pages.sqlite").path
        let new = try DatabaseQueue(path: largePages)
        try new.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA page_size = 32768; PRAGMA journal_mode = WAL") }
        try new.close()
        let pool = try DatabasePool(path: largePages)
        try pool.write { db in try db.execute(sql: "CREATE TABLE pages (body BLOB)") }
        let checkpointer = try LogCheckpointer(pool)
        defer { checkpointer.close(detachingFrom: pool) }
        #expect(checkpointer.threshold == 125 && checkpointer.limit == 500)
        func commit(rows: Int) throws {
            try pool.write { db in
                try db.execute(
                    sql: """
                        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
                        INSERT INTO pages SELECT zeroblob(4000) FROM n
                        """, arguments: [rows])
            }
        }
        try commit(rows: 600)  // about 75 pages: 2.4 MB
        checkpointer.waitUntilIdle()
        #expect(checkpointer.checkpointsRun == 0)
        try commit(rows: 600)  // about 150 pages: 4.8 MB
        checkpointer.waitUntilIdle()
        #expect(checkpointer.checkpointsRun == 1, "past 4 MB of log, though far from 1,000 pages")
    }

    /// The log starts over only when a write transaction finds all of it
    /// copied: small commits one after the other (a command each) keep
    /// adding to it while a copy runs, and would grow it without end (to
    /// 263 MB in the benchmark's run of 4,000 commands), were the writer not
    /// to catch up past `limit`.
    @Test func commitsBackToBackKeepTheLogBounded() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        let checkpointer = try LogCheckpointer(pool)
        defer { checkpointer.close(detachingFrom: pool) }
        for _ in 0..<2_500 { try commit(pages: 8) }
        let frame = 24 + 4_096
        #expect(try bytes(path + "-wal") <= (Int(checkpointer.limit) + 100) * frame, "20,000 pages committed; without the limit, some 24,000 in the log")
        checkpointer.waitUntilIdle()
        #expect(try mainFileBytes() > 19_000 * 4_000)
    }

    /// Closing the pool first leaves the checkpointer nothing to detach
    /// from; its connection, the last one, then copies what is left and
    /// removes the WAL.
    @Test func aCheckpointerClosedAfterItsPoolClosesQuietly() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        let checkpointer = try LogCheckpointer(pool)
        try commit(pages: 1_200)
        try pool.close()
        #expect(FileManager.default.fileExists(atPath: path + "-wal"), "the checkpointer's connection is still open")
        checkpointer.close(detachingFrom: pool)
        #expect(!FileManager.default.fileExists(atPath: path + "-wal"))
    }
}
