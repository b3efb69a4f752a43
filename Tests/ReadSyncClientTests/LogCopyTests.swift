import Foundation
import GRDB
import ReadSyncArticles
import SQLiteStatements
import Testing

@testable import ReadSyncClient

/// A library's WAL is copied into its database file while the library is
/// open, beside its commits (by `LogCheckpointer`), not left to grow; a
/// library closed leaves no WAL behind.
struct LogCopyTests {
    let temporary = TemporaryHome()

    @Test func theLogIsCopiedIntoTheDatabaseFileWhileTheLibraryIsOpen() throws {
        let list = try temporary.open()
        let path = list.store.database.path
        func databaseFileBytes() throws -> Int { try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int }
        let before = try databaseFileBytes()
        // Some 1,200 pages, as a page of a first pull or a batch of an import writes.
        try list.store.database.write { db in
            try db.execute(sql: "CREATE TABLE ballast (x BLOB)")
            for _ in 0..<1_200 { try db.execute(sql: "INSERT INTO ballast VALUES (zeroblob(4000))") }
        }
        list.store.finishCopyingLog()
        #expect(list.store.checkpointer?.checkpointsRun == 1)
        #expect(try databaseFileBytes() > before + 1_200 * 4_000)
    }

    /// The checkpointer's connection closes with the library, so the pool's
    /// last connection copies what is left and removes the WAL, as before
    /// there was a checkpointer.
    @Test func aClosedLibraryLeavesNoLogBehind() throws {
        let wal = temporary.home.databaseURL.path + "-wal"
        do {
            let list = try temporary.open()
            _ = try list.add(ArticleDraft(url: nil, title: "Kept", content: "Written, then the library closed."))
            #expect(FileManager.default.fileExists(atPath: wal))
        }
        #expect(!FileManager.default.fileExists(atPath: wal))
        #expect(try temporary.open().list().map(\.title) == ["Kept"])
    }
}
