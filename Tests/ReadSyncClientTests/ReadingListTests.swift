import Foundation
import GRDB
import ReadSyncArticles
import ReadSyncCore
import ReadSyncTestSupport
import Testing

@testable import ReadSyncClient

/// Every command's effect on the library, and the change-log rows it writes.
struct ReadingListTests {
    let temporary = TemporaryHome()
    let ingestor = ArticleIngestor()

    func libraryWithSeeds() throws -> (ReadingList, [String]) {
        let list = try temporary.open()
        let ids = try ["000", "001", "002"].map { try list.add(ingestor.draft(from: Paths.seed($0))).id }
        return (list, ids)
    }

    @Test func addWritesEveryArticleFieldToRegistersAndTheChangeLog() throws {
        let list = try temporary.open()
        let (id, outcome) = try list.add(ingestor.draft(from: Paths.seed("002")), tags: ["Politics"])
        #expect(outcome == .added)
        let log = try list.changeLog()
        let articleFields = Set(log.filter { $0.kind == "article" && $0.entity == id }.map(\.field))
        #expect(articleFields == ["url", "title", "site", "content", "excerpt", "word_count", "added_at", "deleted"])
        #expect(log.contains { $0.kind == "tag" && $0.entity == "\(id)/politics" && $0.field == "present" && $0.value == "true" })
        #expect(try list.status().pendingChanges == log.count)
    }

    @Test func reAddingTheSameArticleChangesNothing() throws {
        let (list, ids) = try libraryWithSeeds()
        let before = try DatabaseSnapshot(list)
        let again = try list.add(ingestor.draft(from: Paths.seed("001")))
        #expect(again.id == ids[1])
        #expect(again.outcome == .unchanged)
        #expect(try DatabaseSnapshot(list) == before)
        #expect(try list.list().count == 3)
    }

    @Test func listIsNewestFirstWithEveryFilter() throws {
        let clock = ManualWallClock(milliseconds: 1_700_000_000_000)
        let list = try temporary.open(clock: clock)
        var ids: [String] = []
        for prefix in ["000", "001", "002"] {
            ids.append(try list.add(ingestor.draft(from: Paths.seed(prefix))).id)
            clock.advance(by: 1)
        }
        #expect(try list.list().map(\.id) == ids.reversed())

        try list.setRead(ids[0], true)
        try list.setArchived(ids[1], true)
        try list.setFavorite(ids[2], true)
        try list.setProgress(ids[1], percent: 40)
        try list.tag(ids[2], add: ["Mideast", "later"], remove: [])

        #expect(Set(try list.list(ListFilter(unread: true)).map(\.id)) == [ids[1], ids[2]])
        #expect(try list.list(ListFilter(read: true)).map(\.id) == [ids[0]])
        #expect(try list.list(ListFilter(archived: true)).map(\.id) == [ids[1]])
        #expect(try list.list(ListFilter(favorite: true)).map(\.id) == [ids[2]])
        #expect(try list.list(ListFilter(tag: "mideast")).map(\.id) == [ids[2]])
        #expect(try list.list(ListFilter(unread: true, favorite: true)).map(\.id) == [ids[2]])

        let summaries = Dictionary(uniqueKeysWithValues: try list.list().map { ($0.id, $0) })
        #expect(summaries[ids[0]]?.status == "read" && summaries[ids[0]]?.progress == 1)
        #expect(summaries[ids[1]]?.status == "reading" && summaries[ids[1]]?.progress == 0.4)
        #expect(summaries[ids[2]]?.tags == ["later", "mideast"])
    }

    @Test func readStateCommandsWriteTheirRegisters() throws {
        let (list, ids) = try libraryWithSeeds()
        let id = ids[0]
        func latest(_ field: String) throws -> String? {
            try list.changeLog().last { $0.kind == "read_state" && $0.entity == id && $0.field == field }?.value
        }
        try list.setRead(id, true)
        #expect(try latest("status") == "\"read\"")
        #expect(try latest("progress") == "1")
        #expect(try latest("read_at") != nil)
        try list.setRead(id, false)
        #expect(try latest("status") == "\"unread\"")
        #expect(try latest("progress") == "0")
        try list.setArchived(id, true)
        #expect(try latest("archived") == "true")
        try list.setArchived(id, false)
        #expect(try latest("archived") == "false")
        try list.setFavorite(id, true)
        #expect(try latest("favorite") == "true")
        try list.setFavorite(id, false)
        #expect(try latest("favorite") == "false")
        try list.setProgress(id, percent: 25)
        #expect(try latest("progress") == "0.25")
        #expect(try latest("status") == "\"reading\"")
        // The outbox names each written field once, with its current value.
        #expect(try list.changeLog().filter { $0.kind == "read_state" && $0.field == "favorite" }.map(\.value) == ["false"])
        let detail = try list.show(id)
        #expect(detail.status == "reading" && detail.progress == 0.25 && !detail.favorite && !detail.archived)
    }

