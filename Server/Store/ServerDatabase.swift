import Foundation
import Logging
import PrivateStorage
import ReadSyncCore

/// Where a server keeps its data.
public enum ServerDatabase: Sendable, CustomStringConvertible {
    /// The embedded SQLite store in a data folder, for one `serve` process.
    case embedded(folder: URL)
    /// A PostgreSQL database that any number of `serve` processes share.
    case postgres(PostgresURL)

    /// Opens the store (creating and migrating it if needed).
    public func open(logger: Logger) throws -> any SyncStore {
        switch self {
        case .embedded(let folder):
            let store = try SQLiteSyncStore(
                directory: folder,
                willUpgrade: { migrations in
                    logger.notice(
                        "upgrading the database to this version's schema (\(migrations.joined(separator: ", "))); a large one takes a while",
                        metadata: ["rs.path": "\(folder.appendingPathComponent("server.sqlite").path)"])
                })
            for change in store.permissionChanges {
                // The server's way of saying things: its log (stderr for `readsync serve`, `user` and `backup`).
                logger.notice("\(change): it holds every user's library", metadata: ["rs.path": "\(change.path)"])
            }
            return store
        case .postgres(let url): return try PostgresSyncStore(url: url, logger: logger)
        }
    }

    /// Where it is, never with a password.
    public var description: String {
        switch self {
        case .embedded(let folder): return folder.appendingPathComponent("server.sqlite").path
        case .postgres(let url): return url.description
        }
    }
}
