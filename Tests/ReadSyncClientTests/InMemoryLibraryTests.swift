import Foundation
import GRDB
import ReadSyncArticles
import ReadSyncCore
import Testing

@testable import ReadSyncClient

/// The in-memory library that simulations run by the thousand.
struct InMemoryLibraryTests {
    /// Regression: GRDB's `read` on a database queue set `PRAGMA query_only`
    /// on and off, and setting a pragma expires every prepared statement of
    /// the connection, so each sync compiled all its statements again.
    @Test func readingSetsNoPragmaThatWouldExpireThePreparedStatements() throws {
        let list = ReadingList(store: try ClientStore(inMemoryWith: SystemWallClock()))
        let id = try list.add(ArticleDraft(url: nil, title: "Kept", content: "A body")).id
        let executed = Executed()
        list.store.database.writeWithoutTransaction { db in db.trace { executed.append($0.description) } }

        _ = try list.store.syncState()
        _ = try list.store.pendingBatch(limit: 10)
        #expect(try list.show(id).title == "Kept")

        #expect(!executed.statements.isEmpty, "the trace saw the reads")
        #expect(!executed.statements.contains { $0.localizedCaseInsensitiveContains("PRAGMA") }, "\(executed.statements)")
    }

    /// What the connection ran. The trace is called on the connection's own
    /// queue while the test waits for it, so one lock is plenty.
    private final class Executed: @unchecked Sendable {
        private let lock = NSLock()
        private var list: [String] = []
        func append(_ sql: String) { lock.withLock { list.append(sql) } }
        var statements: [String] { lock.withLock { list } }
    }
}