    @Test func tagsAreAddedAndRemoved() throws {
        let (list, ids) = try libraryWithSeeds()
        try list.tag(ids[0], add: ["Israel", " US "], remove: [])
        #expect(try list.show(ids[0]).tags == ["israel", "us"])
        try list.tag(ids[0], add: [], remove: ["us"])
        #expect(try list.show(ids[0]).tags == ["israel"])
        let tagRows = try list.changeLog().filter { $0.kind == "tag" }
        #expect(tagRows.map(\.entity) == ["\(ids[0])/israel", "\(ids[0])/us"])
        #expect(tagRows.filter { $0.entity.hasSuffix("/us") }.map(\.value) == ["false"])
    }

    @Test func notesAreAddedEditedAndDeleted() throws {
        let (list, ids) = try libraryWithSeeds()
        let noteID = try list.addNote(to: String(ids[1].prefix(6)), body: "Compare with the 2015 speech", quote: "a new day")
        var notes = try list.show(ids[1]).notes
        #expect(notes.count == 1)
        #expect(notes[0].id == noteID && notes[0].body == "Compare with the 2015 speech" && notes[0].quote == "a new day")
        #expect(Set(try list.changeLog().filter { $0.entity == noteID }.map(\.field)) == ["article_id", "body", "quote", "created_at", "deleted"])

        try list.editNote(String(noteID.prefix(8)), body: "Compare with the 2009 Cairo speech")
        notes = try list.show(ids[1]).notes
        #expect(notes.map(\.body) == ["Compare with the 2009 Cairo speech"])

        try list.deleteNote(noteID)
        #expect(try list.show(ids[1]).notes.isEmpty)
        #expect(try list.changeLog().last?.field == "deleted")
        #expect(throws: LookupError.unknownNote(noteID)) { try list.editNote(noteID, body: "again") }
    }

    @Test func deleteHidesTheArticleItsNotesAndTagsAndRestoreBringsThemBack() throws {
        let (list, ids) = try libraryWithSeeds()
        try list.addNote(to: ids[2], body: "zeppelin marker in a note")
        try list.tag(ids[2], add: ["keep"], remove: [])
        try list.delete(ids[2])

        #expect(!(try list.list().map(\.id).contains(ids[2])))
        #expect(try list.list(ListFilter(tag: "keep")).isEmpty)
        #expect(try list.search("zeppelin").isEmpty)
        #expect(try list.search("Biden").isEmpty)
        #expect(try list.trash().map(\.id) == [ids[2]])
        #expect(try list.status().articles == 2)
        #expect(throws: LookupError.articleDeleted(ids[2])) { try list.setRead(ids[2], true) }

        try list.restore(ids[2])
        #expect(try list.list().count == 3)
        #expect(try list.show(ids[2]).notes.map(\.body) == ["zeppelin marker in a note"])
        #expect(try list.show(ids[2]).tags == ["keep"])
        #expect(try list.search("zeppelin").map(\.id) == [ids[2]])
        #expect(throws: LookupError.articleNotDeleted(ids[2])) { try list.restore(ids[2]) }
    }

    @Test func reAddingADeletedArticleRestoresIt() throws {
        let (list, ids) = try libraryWithSeeds()
        try list.delete(ids[2])
        let again = try list.add(ingestor.draft(from: Paths.seed("002")))
        #expect(again == (ids[2], .restored))
        #expect(try list.trash().isEmpty)
    }

    @Test func searchFindsWordsInBodiesAndNotesBestFirst() throws {
        let (list, ids) = try libraryWithSeeds()
        // "Hannity" occurs only in the body of seed 001.
        let body = try list.search("hannity")
        #expect(body.map(\.id) == [ids[1]])
        #expect(body[0].snippet.contains("[Hannity]"))

        try list.addNote(to: ids[0], body: "Remember the quokka analogy")
        #expect(try list.search("quokka").map(\.id) == [ids[0]])
        #expect(try list.search("quok*").map(\.id) == [ids[0]])
        #expect(try list.search("quokka netanyahu").map(\.id) == [ids[0]], "one word in a note, the other in the body")
        #expect(try list.search("quokka hannity").isEmpty, "every word in the same article")

        // A title match ranks first: "Biden" is in seed 002's title.
        #expect(try list.search("biden").first?.id == ids[2])
        // FTS syntax in a query is taken as plain words, every one required.
        let plain = try list.search("netanyahu and or").map(\.id)
        let withSyntax = try list.search("\"netanyahu\" AND OR (").map(\.id)
        #expect(!plain.isEmpty && withSyntax == plain)
        #expect(throws: LookupError.emptySearch) { try list.search(" * \" ") }
    }

