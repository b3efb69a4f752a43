import Foundation
import GRDB
import ReadSyncArticles
import ReadSyncCore
import Testing

@testable import ReadSyncClient

/// Libraries written by earlier versions open with every register intact.
/// (Whole devices made by the released first format are upgraded in
/// `EndToEndTests/UpgradeTests`, from the committed fixtures.)
struct SchemaMigrationTests {
    let temporary = TemporaryHome()
    let node = NodeID("aaaa")!

    /// A database in the first storage format (up to `v4-rowid-registers`)
    /// holding `registers` and, in its change log, `logged`.
    func firstFormat(registers: [(RegisterKey, Register)], logged: [(RegisterKey, Register)] = []) throws {
        try temporary.home.prepare()
        let database = try DatabaseQueue(path: temporary.home.databaseURL.path)
        try ClientSchema.migrator.migrate(database, upTo: "v4-rowid-registers")
        try database.write { db in
            for (table, rows) in [("registers", registers), ("change_log", logged)] {
                for (key, register) in rows {
                    try db.execute(
                        sql: "INSERT INTO \(table) (kind, entity, field, value, timestamp, vector) VALUES (?, ?, ?, ?, ?, ?)",
                        arguments: [
                            key.kind.rawValue, key.entity, key.field, try WireCoding.text(register.value),
                            register.timestamp.encoded, try WireCoding.text(register.vector),
                        ])
                }
            }
        }
        try database.close()
    }

    func stamp(_ physical: Int64) -> HLCTimestamp { HLCTimestamp(physical: physical, counter: 0, node: node) }

    /// The laptop of `Tests/Fixtures/outbox-per-field` (made by aef2121, up
    /// to `v8-collected-notes`), copied into this test's home, not migrated.
    func laptopWithAnOutboxPerField() throws -> DatabaseQueue {
        try temporary.home.prepare()
        let fixture = Paths.packageRoot.appendingPathComponent("Tests/Fixtures/outbox-per-field/laptop/library.sqlite")
        try FileManager.default.copyItem(at: fixture, to: temporary.home.databaseURL)
        return try DatabaseQueue(path: temporary.home.databaseURL.path)
    }

    @Test func everyRegisterOfTheFirstFormatKeepsItsValueAndClock() throws {
        let id = "0123456789abcdef"
        func key(_ field: String) -> RegisterKey { RegisterKey(kind: .article, entity: id, field: field) }
        let registers: [(RegisterKey, Register)] = [
            (key("title"), .initial(.text("Kept across the migration"), at: stamp(1_700_000_000_000))),
            (key("added_at"), .initial(.text("2026-11-21T19:15:04.123Z"), at: stamp(1_700_000_000_001))),
            (key("deleted"), .initial(.bool(false), at: stamp(1_700_000_000_002))),
            (key("word_count"), .initial(.int(42), at: stamp(1_700_000_000_003))),
            (key("author"), .initial(.null, at: stamp(1_700_000_000_004))),
            (RegisterKey(kind: .readState, entity: id, field: "progress"), .initial(.double(0.25), at: stamp(1_700_000_000_005))),
            (RegisterKey(kind: .tag, entity: id + "/kept", field: "present"), .initial(.bool(true), at: stamp(1_700_000_000_006))),
        ]
        try firstFormat(registers: registers)

        let list = try temporary.open()
        #expect(try list.store.registers() == Dictionary(uniqueKeysWithValues: registers))
        let shown = try list.show(id)
        #expect(shown.title == "Kept across the migration" && shown.wordCount == 42 && shown.progress == 0.25 && shown.tags == ["kept"])
        #expect(try list.search("migration").map(\.id) == [id])
    }

    @Test func theChangeLogBecomesAnOutboxThatRemembersWhatMayHaveBeenSent() throws {
        let key = RegisterKey(kind: .readState, entity: "0123456789abcdef", field: "favorite")
        let first = Register.initial(.bool(true), at: stamp(1_000))
        let second = first.overwritten(with: .bool(false), at: stamp(2_000))
        try firstFormat(registers: [(key, second)], logged: [(key, first), (key, second)])

        let list = try temporary.open()
        let waiting = try list.store.read { db in try Outbox.waiting(db) }
        #expect(waiting.count == 1, "the field waits once")
        #expect(waiting.first?.floor == first.timestamp, "the earlier version may be on the server")
        #expect(try list.store.pendingBatch(limit: 10)?.changes == [Change(key: key, register: second)])
    }

