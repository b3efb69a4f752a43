import Foundation
import GRDB
import ReadSyncCore
import ReadSyncTestSupport
import SQLiteStatements
import Testing

@testable import ReadSyncServer

/// What only the SQLite store has: group commit, durable commits, its
/// migrations and its epoch. The rules every store follows are in
/// `SyncStoreContractTests`.
struct SQLiteSyncStoreTests {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("readsync-store-\(UUID().uuidString)")
    let a = NodeID("aaaa")!, b = NodeID("bbbb")!
    /// The device pushing, where it does not matter which.
    static let pusher = NodeID("cccc")!

    func change(_ value: String, _ node: NodeID, at physical: Int64, after previous: Change? = nil) -> Change {
        let timestamp = HLCTimestamp(physical: physical, counter: 0, node: node)
        let register = previous.map { $0.register.overwritten(with: .text(value), at: timestamp) } ?? .initial(.text(value), at: timestamp)
        return Change(key: RegisterKey(kind: .article, entity: "0123456789abcdef", field: "title"), register: register)
    }

    /// A new store in `directory` with one user, alice (token hash "h").
    func storeWithAlice() async throws -> (SQLiteSyncStore, UserID) {
        let store = try SQLiteSyncStore(directory: directory)
        try store.addUser(name: "alice", tokenHash: "h")
        return (store, try #require(try await store.user(forTokenHash: "h")))
    }

    /// Pushes that arrive while the writer is busy commit together, each
    /// still all-or-nothing: a refused one leaves nothing, the others stay.
    @Test func pushesWaitingTogetherCommitTogetherAndARefusedOneFailsAlone() async throws {
        let (store, user) = try await storeWithAlice()
        defer {
            try? store.close()
            try? FileManager.default.removeItem(at: directory)
        }
        let first = change("first", a, at: 500)
        _ = try await store.push([first], from: Self.pusher, for: user)

        func author(_ name: String, _ node: NodeID, at physical: Int64) -> Change {
            Change(
                key: RegisterKey(kind: .article, entity: "0123456789abcdef", field: "author"),
                register: .initial(.text(name), at: HLCTimestamp(physical: physical, counter: 0, node: node)))
        }
        let byB = author("B", b, at: 600)
        let byA = author("A", a, at: 700)
        // Has seen `first` but is stamped before it: refused.
        let backwards = Change(
            key: first.key, register: first.register.overwritten(with: .text("second"), at: HLCTimestamp(physical: 100, counter: 0, node: a)))

        // Hold the writer until all three pushes wait for it: its next turn takes them together.
        let commits = CommitCounter()
        store.database.add(transactionObserver: commits, extent: .databaseLifetime)
        let writerHeld = DispatchSemaphore(value: 0)
        store.database.asyncWriteWithoutTransaction { _ in writerHeld.wait() }
        let refusedAuthor = author("refused", a, at: 800)
        let pushByB = Task { try await store.push([byB], from: Self.pusher, for: user) }
        let pushBackwards = Task { try await store.push([refusedAuthor, backwards], from: Self.pusher, for: user) }  // stores one, then is refused
        let pushByA = Task { try await store.push([byA], from: Self.pusher, for: user) }
        while store.waitingPushCount < 3 { try await Task.sleep(for: .milliseconds(1)) }
        writerHeld.signal()

        #expect(try await pushByB.value.accepted == 1)
        #expect(try await pushByA.value.accepted == 1)
        await #expect(throws: ServerMerge.Refusal.self) { try await pushBackwards.value }
        let page = try await store.changes(for: user, after: 0, limit: 10, excludingOrigin: nil)
        #expect(page.changes.count == 3 && page.latest == 3, "the refused push left no change and no sequence number")
        #expect(Set(page.changes.map { $0.value }) == [.text("first"), .text("B"), .text("A")])
        #expect(commits.count == 1, "the three pushes shared one commit")
    }

    /// An acknowledged push leaves the client's outbox, so its commit must
    /// survive a power cut: the WAL is synced at every commit.
    @Test func pushesCommitWithAFullSyncOfTheLog() throws {
        let store = try SQLiteSyncStore(directory: directory)
        defer {
            try? store.close()
            try? FileManager.default.removeItem(at: directory)
        }
        #expect(try store.writerSynchronousSetting == 2)
    }

    /// The WAL is copied into the main file once commits grow it past
    /// `LogCheckpointer.thresholdBytes` of log, on a connection of its own after
    /// the push's commit (SQLite's own checkpoint inside the commit is off),
    /// while the store stays open: the log does not grow without end.
    @Test func theLogIsCheckpointedOnceItGrowsWhileTheStoreIsOpen() async throws {
        let (store, user) = try await storeWithAlice()
        defer {
            try? store.close()
            try? FileManager.default.removeItem(at: directory)
        }
        let mainFile = directory.appendingPathComponent("server.sqlite").path
        func mainFileBytes() throws -> Int { try FileManager.default.attributesOfItem(atPath: mainFile)[.size] as! Int }
        let before = try mainFileBytes()
        let text = String(repeating: "a page and more of text ", count: 300_000)  // 7 MB
        _ = try await store.push([change(text, a, at: 500)], from: Self.pusher, for: user)
        store.checkpointer.waitUntilIdle()
        #expect(store.checkpointer.checkpointsRun == 1, "copied by the checkpointer, not inside the commit")
        #expect(try mainFileBytes() > before + 7_000_000)
    }

    /// A database written by the first schema keeps every register and
    /// logged change through the rowid tables (v2) and the single table of
    /// field versions (v3).
    @Test func aFirstVersionDatabaseKeepsItsDataInRowidTables() async throws {
        let kept = change("kept", a, at: 100)
        let path = directory.appendingPathComponent("server.sqlite").path
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try Self.writeFirstVersionDatabase(at: path, holding: kept, from: a)

        let store = try SQLiteSyncStore(directory: directory)
        defer { try? FileManager.default.removeItem(at: directory) }
        let user = try #require(try await store.user(forTokenHash: "h"))
        #expect(try await store.changes(for: user, after: 0, limit: 10, excludingOrigin: nil).changes == [kept])
        #expect(try await store.push([kept], from: Self.pusher, for: user).counts == [0, 1], "the register is still there")
        #expect(try await store.push([change("later", a, at: 200, after: kept)], from: Self.pusher, for: user).accepted == 1)
        try store.close()

        let definitions = try Self.definitions(of: ["registers", "changes", "field_versions"], at: path)
        #expect(definitions.count == 1 && definitions[0].contains("field_versions") && !definitions[0].contains("WITHOUT ROWID"), "\(definitions)")
    }

    /// Alice (token hash "h") with one register and its logged change, in the v1 schema.
    private static func writeFirstVersionDatabase(at path: String, holding change: Change, from origin: NodeID) throws {
        let firstVersion = try DatabaseQueue(path: path)
        try ServerSchema.migrator.migrate(firstVersion, upTo: "v1")
        try firstVersion.write { db in
            try db.execute(sql: "INSERT INTO users (id, name, token_hash, created_at, last_seq) VALUES (1, 'alice', 'h', '2026-11-01T00:00:00Z', 1)")
            let columns: [any DatabaseValueConvertible] = [
                change.kind.rawValue, change.entity, change.field, try WireCoding.text(change.value),
                change.timestamp.encoded, try WireCoding.text(change.vector),
            ]
            try db.execute(sql: "INSERT INTO registers VALUES (1, ?, ?, ?, ?, ?, ?)", arguments: StatementArguments(columns))
            try db.execute(sql: "INSERT INTO changes VALUES (1, 1, ?, ?, ?, ?, ?, ?, ?)", arguments: StatementArguments([origin.rawValue] + columns))
        }
        try firstVersion.close()
    }

    private static func definitions(of tables: [String], at path: String) throws -> [String] {
        try DatabaseQueue(path: path).read { db in
            try String.fetchAll(db, sql: "SELECT sql FROM sqlite_master WHERE name IN (\(tables.map { "'\($0)'" }.joined(separator: ", ")))")
        }
    }

    /// A database of the version before collections (`v5-devices`), with a
    /// device that pulled, another that only pushed (no row yet) and a
    /// deleted article, upgrades: both are devices holding the horizon, and
    /// the article is collected once both have pulled past its delete.
    @Test func aDatabaseFromBeforeCollectionsUpgradesAndCollects() throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("server.sqlite").path
        let previous = try DatabaseQueue(path: path)
        try ServerSchema.migrator.migrate(previous, upTo: "v5-devices")
        let title = change("doomed", a, at: 100)
        let deleted = Change(
            key: RegisterKey(kind: .article, entity: title.entity, field: "deleted"),
            register: .initial(.bool(true), at: HLCTimestamp(physical: 200, counter: 0, node: a)))
        let body = Change(
            key: RegisterKey(kind: .article, entity: title.entity, field: "content"),
            register: .initial(.text("the body"), at: HLCTimestamp(physical: 100, counter: 0, node: a)))
        try previous.write { db in
            try db.execute(sql: "INSERT INTO users (id, name, token_hash, created_at, last_seq) VALUES (1, 'alice', 'h', '2026-11-01T00:00:00Z', 3)")
            for (seq, change) in [title, body, deleted].enumerated() {
                try db.execute(
                    sql: "INSERT INTO field_versions VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?)",
                    arguments: [
                        seq + 1, a.rawValue, change.kind.rawValue, change.entity, change.field, try WireCoding.text(change.value),
                        change.timestamp.encoded, try WireCoding.text(change.vector),
                    ])
            }
            try db.execute(sql: "INSERT INTO history (user_id, last_seq, token) VALUES (1, 3, '0123456789abcdef')")
            try db.execute(
                sql: "INSERT INTO devices (user_id, node, name, first_seen, last_seen, pulled) VALUES (1, ?, 'laptop', ?, ?, 2)",
                arguments: [b.rawValue, Date().formatted(.iso8601), Date().formatted(.iso8601)])
        }
        try previous.close()

        let store = try SQLiteSyncStore(directory: directory)
        defer { try? store.close() }
        let user = UserID(1)
        let devices = try store.devices(ofUserNamed: "alice")
        #expect(devices.map(\.node).sorted() == [a.rawValue, b.rawValue] && devices.allSatisfy { $0.retiredAt == nil && $0.pulled <= 2 })
        let policy = CollectionPolicy(retireAfter: 30 * CollectionPolicy.days, keepTrash: 0)
        store.recordSighting(of: b, for: user, name: nil, pulled: 3)
        #expect(try store.collectGarbage(now: Date(), policy: policy).articles == 0, "the device that pushed has not pulled the delete")
        store.recordSighting(of: a, for: user, name: nil, pulled: 3)
        #expect(try store.collectGarbage(now: Date(), policy: policy).articles == 1)
        let state = try store.registers(for: user)
        #expect(state[body.key]?.value == .null && state[title.key] == title.register && state[deleted.key] == deleted.register)
        let known = KnownHistory(epoch: store.epoch, checkpoint: HistoryCheckpoint(seq: 3, token: "0123456789abcdef"))
        #expect(try store.changesNow(for: user, after: 3, limit: 10, excludingOrigin: b, known: known).changes.map(\.value) == [.null])
    }

