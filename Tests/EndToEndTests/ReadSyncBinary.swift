import Foundation
import ReadSyncTestSupport

/// Runs the built `readsync` executable as a separate process, as a user or
/// a script would.
struct ReadSyncBinary {
    struct Result {
        let status: Int32
        /// The signal that killed the process (SIGABRT at a fault point), or nil.
        let signal: Int32?
        let stdout: String
        let stderr: String
        var lines: [String] { stdout.split(separator: "\n").map(String.init) }
        var lastLine: String { lines.last ?? "" }
    }

    /// The executable `swift build` put beside this test bundle.
    static let url = RepositoryPaths.readsyncExecutable

    static func seed(_ prefix: String) throws -> String { try RepositoryPaths.seed(prefix) }

    /// `umask` runs it under that umask (through `sh`), as a user's shell would.
    @discardableResult
    static func run(_ arguments: [String], environment: [String: String] = [:], stdin: String? = nil, umask: String? = nil) throws -> Result {
        let process = Process()
        if let umask {
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", "umask \(umask) && exec \"$0\" \"$@\"", url.path] + arguments
        } else {
            process.executableURL = url
            process.arguments = arguments
        }
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "READSYNC_HOME")
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let out = Pipe(), err = Pipe(), input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        // Read both pipes fully before waiting, so a large output cannot block the child.
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let signal = process.terminationReason == .uncaughtSignal ? process.terminationStatus : nil
        return Result(
            status: process.terminationStatus, signal: signal, stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: errData, as: UTF8.self))
    }
}

/// A client home folder for one test, removed afterwards.
final class Device: Sendable {
    let home: String
    init() { home = FileManager.default.temporaryDirectory.appendingPathComponent("readsync-e2e-\(UUID().uuidString)").path }
    /// A device whose home already exists (a copied fixture); removed likewise.
    init(home: String) { self.home = home }
    deinit { try? FileManager.default.removeItem(atPath: home) }

    var database: String { (home as NSString).appendingPathComponent("library.sqlite") }

    @discardableResult
    func client(_ arguments: String..., stdin: String? = nil) throws -> ReadSyncBinary.Result {
        try ReadSyncBinary.run(["client", "--home", home] + arguments, stdin: stdin)
    }

    /// Runs a command with extra environment variables (a fault point).
    @discardableResult
    func client(environment: [String: String], _ arguments: String...) throws -> ReadSyncBinary.Result {
        try ReadSyncBinary.run(["client", "--home", home] + arguments, environment: environment)
    }

    func json(_ arguments: String...) throws -> Any {
        let result = try ReadSyncBinary.run(["client", "--home", home] + arguments + ["--json"])
        return try JSONSerialization.jsonObject(with: Data(result.stdout.utf8))
    }

    /// Everything a person sees of each listed article, to compare devices.
    func library() throws -> [[String: String]] {
        let list = try json("list") as! [[String: Any]]
        return try list.map { summary in
            let shown = try json("show", summary["id"] as! String) as! [String: Any]
            let notes = (shown["notes"] as! [[String: Any]]).map { "\($0["body"]!)|\($0["quote"] ?? "")" }.joined(separator: ";")
            return [
                "id": "\(shown["id"]!)", "title": "\(shown["title"]!)", "content": "\(shown["content"]!)", "status": "\(shown["status"]!)",
                "progress": "\(shown["progress"]!)", "favorite": "\(shown["favorite"]!)", "archived": "\(shown["archived"]!)",
                "tags": "\(shown["tags"]!)", "notes": notes,
            ]
        }
    }
}
