import Foundation
import PrivateStorage
import ReadSyncCore

/// Where a device keeps its library: one folder holding one SQLite database.
public struct ClientHome: Sendable, Equatable {
    /// The folder.
    public let directory: URL

    /// The database file inside it.
    public var databaseURL: URL { directory.appendingPathComponent("library.sqlite") }

    public init(directory: URL) { self.directory = directory }

    /// The home named by `--home`, else `READSYNC_HOME`, else
    /// `$XDG_DATA_HOME/readsync` (`~/.local/share/readsync` when unset).
    public static func resolve(explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment) -> ClientHome {
        if let explicit, !explicit.isEmpty { return ClientHome(directory: URL(fileURLWithPath: explicit)) }
        if let home = environment["READSYNC_HOME"], !home.isEmpty { return ClientHome(directory: URL(fileURLWithPath: home)) }
        let dataHome =
            environment["XDG_DATA_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (environment["HOME"] ?? NSHomeDirectory()) + "/.local/share"
        return ClientHome(directory: URL(fileURLWithPath: dataHome).appendingPathComponent("readsync"))
    }

    /// The files of the home that hold the library (and the server token),
    /// kept readable by this account only.
    /// (`sync.lock` holds nothing; `SyncLock` makes it 0600 itself.)
    static let privateFiles = ["library.sqlite", "library.sqlite-wal", "library.sqlite-shm"]

    /// Creates the folder (0700) if it does not exist yet; else takes the
    /// group's and others' permissions off it and off its database files.
    /// Returns what it tightened, for the caller to tell the user.
    func prepare() throws -> [PermissionChange] {
        do {
            return try PrivateFiles.prepare(folder: directory, files: Self.privateFiles)
        } catch let error as PrivateFileError {
            throw HomeError.unavailable(path: directory.path, reason: error.reason)
        }
    }
}
