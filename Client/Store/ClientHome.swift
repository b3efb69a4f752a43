import Foundation

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
        let dataHome = environment["XDG_DATA_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (environment["HOME"] ?? NSHomeDirectory()) + "/.local/share"
        return ClientHome(directory: URL(fileURLWithPath: dataHome).appendingPathComponent("readsync"))
    }

    /// Creates the folder if it does not exist yet.
    func prepare() throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else {
                throw ClientError.homeUnavailable(path: directory.path, reason: "it is a file, not a folder")
            }
            return
        }
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw ClientError.homeUnavailable(path: directory.path, reason: "the folder cannot be created")
        }
    }
}
