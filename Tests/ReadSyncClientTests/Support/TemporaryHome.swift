import Foundation
import GRDB
import ReadSyncCore

@testable import ReadSyncClient

/// A fresh device home in a temporary folder, removed when released.
final class TemporaryHome {
    let home: ClientHome

    init() {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("readsync-test-\(UUID().uuidString)")
        home = ClientHome(directory: directory)
    }

    deinit { try? FileManager.default.removeItem(at: home.directory) }

    func open(clock: any WallClock = SystemWallClock()) throws -> ReadingList {
        try ReadingList(home: home, wallClock: clock)
    }
}

/// Where the test sources are, for fixtures and the seeds.
enum Paths {
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let seeds = packageRoot.appendingPathComponent("seeds")
    static let fixtures = packageRoot.appendingPathComponent("Tests/ReadSyncClientTests/Fixtures")

    static func seed(_ prefix: String) throws -> String {
        let name = try FileManager.default.contentsOfDirectory(atPath: seeds.path).first { $0.hasPrefix(prefix) }!
        return seeds.appendingPathComponent(name).path
    }
}

/// A row-level picture of everything stored, to prove a refused command
/// changed nothing.
struct DatabaseSnapshot: Equatable {
    let registers: [[String]]
    let changeLog: [[String]]
    let articles: [[String]]
    let notes: [[String]]
    let tags: [[String]]
    let meta: [[String]]

    init(_ list: ReadingList) throws {
        func rows(_ sql: String, _ db: Database) throws -> [[String]] {
            try Row.fetchAll(db, sql: sql).map { row in row.databaseValues.map { $0.description } }
        }
        (registers, changeLog, articles, notes, tags, meta) = try list.store.read { db in
            (
                try rows(
                    """
                    SELECT 'article', id, hex(clocks) FROM article_values UNION ALL SELECT 'read_state', id, hex(clocks) FROM read_state_values
                    UNION ALL SELECT 'note', id, hex(clocks) FROM note_values UNION ALL SELECT 'tag', id, hex(clocks) FROM tag_values ORDER BY 1, 2
                    """, db),
                try rows("SELECT seq, kind, entity, hex(fields), field_count FROM outbox ORDER BY seq", db),
                try rows("SELECT a.*, r.* FROM articles a LEFT JOIN read_state r ON r.article_id = a.id ORDER BY a.id", db),
                try rows("SELECT * FROM notes ORDER BY id", db),
                try rows("SELECT * FROM tags ORDER BY article_id, name", db),
                try rows("SELECT * FROM meta WHERE key <> 'clock' ORDER BY key", db)
            )
        }
    }
}

extension ReadingList {
    /// The outbox as (kind, entity, field, current value as JSON), in the
    /// order the fields were first written.
    func changeLog() throws -> [(kind: String, entity: String, field: String, value: String)] {
        try (store.pendingBatch(limit: Int.max, maxBytes: Int.max)?.changes ?? []).map {
            ($0.kind.rawValue, $0.entity, $0.field, try WireCoding.text($0.value))
        }
    }
}
