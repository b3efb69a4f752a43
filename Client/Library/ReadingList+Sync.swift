import Foundation
import GRDB
import ReadSyncCore

extension ReadingList {
    /// Syncs with the server `init` configured: push the outbox, then
    /// pull everything new. Throws `SyncError` with local data intact.
    public func sync(pageSize: Int = SyncProtocol.defaultPageSize, progress: (SyncProgress) -> Void = { _ in }) throws -> SyncSummary {
        let state = try store.syncState()
        guard let server = state.serverURL, let token = state.token else { throw SyncError.notConfigured }
        let transport = CurlSyncTransport(serverURL: server, token: token, deviceName: state.deviceName)
        // One sync of a library at a time: a second one at once (a timer and
        // a person) would show the server a push chain the first had just
        // moved on, and be taken for a copy of this device. It waits its turn.
        // (A library in memory has no folder, and no other process.)
        let lock = FileManager.default.fileExists(atPath: home.databaseURL.path) ? try SyncLock(directory: home.directory) : nil
        defer { lock?.release() }
        return try SyncEngine(store: store, transport: transport, server: server, pageSize: pageSize).run(progress: progress)
    }

    /// Concurrent edits recorded by syncs, newest first.
    public func conflicts() throws -> [ConflictView] {
        try store.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM conflicts ORDER BY lost_timestamp DESC, id DESC").map { row in
                let kind: String = row["kind"], entity: String = row["entity"]
                let articleID = try Self.articleID(kind: kind, entity: entity, db)
                let title = try articleID.flatMap { try String.fetchOne(db, sql: "SELECT title FROM articles WHERE id = ?", arguments: [$0]) }
                let kept = HLCTimestamp(encoded: row["kept_timestamp"]), lost = HLCTimestamp(encoded: row["lost_timestamp"])
                return ConflictView(
                    articleID: articleID, articleTitle: title, kind: kind, entity: entity, field: row["field"],
                    keptValue: row["kept_value"], keptDevice: kept?.node.rawValue ?? "?", keptAt: kept.map { ISOTime.string(milliseconds: $0.physical) } ?? "?",
                    lostValue: row["lost_value"], lostDevice: lost?.node.rawValue ?? "?", lostAt: lost.map { ISOTime.string(milliseconds: $0.physical) } ?? "?")
            }
        }
    }

    private static func articleID(kind: String, entity: String, _ db: Database) throws -> String? {
        switch EntityKind(rawValue: kind) {
        case .article, .readState: return entity
        case .tag: return TagEntity.parts(of: entity)?.articleID
        case .note: return try String.fetchOne(db, sql: "SELECT article_id FROM notes WHERE id = ?", arguments: [entity])
        default: return nil
        }
    }
}
