import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `readsync serve` as a separate process on a free port, with its own data
/// folder; stopped with SIGTERM like a service manager would.
final class ServerProcess {
    let data: String
    let port: Int
    private let process = Process()
    private let logFile: URL

    var url: String { "http://127.0.0.1:\(port)" }

    /// Starts a server; `data` reuses a stopped one's folder (a restart).
    init(data: String? = nil) throws {
        self.data = data ?? FileManager.default.temporaryDirectory.appendingPathComponent("readsync-e2e-server-\(UUID().uuidString)").path
        logFile = FileManager.default.temporaryDirectory.appendingPathComponent("readsync-e2e-server-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
        port = try Self.freePort()
        process.executableURL = ReadSyncBinary.url
        process.arguments = ["serve", "--port", String(port), "--data", self.data]
        let log = try FileHandle(forWritingTo: logFile)
        process.standardOutput = log
        process.standardError = log
        try process.run()
        try waitUntilHealthy()
    }

    /// What the server logged so far.
    var log: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }

    func addUser(_ name: String) throws -> String {
        let result = try ReadSyncBinary.run(["user", "add", name, "--data", data])
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

    deinit {
        if process.isRunning { process.terminate(); process.waitUntilExit() }
        try? FileManager.default.removeItem(at: logFile)
    }

    func removeData() { try? FileManager.default.removeItem(atPath: data) }

    private func waitUntilHealthy() throws {
        for _ in 0..<200 {
            if let socket = try? Self.connect(port: port) { close(socket); return }
            guard process.isRunning else { break }
            usleep(50_000)
        }
        throw POSIXError(.ECONNREFUSED)
    }

    /// A port the kernel just handed out and released.
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw POSIXError(.EADDRINUSE) }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func connect(port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard connected else { close(fd); throw POSIXError(.ECONNREFUSED) }
        return fd
    }
}