    /// A field an earlier version did not know was kept aside, with its clock;
    /// once a version knows it, it is in the library.
    @Test func aFieldKeptAsideMaterialisesOnceThisVersionKnowsIt() throws {
        let id = "0123456789abcdef"
        func key(_ field: String) -> RegisterKey { RegisterKey(kind: .article, entity: id, field: field) }
        try firstFormat(registers: [
            (key("title"), .initial(.text("A title"), at: stamp(1_000))),
            (key("added_at"), .initial(.text("2026-11-21T19:15:04.123Z"), at: stamp(1_001))),
            (key("deleted"), .initial(.bool(false), at: stamp(1_002))),
        ])
        let author = Register.initial(.text("Jane Doe"), at: stamp(1_003))
        do {
            // As a version that did not know `author` stored it.
            let list = try temporary.open()
            try list.store.database.write { db in
                try db.execute(
                    sql: "INSERT INTO unknown_values (kind, entity, field, value) VALUES ('article', ?, 'author', ?)",
                    arguments: [id, try WireCoding.text(author.value)])
                let stored = try Data.fetchOne(db, sql: "SELECT clocks FROM article_values WHERE id = ?", arguments: [id])!
                var clocks = try #require(EntityClocks.decode(stored))
                clocks["author"] = (author.timestamp, author.vector)
                try db.execute(sql: "UPDATE article_values SET clocks = ? WHERE id = ?", arguments: [Data(EntityClocks.encode(clocks)), id])
            }
        }
        let upgraded = try temporary.open()
        #expect(try upgraded.show(id).author == "Jane Doe")
        #expect(try upgraded.store.registers()[key("author")] == author)
        #expect(try upgraded.store.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM unknown_values") } == 0)
    }