    /// The check the simulation and the upgrade tests rely on
    /// (`SearchIndex.partsOutOfStep`) finds an index that no longer holds
    /// what its source says, and names its part.
    @Test func theSearchIndexCheckFindsAnIndexOutOfStepWithItsSource() throws {
        let (list, ids) = try libraryWithSeeds()
        try list.addNote(to: ids[0], body: "Remember the quokka analogy")
        let database = list.store.database
        #expect(try database.write(SearchIndex.partsOutOfStep).isEmpty)

        func setNoteBody(_ body: String) throws {
            try database.write { try $0.execute(sql: "UPDATE note_values SET body = ? WHERE article_id = ?", arguments: [body, ids[0]]) }
        }
        try setNoteBody("a wombat now")
        #expect(try database.write(SearchIndex.partsOutOfStep) == [.notes], "a note changed behind its index's back")
        try setNoteBody("Remember the quokka analogy")
        #expect(try database.write(SearchIndex.partsOutOfStep).isEmpty, "the note as it was indexed")

        // The article with the note: an entry of no words (the notes of an
        // article without any) gives FTS5's checksum nothing to miss.
        try database.write { try $0.execute(sql: "UPDATE article_values SET deleted = 1 WHERE id = ?", arguments: [ids[0]]) }
        #expect(try database.write(SearchIndex.partsOutOfStep) == [.text, .notes], "an article gone from both sources, still indexed")
    }

    @Test func idsAcceptUniquePrefixes() throws {
        let (list, ids) = try libraryWithSeeds()
        #expect(try list.show(String(ids[0].prefix(4))).id == ids[0])
        #expect(try list.show(ids[0].uppercased()).id == ids[0])
        #expect(throws: LookupError.unknownArticle("zzzz")) { try list.show("zzzz") }
        #expect(throws: LookupError.unknownArticle("ffffffffffffffff0")) { try list.show("ffffffffffffffff0") }
    }

    @Test func ambiguousPrefixIsRefused() throws {
        let list = try temporary.open()
        // Find two texts whose ids share a first character.
        var byFirst: [Character: String] = [:]
        var shared: Character?
        for n in 0..<100 where shared == nil {
            let id = try list.add(ArticleDraft(url: nil, title: "t\(n)", content: "text number \(n)")).id
            if byFirst[id.first!] != nil { shared = id.first } else { byFirst[id.first!] = id }
        }
        let prefix = String(try #require(shared))
        do {
            _ = try list.show(prefix)
            Issue.record("expected an error")
        } catch let error as LookupError {
            guard case .ambiguousArticle(prefix, let count) = error else {
                Issue.record("wrong error \(error)")
                return
            }
            #expect(count >= 2)
        }
    }

    @Test func serverSettingsAreStored() throws {
        let list = try temporary.open()
        try list.configureServer(url: "http://127.0.0.1:8080", token: "abc123")
        #expect(try list.status().server == "http://127.0.0.1:8080")
        #expect(throws: ServerSettingsError.invalidServerURL("ftp://x")) { try list.configureServer(url: "ftp://x", token: "abc") }
        #expect(throws: ServerSettingsError.invalidToken) { try list.configureServer(url: "http://x", token: "") }
        #expect(try list.status().server == "http://127.0.0.1:8080")
    }

    @Test func jsonKeepsNullKeys() throws {
        let (list, ids) = try libraryWithSeeds()
        let summary = try #require(try list.list().first { $0.id == ids[0] })
        let object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(summary)) as! [String: Any]
        for key in ["id", "url", "title", "status", "archived", "favorite", "progress", "tags"] {
            #expect(object.keys.contains(key), "list JSON lacks \(key)")
        }
        #expect(object["url"] is NSNull)
        let detail = try JSONSerialization.jsonObject(with: JSONEncoder().encode(try list.show(ids[0]))) as! [String: Any]
        for key in ["content", "author", "site", "addedAt", "wordCount", "notes"] {
            #expect(detail.keys.contains(key), "show JSON lacks \(key)")
        }
    }
}
