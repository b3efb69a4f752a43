import Foundation
import GRDB
import Testing
import ReadSyncCore
@testable import ReadSyncClient

/// Libraries written by earlier versions open with every register intact.
struct SchemaMigrationTests {
    let temporary = TemporaryHome()

    @Test func registersWrittenBeforeVersion4AreKeptInARowidTable() throws {
        let key = RegisterKey(kind: .article, entity: "0123456789abcdef", field: "title")
        let register = Register.initial(.text("Kept across the migration"), at: HLCTimestamp(physical: 1_700_000_000_000, counter: 3, node: NodeID("aaaa")!))
        try temporary.home.prepare()
        let version3 = try DatabaseQueue(path: temporary.home.databaseURL.path)
        try ClientSchema.migrator.migrate(version3, upTo: "v3-search-queue")
        try version3.write { db in
            try db.execute(sql: "INSERT INTO registers (kind, entity, field, value, timestamp, vector) VALUES (?, ?, ?, ?, ?, ?)",
                           arguments: [key.kind.rawValue, key.entity, key.field, try WireCoding.text(register.value),
                                       register.timestamp.encoded, try WireCoding.text(register.vector)])
        }
        try version3.close()

        let list = try temporary.open()
        let (stored, definition) = try list.store.read { db in
            (try RegisterCodec.register(at: key, db),
             try String.fetchOne(db, sql: "SELECT sql FROM sqlite_master WHERE name = 'registers'"))
        }
        #expect(stored == register)
        #expect(definition?.contains("WITHOUT ROWID") == false, "\(definition ?? "no table")")
    }
}
