import Foundation

/// Runs a program to its end; its standard output and error, together.
public enum Command {
    public struct Failure: Error, CustomStringConvertible {
        public let output: String
        public var description: String { output }
        public init(output: String) { self.output = output }
    }

    /// Runs a program to its end; `input` is what it reads on standard input (nothing if nil).
    public static func run(_ executable: String, _ arguments: [String], input: String? = nil) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        // A file rather than a pipe: nothing to drain while the program runs.
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("readsync-command-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: log) }
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        let stdin = Pipe()
        process.standardInput = stdin
        try process.run()
        try stdin.fileHandleForWriting.write(contentsOf: Data((input ?? "").utf8))
        try stdin.fileHandleForWriting.close()
        process.waitUntilExit()
        try handle.close()
        return (process.terminationStatus, try String(contentsOf: log, encoding: .utf8))
    }
}
