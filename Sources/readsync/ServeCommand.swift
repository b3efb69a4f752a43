import ArgumentParser
import Foundation
import Logging
import ReadSyncServer

/// `readsync serve`: the sync server.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the sync server (embedded SQLite in --data).",
        discussion: "Stops gracefully on SIGINT or SIGTERM: requests in flight finish, then the database is closed.")

    @Option(help: "The address to listen on.") var host = "127.0.0.1"
    @Option(help: "The port to listen on (0 picks a free one and logs it).") var port = 8080
    @OptionGroup var data: DataDirectoryOption
    @Option(help: ArgumentHelp("trace, debug, info, notice, warning, error or critical (default: $LOG_LEVEL, else info).", valueName: "level"))
    var logLevel: String?

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be from 0 to 65535") }
        if let logLevel, Logger.Level(rawValue: logLevel) == nil { throw ValidationError("unknown --log-level '\(logLevel)'") }
    }

    func run() async throws {
        let levelName = logLevel ?? ProcessInfo.processInfo.environment["LOG_LEVEL"] ?? "info"
        let level = Logger.Level(rawValue: levelName.lowercased()) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "readsync.server")
        let server = try SyncServer(configuration: SyncServerConfiguration(host: host, port: port, dataDirectory: data.url), logger: logger)
        try await server.run()
    }
}

/// `--data DIR`, shared by `serve` and `user`.
struct DataDirectoryOption: ParsableArguments {
    @Option(name: .customLong("data"), help: ArgumentHelp("The server's data folder.", valueName: "dir"))
    var path = "./server-data"

    var url: URL { URL(fileURLWithPath: path) }

    /// Opens the server's store (beside a running server is fine: SQLite WAL),
    /// runs `body`, and closes it.
    func withStore<T>(_ body: (SQLiteSyncStore) throws -> T) throws -> T {
        let store = try SQLiteSyncStore(directory: url)
        defer { try? store.close() }
        return try body(store)
    }
}
