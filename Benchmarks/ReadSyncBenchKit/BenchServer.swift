import Foundation
import Logging
import ReadSyncCore
import ReadSyncServer

/// The sync server the benchmark talks to: separate `readsync serve`
/// processes (so their memory can be read from /proc; several on one
/// PostgreSQL database), or, without the binary, one in this process.
final class BenchServer: @unchecked Sendable {
    // @unchecked: set up in `start`, then only read; `stop` is called once.
    let dataDirectory: URL
    let database: ServerDatabase
    private(set) var ports: [Int] = []
    private var processes: [Process] = []
    private var task: Task<Void, any Error>?

    /// The server processes (empty when the server runs in this process).
    var processIdentifiers: [Int32] { processes.map(\.processIdentifier) }
    func port(_ index: Int) -> Int { ports[index % ports.count] }

    /// The first server's address; `url(index)` spreads devices over all of them.
    var url: String { url(0) }
    func url(_ index: Int) -> String { "http://127.0.0.1:\(ports[index % ports.count])" }
    var describe: String {
        let store = if case .postgres = database { "PostgreSQL" } else { "SQLite" }
        if processes.isEmpty { return "in-process (same address space as the clients), \(store)" }
        return processes.count == 1 ? "separate `readsync serve` process, \(store)" : "\(processes.count) `readsync serve` processes on one \(store) database"
    }

    private init(dataDirectory: URL, database: ServerDatabase) {
        self.dataDirectory = dataDirectory
        self.database = database
    }

    /// Creates users `names` (returning their tokens) in a fresh data folder
    /// or the given (empty) PostgreSQL database, then starts `count` servers
    /// on free ports.
    static func start(binary: URL?, dataDirectory: URL, databaseURL: String?, count: Int, users names: [String]) throws
        -> (server: BenchServer, tokens: [String])
    {
        let database: ServerDatabase = try databaseURL.map { .postgres(try PostgresURL($0)) } ?? .embedded(folder: dataDirectory)
        // 0700 as the store makes one, or opening it would tighten it and log a notice.
        try FileManager.default.createDirectory(at: dataDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let store = try database.open(logger: Logger(label: "readsync.bench"))
        let tokens = try names.map { name in
            let token = AccessToken.generate()
            try store.addUser(name: name, tokenHash: AccessToken.hash(token))
            return token
        }
        try store.close()
        let server = BenchServer(dataDirectory: dataDirectory, database: database)
        if let binary {
            for index in 0..<count { try server.launch(binary, index: index, databaseURL: databaseURL) }
        } else {
            try server.runInProcess()
        }
        return (server, tokens)
    }

    /// The server's database size on disk.
    func databaseBytes() throws -> Int {
        switch database {
        case .embedded(let folder): return try StorageMeasures.databaseBytes(folder.appendingPathComponent("server.sqlite"))
        case .postgres(let url):
            let store = try PostgresSyncStore(url: url)
            defer { try? store.close() }
            return try store.databaseBytes()
        }
    }

    private func launch(_ binary: URL, index: Int, databaseURL: String?) throws {
        let log = dataDirectory.appendingPathComponent("serve-\(index).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let process = Process()
        process.executableURL = binary
        let store = databaseURL.map { ["--database", $0] } ?? ["--data", dataDirectory.path]
        process.arguments = ["serve", "--port", "0", "--log-level", "info"] + store
        process.standardError = try FileHandle(forWritingTo: log)
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        processes.append(process)
        // The server logs its port (`rs.port=N`) once it listens.
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline, process.isRunning {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            if let range = text.range(of: #"rs\.port=(\d+)"#, options: .regularExpression),
                let port = Int(text[range].dropFirst("rs.port=".count))
            {
                ports.append(port)
                return
            }
            usleep(20_000)
        }
        stop()
        throw BenchError.serverDidNotStart((try? String(contentsOf: log, encoding: .utf8)) ?? "")
    }

    private func runInProcess() throws {
        var logger = Logger(label: "readsync.bench-server")
        logger.logLevel = .critical  // cancelling it at the end logs errors that mean nothing here
        let server = try SyncServer(configuration: SyncServerConfiguration(host: "127.0.0.1", port: 0, database: database), logger: logger)
        let ready = DispatchSemaphore(value: 0)
        let bound = PortBox()
        task = Task.detached {
            try await server.run(shutdownSignals: []) { port in
                bound.port = port
                ready.signal()
            }
        }
        guard ready.wait(timeout: .now() + 30) == .success else { throw BenchError.serverDidNotStart("no port after 30 s") }
        ports = [bound.port]
    }

    /// Peak resident memory of the largest server process, in MB (nil in-process).
    var peakMegabytes: Double? {
        processes.compactMap { Memory.megabytes("VmHWM", pid: String($0.processIdentifier)) }.max()
    }
    /// CPU seconds the server processes have used together (not PostgreSQL's
    /// own); nil when the server runs in this process.
    var cpuSeconds: Double? {
        processes.isEmpty ? nil : processes.compactMap { CPUTime.seconds(pid: String($0.processIdentifier)) }.reduce(0, +)
    }

    func stop() {
        for process in processes where process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        if let task {
            task.cancel()
            let done = DispatchSemaphore(value: 0)
            Task.detached {
                _ = try? await task.value
                done.signal()
            }
            done.wait()
        }
        processes = []
        task = nil
    }
}

/// @unchecked: written once before the semaphore is signalled, read after.
private final class PortBox: @unchecked Sendable { var port = 0 }

enum BenchError: Error, CustomStringConvertible {
    case serverDidNotStart(String)
    case mismatch(String)

    var description: String {
        switch self {
        case .serverDidNotStart(let log): return "the sync server did not start: \(log.suffix(500))"
        case .mismatch(let what): return "the benchmark's result is wrong: \(what)"
        }
    }
}