    /// An entity of a kind an earlier version did not know was kept aside
    /// whole (clocks and values); once a version knows the kind, the entity
    /// is in the library, with what that version still does not know kept.
    @Test func anEntityOfAKindKeptAsideMaterialisesOnceThisVersionKnowsIt() throws {
        let articleID = "0123456789abcdef", noteID = "6f1c2d3e-0000-4000-8000-00000000abcd"
        func key(_ field: String) -> RegisterKey { RegisterKey(kind: .note, entity: noteID, field: field) }
        try firstFormat(registers: [
            (RegisterKey(kind: .article, entity: articleID, field: "title"), .initial(.text("A title"), at: stamp(1_000))),
            (RegisterKey(kind: .article, entity: articleID, field: "added_at"), .initial(.text("2026-11-21T19:15:04.123Z"), at: stamp(1_001))),
            (RegisterKey(kind: .article, entity: articleID, field: "deleted"), .initial(.bool(false), at: stamp(1_002))),
        ])
        let note: [String: Register] = [
            "article_id": .initial(.text(articleID), at: stamp(1_003)),
            "body": .initial(.text("kept aside, then known"), at: stamp(1_004)),
            "created_at": .initial(.text("2026-11-21T19:20:00.000Z"), at: stamp(1_005)),
            "deleted": .initial(.bool(false), at: stamp(1_006)),
            "colour": .initial(.text("yellow"), at: stamp(1_007)),  // a field even this version does not know
        ]
        do {
            // As a version that did not know notes stored one.
            let list = try temporary.open()
            try list.store.database.write { db in
                try db.execute(
                    sql: "INSERT INTO unknown_entities (kind, id, clocks) VALUES ('note', ?, ?)",
                    arguments: [noteID, Data(EntityClocks.encode(note.mapValues { ($0.timestamp, $0.vector) }))])
                for (field, register) in note {
                    try db.execute(
                        sql: "INSERT INTO unknown_values (kind, entity, field, value) VALUES ('note', ?, ?, ?)",
                        arguments: [noteID, field, try WireCoding.text(register.value)])
                }
            }
        }
        let upgraded = try temporary.open()
        #expect(try upgraded.show(articleID).notes.map(\.body) == ["kept aside, then known"])
        let registers = try upgraded.store.registers()
        for (field, register) in note { #expect(registers[key(field)] == register, "\(field) with its clock") }
        #expect(try upgraded.store.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM unknown_entities") } == 0)
        #expect(try upgraded.store.read { try String.fetchAll($0, sql: "SELECT field FROM unknown_values") } == ["colour"])
    }

    /// A device of aef2121 (`Tests/Fixtures/outbox-per-field`, made by its
    /// `make.sh`) kept twelve waiting fields in twelve outbox rows; they wait
    /// in one row per entity, in the order first written, with their floors
    /// and bases. (Migrated alone: opened as a library, the copied file
    /// would be a copied device, whose bases are dropped.)
    @Test func theOutboxOfOneRowPerFieldBecomesOneRowPerEntity() throws {
        let database = try laptopWithAnOutboxPerField()
        let second = "7b83d2791550c815"
        try ClientSchema.migrator.migrate(database)
        let (rows, waiting, count) = try database.read { db in
            (try String.fetchAll(db, sql: "SELECT kind FROM outbox ORDER BY seq"), try Outbox.waiting(db), try Outbox.count(db))
        }
        try database.close()
        #expect(rows == ["read_state", "tag", "note", "article"], "one row per entity, in the order first written")
        #expect(count == 12 && waiting.count == 12)
        // The progress written twice since the last sync: the first of the two
        // may be on the server (its floor), and the server has the synced one
        // (its base: the laptop's one write before).
        let progress = try #require(waiting.first { $0.key == RegisterKey(kind: .readState, entity: second, field: "progress") })
        #expect(progress.base == 1 && progress.floor.map { $0 < progress.timestamp } == true)
        let rest = waiting.filter { $0.key != progress.key }
        #expect(rest.allSatisfy { $0.base == 0 && $0.floor == nil }, "first writes, never sent")

        let list = try temporary.open()
        #expect(try list.status().pendingChanges == 12)
        #expect(try list.show(second).progress == 0.8)
    }

    /// The previous index held each article's title, body and notes in one
    /// entry; after `v10-notes-indexed-apart` the notes have an index of
    /// their own, both hold exactly what their sources say, and a search
    /// still needs every word somewhere in the article, its notes included.
    @Test func notesMoveToAnIndexOfTheirOwnAndEveryWordIsStillFound() throws {
        let database = try laptopWithAnOutboxPerField()
        let second = "7b83d2791550c815"
        try ClientSchema.migrator.migrate(database, upTo: "v9-outbox-per-entity")
        let before = try database.read { try String.fetchAll($0, sql: "SELECT name FROM pragma_table_info('search_index')") }
        #expect(before == ["title", "body", "notes"], "the previous code's index")
        try ClientSchema.migrator.migrate(database)
        let (outOfStep, notesIndexed) = try database.write { db in
            (try SearchIndex.partsOutOfStep(db), try Int.fetchOne(db, sql: "SELECT count(*) FROM note_search_index WHERE note_search_index MATCH 'pending'"))
        }
        try database.close()
        #expect(outOfStep.isEmpty)
        #expect(notesIndexed == 1)

        let list = try temporary.open()
        #expect(try list.search("pending").map(\.id) == [second], "a word of the note")
        #expect(try list.search("pending rifts").map(\.id) == [second], "one word in the note, one in the body")
        #expect(try list.search("pending hamas").map(\.id) == [second])
        #expect(try list.search("pending obama").isEmpty, "the body of another article")
    }

    /// FTS5 builds an index by reading its source with no ORDER BY, and
    /// writes out what it holds whenever an id comes lower than the last one
    /// (an article at a time, merged after, when they all do). The previous
    /// sources came newest first; after `v11-search-sources-in-id-order`
    /// both come in id order, and the indexes built from them hold exactly
    /// what the sources say.
    @Test func searchSourcesGiveTheirArticlesInIdOrder() throws {
        let database = try laptopWithAnOutboxPerField()
        // The statements FTS5 reads its sources with (`FTS5_STMT_SCAN`).
        func ids(_ db: Database) throws -> (text: [Int64], notes: [Int64]) {
            (
                try Int64.fetchAll(db, sql: "SELECT T.rowid, T.title, T.body FROM 'main'.'search_source' T"),
                try Int64.fetchAll(db, sql: "SELECT T.rowid, T.notes FROM 'main'.'note_search_source' T")
            )
        }
        try ClientSchema.migrator.migrate(database, upTo: "v10-notes-indexed-apart")
        let before = try database.read(ids)
        #expect(before.text.count > 1 && before.text != before.text.sorted(), "the previous code's order: newest first")
        try ClientSchema.migrator.migrate(database)
        let (after, outOfStep) = try database.write { db in
            try db.execute(
                sql: """
                    INSERT INTO search_index (search_index) VALUES ('rebuild');
                    INSERT INTO note_search_index (note_search_index) VALUES ('rebuild');
                    """)
            return (try ids(db), try SearchIndex.partsOutOfStep(db))
        }
        try database.close()
        #expect(after.text == before.text.sorted())
        #expect(after.notes == before.text.sorted())
        #expect(outOfStep.isEmpty)
        #expect(try temporary.open().search("pending").count == 1, "a word of a note, found")
    }

    /// FTS5 merges an index's segments whenever `automerge` of them are on
    /// one level (4 by default). After `v12-search-merges-at-eight` both
    /// indexes of an upgraded library merge at eight; a first import's
    /// one-pass build (which turns merging off while it runs) leaves them
    /// merging at eight; and the indexes hold exactly what their sources say.
    @Test func searchIndexesMergeAtEightSegments() throws {
        func automerge(_ db: Database) throws -> [Int?] {
            try SearchIndex.Part.allCases.map { try Int.fetchOne(db, sql: "SELECT v FROM \($0.index)_config WHERE k = 'automerge'") }
        }
        let database = try laptopWithAnOutboxPerField()
        try ClientSchema.migrator.migrate(database, upTo: "v11-search-sources-in-id-order")
        #expect(try database.read(automerge) == [nil, nil], "the previous code left FTS5's default")
        try ClientSchema.migrator.migrate(database)
        #expect(try database.read(automerge) == [8, 8])
        try database.close()

        let fresh = TemporaryHome()
        let list = try fresh.open()
        let drafts = (0..<150).map { ArticleDraft(url: nil, title: "Article \($0)", content: "Words of article \($0), on pending things.") }
        #expect(try list.add(drafts).allSatisfy { (try? $0.get()) != nil })
        let (built, outOfStep) = try list.store.write(during: .command) { db in (try automerge(db), try SearchIndex.partsOutOfStep(db)) }
        #expect(built == [8, 8], "a first import's index, built in one pass")
        #expect(outOfStep.isEmpty)
        #expect(try list.search("pending", limit: 200).count == 150)
    }
}
