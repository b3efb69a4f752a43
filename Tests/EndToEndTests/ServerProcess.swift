import Foundation
import ReadSyncTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// `readsync serve` as a separate process on a free port, with its own data
/// folder or on a PostgreSQL database; stopped with SIGTERM like a service
/// manager would, or killed.
final class ServerProcess {
    let data: String
    /// The PostgreSQL database it serves from instead of `data`, if any.
    let databaseURL: String?
    let port: Int
    private let process = Process()
    private let logFile: URL

    var url: String { "http://127.0.0.1:\(port)" }
    var database: String { (data as NSString).appendingPathComponent("server.sqlite") }

    /// Starts a server; `data` reuses a stopped one's folder (a restart),
    /// `port` a stopped one's address (devices keep their server's URL);
    /// `environment` adds variables (such as a fault point to die at), and
    /// `options` more options of `serve`.
    init(data: String? = nil, databaseURL: String? = nil, port: Int? = nil, environment: [String: String] = [:], options: [String] = []) throws {
        self.data = data ?? FileManager.default.temporaryDirectory.appendingPathComponent("readsync-e2e-server-\(UUID().uuidString)").path
        self.databaseURL = databaseURL
        logFile = FileManager.default.temporaryDirectory.appendingPathComponent("readsync-e2e-server-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
        self.port = try port ?? Socket.freePort()
        process.executableURL = ReadSyncBinary.url
        process.arguments = ["serve", "--port", String(self.port)] + storeOptions + options
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let log = try FileHandle(forWritingTo: logFile)
        process.standardOutput = log
        process.standardError = log
        try process.run()
        try waitUntilHealthy()
    }

    /// What the server logged so far.
    var log: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }

    var isRunning: Bool { process.isRunning }
    var processIdentifier: Int32 { process.processIdentifier }

    /// `--data DIR` or `--database URL`, as `serve` and `user` take them.
    var storeOptions: [String] { databaseURL.map { ["--database", $0] } ?? ["--data", data] }

    func addUser(_ name: String) throws -> String {
        let result = try ReadSyncBinary.run(["user", "add", name] + storeOptions)
        guard result.status == 0 else { throw POSIXError(.EINVAL) }
        return result.lastLine
    }

    /// Sends SIGTERM and waits; returns the exit status.
    @discardableResult
    func terminate() -> Int32 {
        guard process.isRunning else { return process.terminationStatus }
        process.terminate()
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// SIGKILL: no cleanup, no checkpoint, nothing flushed.
    func kill() {
        guard process.isRunning else { return }
        Glibc.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// The signal that ended the process, once it has ended (nil for a
    /// normal exit); waits at most `seconds`.
    func deathSignal(within seconds: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        guard !process.isRunning, process.terminationReason == .uncaughtSignal else { return nil }
        return process.terminationStatus
    }

    /// Waits until the log contains `text`; false if it never does.
    func waitForLog(_ text: String, seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if log.contains(text) { return true }
            usleep(20_000)
        }
        return false
    }

    deinit {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: logFile)
    }

    func removeData() { try? FileManager.default.removeItem(atPath: data) }

    private func waitUntilHealthy() throws {
        for _ in 0..<200 {
            if let socket = try? Socket.connect(port: port) {
                close(socket)
                return
            }
            guard process.isRunning else { break }
            usleep(50_000)
        }
        throw POSIXError(.ECONNREFUSED)
    }
}