    /// A database from before entities were numbered (`v8-web-password`),
    /// two users holding an article of the same id and one of them a
    /// conflict, upgrades: every stored version is still found through its
    /// entity's number. Pushed again, each is absorbed; a write that has
    /// seen both sides of the conflict replaces them; the other user's
    /// article is untouched; an entity new after the upgrade is found too.
    @Test func aDatabaseFromBeforeEntityNumbersFindsEveryVersionAfterTheUpgrade() async throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("server.sqlite").path
        let previous = try DatabaseQueue(path: path)
        try ServerSchema.migrator.migrate(previous, upTo: "v8-web-password")
        func version(_ field: String, _ value: String, _ node: NodeID, at physical: Int64, of entity: String = "0123456789abcdef") -> Change {
            Change(
                key: RegisterKey(kind: .article, entity: entity, field: field),
                register: .initial(.text(value), at: HLCTimestamp(physical: physical, counter: 0, node: node)))
        }
        let titleByA = version("title", "by a", a, at: 100), author = version("author", "someone", a, at: 100)
        let titleByB = version("title", "by b", b, at: 150)
        let other = version("title", "another article", a, at: 200, of: "fedcba9876543210")
        let bobsOther = version("title", "bob's other", b, at: 50, of: "fedcba9876543210"), bobs = version("title", "bob's", b, at: 100)
        let stored: [(user: Int64, seq: Int64, change: Change)] = [
            (1, 1, titleByA), (1, 2, author), (1, 3, titleByB), (1, 4, other), (2, 1, bobsOther), (2, 2, bobs),
        ]
        try await previous.write { db in
            try db.execute(
                sql: """
                    INSERT INTO users (id, name, token_hash, created_at, last_seq) VALUES
                        (1, 'alice', 'h', '2026-11-01T00:00:00Z', 4), (2, 'bob', 'h2', '2026-11-01T00:00:00Z', 2)
                    """)
            for (user, seq, change) in stored {
                try db.execute(
                    sql: "INSERT INTO field_versions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    arguments: [
                        user, seq, change.timestamp.node.rawValue, change.kind.rawValue, change.entity, change.field,
                        try WireCoding.text(change.value), change.timestamp.encoded, try WireCoding.text(change.vector),
                    ])
            }
            try db.execute(sql: "INSERT INTO history (user_id, last_seq, token) VALUES (1, 4, '0123456789abcdef'), (2, 2, 'fedcba9876543210')")
        }
        try previous.close()

        var told: [[String]] = []
        let store = try SQLiteSyncStore(directory: directory, willUpgrade: { told.append($0) })
        #expect(told == [["v9-entities"]], "told before the upgrade ran")
        let (alice, bob) = (UserID(1), UserID(2))
        #expect(try store.storedVersions(for: alice)[titleByA.key]?.count == 2, "the conflict is kept")
        #expect(try await store.push([titleByA, author, titleByB, other], from: Self.pusher, for: alice).counts == [0, 4])
        #expect(try await store.push([bobsOther, bobs], from: Self.pusher, for: bob).counts == [0, 2])

        let resolved = Change(
            key: titleByA.key,
            register: Register.merge(titleByA.register, titleByB.register).merged.overwritten(
                with: .text("resolved"), at: HLCTimestamp(physical: 300, counter: 0, node: a)))
        #expect(try await store.push([resolved], from: Self.pusher, for: alice).counts == [1, 0])
        #expect(try store.storedVersions(for: alice)[titleByA.key] == [resolved.register], "both sides replaced")
        #expect(try store.storedVersions(for: bob)[bobs.key] == [bobs.register], "bob's article of the same id untouched")

        let new = version("title", "new after the upgrade", a, at: 400, of: "00000000000000aa")
        #expect(try await store.push([new], from: Self.pusher, for: alice).counts == [1, 0])
        #expect(try await store.push([new], from: Self.pusher, for: alice).counts == [0, 1])
        #expect(try await store.versions(of: [EntitiesRequest.Address(kind: .article, entity: new.entity)], for: alice) == [new])
        #expect(
            try await store.versions(
                of: [EntitiesRequest.Address(kind: .article, entity: other.entity), EntitiesRequest.Address(kind: .note, entity: other.entity)],
                for: alice) == [other], "an entity stored before the upgrade, and none of another kind with its id")

        try store.close()
        try store.close()  // again: nothing happens
        try SQLiteSyncStore(directory: directory, willUpgrade: { told.append($0) }).close()
        try SQLiteSyncStore(directory: directory.appendingPathComponent("new"), willUpgrade: { told.append($0) }).close()
        #expect(told.count == 1, "neither an upgraded database opened again nor a new one is an upgrade")
    }

    /// A new database is made with pages of `SQLiteSyncStore.pageSize`; one
    /// made with SQLite's default keeps its pages through the upgrade (no
    /// rewrite of the whole file) and still takes pushes.
    @Test func aNewDatabaseHasLargePagesAndAnExistingOneKeepsItsOwn() async throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        func pageSizeAndJournal(_ store: SQLiteSyncStore) throws -> (Int, String) {
            try store.database.read { db in
                (try Int.fetchOne(db, sql: "PRAGMA page_size") ?? 0, try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "")
            }
        }
        let new = try SQLiteSyncStore(directory: directory.appendingPathComponent("new"))
        #expect(try pageSizeAndJournal(new) == (SQLiteSyncStore.pageSize, "wal"))
        try new.close()
        let reopened = try SQLiteSyncStore(directory: directory.appendingPathComponent("new"))
        #expect(try pageSizeAndJournal(reopened) == (SQLiteSyncStore.pageSize, "wal"))
        try reopened.close()

        let existing = directory.appendingPathComponent("existing")
        try FileManager.default.createDirectory(at: existing, withIntermediateDirectories: true)
        let previous = try DatabaseQueue(path: existing.appendingPathComponent("server.sqlite").path)
        try ServerSchema.migrator.migrate(previous, upTo: "v8-web-password")
        try await previous.write { db in
            try db.execute(sql: "INSERT INTO users (id, name, token_hash, created_at, last_seq) VALUES (1, 'alice', 'h', '2026-11-01T00:00:00Z', 0)")
        }
        try previous.close()
        let upgraded = try SQLiteSyncStore(directory: existing)
        #expect(try pageSizeAndJournal(upgraded) == (4_096, "wal"))
        let user = try #require(try await upgraded.user(forTokenHash: "h"))
        #expect(try await upgraded.push([change("kept", a, at: 100)], from: Self.pusher, for: user).accepted == 1)
        #expect(try await upgraded.changes(for: user, after: 0, limit: 10, excludingOrigin: nil).changes == [change("kept", a, at: 100)])
        try upgraded.close()
    }

    @Test func theEpochSurvivesRestartsAndANewDatabaseGetsANewOne() throws {
        let first = try SQLiteSyncStore(directory: directory)
        let epoch = first.epoch
        try first.close()
        let reopened = try SQLiteSyncStore(directory: directory)
        #expect(reopened.epoch == epoch)
        try reopened.close()
        try FileManager.default.removeItem(at: directory)
        let fresh = try SQLiteSyncStore(directory: directory)
        #expect(fresh.epoch != epoch)
        try fresh.close()
        try FileManager.default.removeItem(at: directory)
    }
}
