import Foundation
import Logging
import ReadSyncCore
import ReadSyncServer

/// The sync server the benchmark talks to: a separate `readsync serve`
/// process (so its memory can be read from /proc), or, without the binary,
/// one in this process.
final class BenchServer: @unchecked Sendable {
    // @unchecked: set up in `start`, then only read; `stop` is called once.
    let dataDirectory: URL
    private(set) var port = 0
    private var process: Process?
    private var task: Task<Void, any Error>?

    var url: String { "http://127.0.0.1:\(port)" }
    /// The server process's id, nil when it runs in this process.
    var pid: Int32? { process?.processIdentifier }
    var describe: String { process == nil ? "in-process (same address space as the clients)" : "separate `readsync serve` process" }

    private init(dataDirectory: URL) { self.dataDirectory = dataDirectory }

    /// Creates users `names` (returning their tokens) in a fresh data folder,
    /// then starts the server on a free port.
    static func start(binary: URL?, dataDirectory: URL, users names: [String]) throws -> (server: BenchServer, tokens: [String]) {
        let store = try SQLiteSyncStore(directory: dataDirectory)
        let tokens = try names.map { name in
            let token = AccessToken.generate()
            try store.addUser(name: name, tokenHash: AccessToken.hash(token))
            return token
        }
        try store.close()
        let server = BenchServer(dataDirectory: dataDirectory)
        if let binary { try server.launch(binary) } else { try server.runInProcess() }
        return (server, tokens)
    }

    private func launch(_ binary: URL) throws {
        let log = dataDirectory.appendingPathComponent("serve.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let process = Process()
        process.executableURL = binary
        process.arguments = ["serve", "--port", "0", "--data", dataDirectory.path, "--log-level", "info"]
        process.standardError = try FileHandle(forWritingTo: log)
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        self.process = process
        // The server logs its port (`rs.port=N`) once it listens.
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline, process.isRunning {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            if let range = text.range(of: #"rs\.port=(\d+)"#, options: .regularExpression),
               let port = Int(text[range].dropFirst("rs.port=".count)) {
                self.port = port
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
        let server = try SyncServer(configuration: SyncServerConfiguration(host: "127.0.0.1", port: 0, database: .embedded(folder: dataDirectory)), logger: logger)
        let ready = DispatchSemaphore(value: 0)
        let bound = PortBox()
        task = Task.detached {
            try await server.run(shutdownSignals: []) { port in
                bound.port = port
                ready.signal()
            }
        }
        guard ready.wait(timeout: .now() + 30) == .success else { throw BenchError.serverDidNotStart("no port after 30 s") }
        port = bound.port
    }

    /// Peak resident memory of the server process, in MB (nil in-process).
    var peakMegabytes: Double? { pid.flatMap { Memory.megabytes("VmHWM", pid: String($0)) } }
    /// CPU seconds the server process has used; nil when it runs in this process.
    var cpuSeconds: Double? { pid.flatMap { CPUTime.seconds(pid: String($0)) } }

    func stop() {
        if let process, process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        if let task {
            task.cancel()
            let done = DispatchSemaphore(value: 0)
            Task.detached { _ = try? await task.value; done.signal() }
            done.wait()
        }
        process = nil
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
