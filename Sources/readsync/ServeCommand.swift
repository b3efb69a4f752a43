import ArgumentParser
import Foundation
import Logging
import ReadSyncArticles
import ReadSyncServer

/// `readsync serve`: the sync server.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the sync server (embedded SQLite in --data, or PostgreSQL with --database).",
        discussion: "Stops gracefully on SIGINT or SIGTERM: requests in flight finish, then the database is closed.")

    @Option(help: "The address to listen on.") var host = "127.0.0.1"
    @Option(help: "The port to listen on (0 picks a free one and logs it).") var port = 8080
    @OptionGroup var store: ServerStoreOption
    @Option(help: ArgumentHelp("trace, debug, info, notice, warning, error or critical (default: $LOG_LEVEL, else info).", valueName: "level"))
    var logLevel: String?
    @Option(help: ArgumentHelp("text (one readable line per record) or json (one JSON object per line).", valueName: "format"))
    var logFormat: String = LogFormat.text.rawValue
    @Option(
        help: ArgumentHelp(
            "Retire a device unseen for this many days: it stops holding back the collection of deleted articles, and syncs in full when it returns.",
            valueName: "days"))
    var retireAfter: Double = 180
    @Option(help: ArgumentHelp("Keep a deleted article whole in the trash for at least this many days before collecting it.", valueName: "days"))
    var keepTrash: Double = 30
    @Option(help: ArgumentHelp("Look for devices to retire and articles to collect every this many seconds (and at start).", valueName: "seconds"))
    var collectEvery: Double = 3600
    @Flag(
        help: ArgumentHelp(
            "Let pages saved through the wallabag API be fetched from loopback, private and link-local addresses too (a home lab; by default only public addresses, so that no one can make the server reach inside its network)."
        ))
    var fetchPrivate = false

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be from 0 to 65535") }
        guard retireAfter > 0, retireAfter.isFinite else { throw ValidationError("--retire-after must be a number of days above 0") }
        guard keepTrash >= 0, keepTrash.isFinite else { throw ValidationError("--keep-trash must be a number of days, 0 or more") }
        guard collectEvery >= 0.1, collectEvery.isFinite else { throw ValidationError("--collect-every must be at least 0.1 seconds") }
        if let logLevel, Logger.Level(rawValue: logLevel) == nil { throw ValidationError("unknown --log-level '\(logLevel)'") }
        if LogFormat(rawValue: logFormat) == nil { throw ValidationError("unknown --log-format '\(logFormat)': give text or json") }
    }

    func run() async throws {
        let levelName = logLevel ?? ProcessInfo.processInfo.environment["LOG_LEVEL"] ?? "info"
        let level = Logger.Level(rawValue: levelName.lowercased()) ?? .info
        let format = LogFormat(rawValue: logFormat) ?? .text
        LoggingSystem.bootstrap { label in format.handler(label: label, level: level) }
        let logger = Logger(label: "readsync.server")
        let configuration = SyncServerConfiguration(
            host: host, port: port, database: try store.database(),
            collection: CollectionPolicy(retireAfter: retireAfter * CollectionPolicy.days, keepTrash: keepTrash * CollectionPolicy.days),
            collectionInterval: .milliseconds(Int64(collectEvery * 1000)),
            fetchPolicy: fetchPrivate ? .any : .publicOnly)
        let openFiles = OpenFileLimit.raiseToHardLimit()
        logger.debug("open files allowed", metadata: ["rs.open_files": "\(openFiles.map(String.init) ?? "unknown")"])
        let server = try SyncServer(configuration: configuration, logger: logger)
        try await server.run()
    }
}

/// `--data DIR` or `--database URL`: where the server keeps its data,
/// shared by `serve`, `user` and `backup`.
struct ServerStoreOption: ParsableArguments {
    static let environmentVariable = "READSYNC_DATABASE_URL"

    @Option(
        name: .customLong("data"), help: ArgumentHelp("The server's data folder, for the embedded SQLite store (default: ./server-data).", valueName: "dir"))
    var folder: String?

    @Option(
        name: .customLong("database"),
        help: ArgumentHelp(
            "A PostgreSQL database instead, shared by any number of servers: postgres://USER[:PASSWORD]@HOST[:PORT]/DB[?sslmode=MODE] (default: $READSYNC_DATABASE_URL).",
            valueName: "url"))
    var url: String?

    func validate() throws {
        if folder != nil, url != nil { throw ValidationError("give --data or --database, not both") }
        _ = try database()
    }

    /// --database, else --data, else $READSYNC_DATABASE_URL, else ./server-data.
    func database() throws -> ServerDatabase {
        let url = url ?? (folder == nil ? ProcessInfo.processInfo.environment[Self.environmentVariable].flatMap { $0.isEmpty ? nil : $0 } : nil)
        if let url {
            do {
                return .postgres(try PostgresURL(url))
            } catch let invalid as PostgresURL.Invalid {
                throw ValidationError(invalid.description)
            }
        }
        return .embedded(folder: URL(fileURLWithPath: folder ?? "./server-data"))
    }

    /// Opens the server's store (beside a running server is fine: SQLite WAL,
    /// or PostgreSQL), runs `body`, and closes it.
    func withStore<T>(_ body: (any SyncStore) throws -> T) throws -> T {
        let store = try database().open(logger: Logger(label: "readsync.user"))
        defer { try? store.close() }
        return try body(store)
    }
}
