import Foundation
import GRDB
import ReadSyncArticles
import ReadSyncCore
import ReadSyncTestSupport
import Testing

@testable import ReadSyncClient

/// Several commands in one transaction give the same library as one at a time.
struct OneTransactionTests {
    let temporary = TemporaryHome()
    let other = TemporaryHome()

    private func save(_ list: ReadingList) throws -> String {
        let (id, _) = try list.add(
            ArticleDraft(url: CanonicalURL("https://example.com/batch"), title: "Batched", content: "A body about lighthouses and tides"))
        try list.addNote(to: id, body: "Compare the harbour chapter")
        try list.setProgress(id, percent: 40)
        try list.tag(id, add: ["sea"], remove: [])
        return id
    }

    private struct Boom: Error {}

    /// A command that writes the article's title, then what `more` writes,
    /// and then throws.
    private func failingCommand(_ list: ReadingList, _ id: String, _ more: (LocalWrite) throws -> Void) {
        #expect(throws: Boom.self) {
            try list.store.command { write in
                try write.set(RegisterKey(kind: .article, entity: id, field: ArticleField.title.rawValue), .text("Never saved"))
                try more(write)
                throw Boom()
            }
        }
    }

    @Test func commandsInOneTransactionMatchCommandsOneByOne() throws {
        let single = try temporary.open(), batched = try other.open()
        let id = try save(single)
        let batchedID = try batched.inOneTransaction { try save(batched) }

        #expect(batchedID == id)
        #expect(try batched.show(id).notes.map(\.body) == single.show(id).notes.map(\.body))
        #expect(try batched.list().map(\.progress) == single.list().map(\.progress))
        #expect(try batched.search("harbour").map(\.id) == [id], "the full-text index includes notes added in the same transaction")
        #expect(try batched.search("lighthouses").map(\.id) == [id])
        #expect(try batched.status().pendingChanges == single.status().pendingChanges)
    }

    @Test func aFailingCommandInsideLeavesNothingAndTheOthersCommit() throws {
        let list = try temporary.open()
        try list.inOneTransaction {
            let id = try save(list)
            #expect(throws: LookupError.unknownArticle("no-such-article")) { try list.addNote(to: "no-such-article", body: "lost") }
            #expect(throws: EditError.invalidProgress("150.0")) { try list.setProgress(id, percent: 150) }
        }
        #expect(try list.list().count == 1)
        #expect(try list.status().notes == 1)
    }

    /// `client add` of many files: one commit for all of them; an article
    /// the library refuses (a body the server could not take) is left out
    /// alone, and the others are searchable at once.
    @Test func draftsAddedTogetherCommitOnceAndARefusedOneFailsAlone() throws {
        let list = try temporary.open()
        let commits = CommitCounter()
        list.store.database.add(transactionObserver: commits, extent: .databaseLifetime)
        let drafts = [
            ArticleDraft(url: CanonicalURL("https://example.com/tides"), title: "Tides", content: "The tides of the harbour"),
            ArticleDraft(url: CanonicalURL("https://example.com/huge"), title: "Too large", content: String(repeating: "x", count: 5_000_000)),
            ArticleDraft(url: CanonicalURL("https://example.com/lighthouses"), title: "Lighthouses", content: "Keepers of the lighthouses"),
        ]
        let results = try list.add(drafts, tags: ["sea"])

        #expect(commits.count == 1)
        #expect(throws: EditError.self) { try results[1].get() }
        let added = try [results[0].get(), results[2].get()]
        #expect(added.map(\.outcome) == [.added, .added] && added.map(\.id) == [drafts[0].id, drafts[2].id])
        #expect(Set(try list.list().map(\.id)) == Set(added.map(\.id)))
        #expect(try list.search("harbour").map(\.id) == [drafts[0].id] && list.search("keepers").map(\.id) == [drafts[2].id])
        #expect(try list.list(ListFilter(tag: "sea")).count == 2)
    }

    @Test func anErrorOutOfTheBodyKeepsNoneOfIt() throws {
        let list = try temporary.open()
        struct Stop: Error {}
        #expect(throws: Stop.self) {
            try list.inOneTransaction {
                _ = try save(list)
                throw Stop()
            }
        }
        #expect(try list.list().isEmpty && list.status().pendingChanges == 0)
        #expect(try list.search("lighthouses").isEmpty)
    }

    /// A command rolled back inside the batch must not leave its values in the
    /// materialised rows of a later command, though the same entity is touched.
    @Test func aCommandThatFailsAfterWritingLeavesTheLibraryAsItsRegistersAre() throws {
        let list = try temporary.open()
        let id = try list.inOneTransaction {
            let id = try save(list)
            failingCommand(list, id) { write in
                try write.set(RegisterKey(kind: .readState, entity: id, field: ReadStateField.archived.rawValue), .bool(true))
            }
            try list.setFavorite(id, true)
            return id
        }
        let shown = try list.show(id)
        #expect(shown.title == "Batched" && shown.archived == false && shown.favorite == true)
        #expect(try list.search("saved").isEmpty)
    }

    /// A command that reads back what it wrote saves it early: throwing
    /// afterwards must still take all of it back.
    @Test func aCommandThatSavedEarlyAndThenFailsLeavesNothing() throws {
        let list = try temporary.open()
        let id = try list.inOneTransaction {
            let id = try save(list)
            failingCommand(list, id) { write in
                let stored = try String.fetchOne(write.db, sql: "SELECT title FROM article_values WHERE id = ?", arguments: [id])
                #expect(stored == "Never saved", "the command reads what it wrote")
            }
            return id
        }
        #expect(try list.show(id).title == "Batched")
        #expect(try list.search("saved").isEmpty)
    }

    /// A command's writes go to the database when it ends, without a
    /// savepoint. If storing them fails part way (the disk, not the library,
    /// refused), the transaction holds part of a command: the batch must not
    /// commit, even when its body catches the error and goes on.
    @Test func aStorageFailureWhileSavingACommandKeepsNoneOfTheBatch() throws {
        let list = try temporary.open()
        let doomed = ArticleDraft(url: CanonicalURL("https://example.com/doomed"), title: "Doomed", content: "Its outbox row cannot be written")
        // The article's row is written, then its outbox row fails: the
        // command is half stored.
        try list.store.database.writeWithoutTransaction { db in
            try db.execute(
                sql: """
                    CREATE TEMP TRIGGER outbox_fails BEFORE INSERT ON main.outbox WHEN NEW.entity = '\(doomed.id)'
                    BEGIN SELECT RAISE(ABORT, 'simulated storage failure'); END
                    """)
        }
        var failedCommand: (any Error)?
        #expect(throws: DatabaseError.self) {
            try list.inOneTransaction {
                _ = try save(list)
                do { try list.add(doomed) } catch { failedCommand = error }
                try list.add(ArticleDraft(url: CanonicalURL("https://example.com/after"), title: "After", content: "Added after the failure"))
            }
        }
        #expect(failedCommand is DatabaseError)
        #expect(try list.list().isEmpty && list.status().pendingChanges == 0)
        #expect(try list.search("lighthouses").isEmpty)
    }
}
