import Foundation
import GRDB
import Logging
import ReadSyncCore

@testable import ReadSyncClient
@testable import ReadSyncServer

/// A real readsync server in this process, on 127.0.0.1 and a port the
/// kernel picks, over a fresh SQLite data folder.
///
/// It serves from threads of its own, as a server process would. Tests run
/// on Swift's shared cooperative pool, one thread per core, and many of them
/// block a thread of it for seconds (waiting for a child process, a libcurl
/// call); a server on that pool would then stop answering, and a test talking
/// to it would time out for reasons that have nothing to do with the server.
public final class TestServer: @unchecked Sendable {
    // @unchecked: all stored properties are set once in `start` and only read after.
    public let dataDirectory: URL
    public let server: SyncServer
    public private(set) var port = 0
    private var task: Task<Void, any Error>?

    public var url: String { "http://127.0.0.1:\(port)" }
    public var store: any SyncStore { server.store }

    /// Starts a server; `dataDirectory` reuses an existing folder (a restart).
    public static func start(
        dataDirectory: URL? = nil, clock: any WallClock = SystemWallClock(),
        idleTimeout: Duration = .seconds(30), changesPerRequest: Int = SyncProtocol.maxBatchChanges
    ) async throws -> TestServer {
        let directory = dataDirectory ?? FileManager.default.temporaryDirectory.appendingPathComponent("readsync-server-\(UUID().uuidString)")
        var logger = Logger(label: "readsync.test-server")
        logger.logLevel = .error
        let server = try SyncServer(
            configuration: SyncServerConfiguration(
                host: "127.0.0.1", port: 0, database: .embedded(folder: directory), idleTimeout: idleTimeout,
                changesPerRequest: changesPerRequest),
            logger: logger, clock: clock)
        let instance = TestServer(dataDirectory: directory, server: server)
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        instance.task = Task(executorPreference: serverExecutor) {
            try await server.run(shutdownSignals: []) { port in continuation.yield(port) }
        }
        for await port in ports {
            instance.port = port
            break
        }
        guard instance.port != 0 else {
            _ = try await instance.task?.value  // the server could not start: its error
            throw POSIXError(.EADDRNOTAVAIL)
        }
        return instance
    }

    /// The executor every test server's tasks prefer (its child tasks, which
    /// serve the connections, inherit the preference).
    private static let serverExecutor = DispatchTaskExecutor(label: "readsync.test-server")

    /// Runs `body` on the test servers' own threads: for a server a test
    /// starts itself (HummingbirdTesting's `.live` test), which would
    /// otherwise serve from the shared pool and time out with it.
    public static func onServerThreads<Value>(_ body: () async throws -> Value) async throws -> Value {
        try await withTaskExecutorPreference(serverExecutor, operation: body)
    }

    private init(dataDirectory: URL, server: SyncServer) {
        self.dataDirectory = dataDirectory
        self.server = server
    }

    /// Creates a user and returns their token.
    public func addUser(_ name: String) throws -> String {
        let token = AccessToken.generate()
        try store.addUser(name: name, tokenHash: AccessToken.hash(token))
        return token
    }

    /// Creates user "alice" and `count` devices connected as her, each with
    /// its own clock when `clocks` names them.
    public func connectedDevices(_ count: Int, clocks: [any WallClock] = []) throws -> (token: String, devices: [TestDevice]) {
        let token = try addUser("alice")
        let devices = try (0..<count).map { index in
            let device = try TestDevice(clock: index < clocks.count ? clocks[index] : SystemWallClock())
            try device.connect(to: self, token: token)
            return device
        }
        return (token, devices)
    }

    /// Stops serving and closes the database.
    public func stop() async {
        task?.cancel()
        _ = try? await task?.value
        task = nil
    }

    /// Stops and deletes the data folder.
    public func destroy() async {
        await stop()
        try? FileManager.default.removeItem(at: dataDirectory)
    }
}

/// Runs blocking work (libcurl calls, SQLite) on a thread of its own, so it
/// never occupies the cooperative threads the in-process server needs.
/// The caller awaits while the body runs, so the body's captures are never
/// used from two threads at once.
public func offloaded<T: Sendable>(_ body: @escaping () throws -> T) async throws -> T {
    nonisolated(unsafe) let body = body
    return try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}

/// A device home in a temporary folder, removed when released.
public final class TestDevice: @unchecked Sendable {
    // @unchecked: a ReadingList is used by one test at a time, through `offloaded`.
    public let home: ClientHome
    public let list: ReadingList

    public init(clock: any WallClock = SystemWallClock()) throws {
        home = ClientHome(directory: FileManager.default.temporaryDirectory.appendingPathComponent("readsync-device-\(UUID().uuidString)"))
        list = try ReadingList(home: home, wallClock: clock)
    }

    deinit { try? FileManager.default.removeItem(at: home.directory) }

    /// Connects to `server` as the user holding `token`.
    public func connect(to server: TestServer, token: String) throws {
        try list.configureServer(url: server.url, token: token)
    }

    /// Points the device at `server` as if it were the one it already knew,
    /// at the same address (a restarted server, or one whose database was
    /// replaced), without the re-send that configuring a new server means.
    /// Tests use it instead of reusing a port, which parallel tests may take.
    public func repoint(to server: TestServer) throws {
        try list.store.database.write { db in try MetaKey.serverURL.write(server.url, db) }
    }

    @discardableResult
    public func sync() async throws -> SyncSummary {
        try await offloaded { [self] in try list.sync() }
    }

    /// Everything a user can see, for comparing devices.
    public func snapshot() throws -> [ArticleDetail] {
        try list.list().map { try list.show($0.id) }
    }
}

/// The repository's folders, for seeds and documents.
public enum RepositoryPaths {
    public static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    public static func seed(_ prefix: String) throws -> String {
        let seeds = root.appendingPathComponent("seeds")
        let name = try FileManager.default.contentsOfDirectory(atPath: seeds.path).sorted().first { $0.hasPrefix(prefix) }!
        return seeds.appendingPathComponent(name).path
    }

    /// The `readsync` executable `swift build` put beside the test bundle.
    public static let readsyncExecutable: URL = {
        let products = Bundle.main.bundleURL
        let candidates = [products, products.deletingLastPathComponent()].map { $0.appendingPathComponent("readsync") }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates[0]
    }()
}
