import GRDB
import ReadSyncArticles
import Testing

@testable import ReadSyncClient

/// Naming an article or a note by its id or a prefix of it costs the same
/// whatever the size of the library.
struct IDPrefixTests {
    let temporary = TemporaryHome()

    /// Regression: with `deleted = 0` beside the id range, SQLite chose the
    /// index on (deleted, added_at) and read every live article per command
    /// (and every live article's notes, for a note).
    @Test func aPrefixIsLookedUpAsARangeOfThePrimaryKey() throws {
        let list = try temporary.open()
        for lookup in PrefixMatch.allCases {
            let plan = try list.store.read { db in
                try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + lookup.sql, arguments: ["ab", "ab~"]).map { $0["detail"] as String }
            }
            #expect(plan.first?.hasSuffix("(id>? AND id<?)") == true, "\(lookup): \(plan)")
            #expect(!plan.contains { $0.contains("SCAN") || $0.contains("deleted=?") }, "\(lookup): \(plan)")
        }
    }

    @Test func prefixesResolveLiveDeletedAndAmbiguousIDs() throws {
        let list = try temporary.open()
        let ids = (0..<40).map { try! list.add(ArticleDraft(url: nil, title: "Article \($0)", content: "Body number \($0)")).id }
        let note = try list.addNote(to: ids[0], body: "A note")
        try list.delete(ids[1])
        #expect(try list.show(String(ids[0].prefix(12))).id == ids[0])
        #expect(throws: LookupError.articleDeleted(ids[1])) { try list.setFavorite(String(ids[1].prefix(12)), true) }
        #expect(try list.restore(String(ids[1].prefix(12))) == ids[1])
        #expect(throws: LookupError.unknownArticle("")) { try list.show("") }
        #expect(try list.editNote(String(note.prefix(8)), body: "Edited") == note)
        try list.delete(ids[0])
        #expect(throws: LookupError.unknownNote(String(note.prefix(8)))) { try list.editNote(String(note.prefix(8)), body: "Hidden with its article") }
        // Thirty-nine live ids over sixteen hex digits: some first digit is shared, and that prefix is ambiguous.
        let live = ids.dropFirst()  // ids[0] is in the trash
        let shared = try #require(Dictionary(grouping: live, by: { $0.prefix(1) }).first { $0.value.count > 1 })
        #expect(throws: LookupError.ambiguousArticle(String(shared.key), matches: shared.value.count)) { try list.show(String(shared.key)) }
    }
}
