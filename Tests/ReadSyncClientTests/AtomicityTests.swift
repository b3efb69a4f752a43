import Foundation
import GRDB
import ReadSyncArticles
import ReadSyncCore
import Testing

@testable import ReadSyncClient

/// A write and its change-log row commit together or not at all.
struct AtomicityTests {
    let temporary = TemporaryHome()

    @Test func aFailingChangeLogInsertLeavesNoRegisterBehind() throws {
        let list = try temporary.open()
        let (id, _) = try list.add(ArticleDraft(url: nil, title: "Kept", content: "Some text to keep"))
        let before = try DatabaseSnapshot(list)

        // Make the change-log insert fail, as a crash or full disk would, in
        // the middle of a command whose register write already happened.
        try list.store.database.write { db in
            try db.execute(sql: "CREATE TRIGGER fail_log BEFORE INSERT ON outbox BEGIN SELECT RAISE(ABORT, 'simulated failure'); END")
        }
        #expect(throws: DatabaseError.self) { try list.setFavorite(id, true) }
        #expect(throws: DatabaseError.self) { try list.addNote(to: id, body: "lost?") }

        try list.store.database.write { db in try db.execute(sql: "DROP TRIGGER fail_log") }
        #expect(try DatabaseSnapshot(list) == before)
        #expect(try list.show(id).favorite == false)
    }

    @Test func anErrorInsideACommandRollsBackEverythingItWrote() throws {
        let list = try temporary.open()
        struct Boom: Error {}
        #expect(throws: Boom.self) {
            try list.store.command { write in
                try write.set(RegisterKey(kind: .article, entity: "0123456789abcdef", field: "title"), .text("half"))
                throw Boom()
            }
        }
        let counts = try list.store.read { db in
            (
                try Int.fetchOne(db, sql: "SELECT count(*) FROM article_values")!, try Int.fetchOne(db, sql: "SELECT count(*) FROM outbox")!,
                try Int.fetchOne(db, sql: "SELECT count(*) FROM articles")!
            )
        }
        #expect(counts == (0, 0, 0))
    }

    /// A sync cut off between an article's registers (or before its later
    /// tombstone) must not show a half-arrived or deleted article as live.
    @Test func anArticleShowsOnlyOnceItsTitleAddedAtAndTombstoneHaveArrived() throws {
        let list = try temporary.open()
        let otherHome = TemporaryHome()
        let writer = try otherHome.open()
        let (id, _) = try writer.add(ArticleDraft(url: nil, title: "Whole", content: "All of it"))
        let changes = try writer.changeLog().count
        let all = try #require(try writer.store.pendingBatch(limit: changes)).changes
        let withoutTombstone = all.filter { $0.field != "deleted" }
        _ = try list.store.applyPulled(withoutTombstone, cursor: 1, checkpoint: nil)
        #expect(try list.list().isEmpty && list.trash().isEmpty && list.search("whole").isEmpty)
        _ = try list.store.applyPulled(all, cursor: 2, checkpoint: nil)
        #expect(try list.list().map(\.id) == [id])
    }

    @Test func theDatabaseIsInWALMode() throws {
        let list = try temporary.open()
        #expect(try list.store.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") } == "wal")
    }
}
