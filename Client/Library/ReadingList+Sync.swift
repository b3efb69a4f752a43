import Foundation
import GRDB
import ReadSyncCore

extension ReadingList {
    /// Syncs with the server `init` configured: push the outbox, then
    /// pull everything new. Throws `SyncError` with local data intact.
    public func sync(pageSize: Int = SyncProtocol.defaultPageSize, progress: (SyncProgress) -> Void = { _ in }) throws -> SyncSummary {
        let state = try store.syncState()
        guard let server = state.serverURL, let token = state.token else { throw SyncError.notConfigured }
        let transport = CurlSyncTransport(serverURL: server, token: token, deviceName: state.deviceName, caFile: state.caFile)
        // One sync of a library at a time: a second one at once (a timer and
        // a person) would show the server a push chain the first had just
        // moved on, and be taken for a copy of this device. It waits its turn.
        // (A library in memory has no folder, and no other process.)
        let lock = FileManager.default.fileExists(atPath: home.databaseURL.path) ? try SyncLock(directory: home.directory) : nil
        defer { lock?.release() }
        return try SyncEngine(store: store, transport: transport, server: server, pageSize: pageSize).run(progress: progress)
    }

    /// Compares this library with the server's state for its user
    /// (`Verifier`); with `repair`, exchanges what differs (and only that),
    /// syncs, and compares again.
    public func verify(repair: Bool = false) throws -> (report: VerifyReport, differing: [DifferingEntity]) {
        let state = try store.syncState()
        guard let server = state.serverURL, let token = state.token else { throw SyncError.notConfigured }
        let transport = CurlSyncTransport(serverURL: server, token: token, deviceName: state.deviceName, caFile: state.caFile)
        let lock = FileManager.default.fileExists(atPath: home.databaseURL.path) ? try SyncLock(directory: home.directory) : nil
        defer { lock?.release() }
        let verifier = Verifier(store: store, transport: transport)
        var report = try verifier.compare()
        if repair, !report.isEqual {
            let repaired = try verifier.repair(report)
            _ = try SyncEngine(store: store, transport: transport, server: server).run()
            report = try verifier.compare()
            report.repaired = repaired
        }
        let differing = try store.read { db in
            try report.differing.map { address in
                let articleID = try Self.articleID(kind: address.kind.rawValue, entity: address.entity, db)
                let title = try articleID.flatMap {
                    try String.fetchOne(db.cachedStatement(sql: "SELECT title FROM article_values WHERE id = ?"), arguments: [$0])
                }
                return DifferingEntity(kind: address.kind.rawValue, entity: address.entity, articleID: articleID, articleTitle: title)
            }
        }
        return (report, differing)
    }

    /// Concurrent edits recorded by syncs, newest first.
    public func conflicts() throws -> [ConflictView] {
        try store.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM conflicts ORDER BY lost_timestamp DESC, id DESC").map { row in
                let kind: String = row["kind"], entity: String = row["entity"]
                let articleID = try Self.articleID(kind: kind, entity: entity, db)
                let title = try articleID.flatMap { try String.fetchOne(db.cachedStatement(sql: "SELECT title FROM articles WHERE id = ?"), arguments: [$0]) }
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
        case .note: return try String.fetchOne(db.cachedStatement(sql: "SELECT article_id FROM note_values WHERE id = ?"), arguments: [entity])
        default: return nil
        }
    }
}

/// An entity `verify` found different from the server's, with the article it concerns.
public struct DifferingEntity: Sendable, Equatable, Codable {
    public let kind: String
    public let entity: String
    public let articleID: String?
    public let articleTitle: String?
}
