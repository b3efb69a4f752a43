import ArgumentParser
import Foundation
import ProcessMemory
import ReadSyncBenchKit

/// `readsync-bench`: runs the benchmarks, prints the table, writes the JSON.
@main
struct ReadSyncBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "readsync-bench",
        abstract: "Measure readsync against raw SQLite and loopback HTTP baselines taken in the same run.")

    @Option(help: "Library size: 1k, 10k or 100k articles (or a plain number).") var scale = "10k"
    @Flag(help: "A tiny library and few rounds: proves every benchmark works, in seconds.") var quick = false
    @Option(help: "Where to write the JSON report.") var json = "bench-results.json"
    @Option(help: "Library sizes for the incremental benchmark, comma-separated (default: 1k and --scale).") var incremental: String?
    @Option(help: "Timed rounds of the incremental benchmark, per library size (default: 15).") var rounds: Int?
    @Option(help: "Simulated client counts, comma-separated.") var clients = "1,10,100,1000"
    @Option(help: "The `readsync` binary to run as the server (default: the one beside this program; 'in-process' runs the server in this process).")
    var server: String?
    @Option(help: "Where the databases go (removed afterwards).") var workDirectory = FileManager.default.temporaryDirectory.path
    @Option(help: "The server's store: sqlite (a data folder) or postgres (--database).") var store = "sqlite"
    @Option(help: ArgumentHelp("With --store postgres: an empty database the benchmark may fill (default: $READSYNC_DATABASE_URL).", valueName: "url"))
    var database: String?
    @Option(help: "With --store postgres: how many `readsync serve` processes share the database.") var servers = 1

    func validate() throws {
        guard Self.count(scale) != nil else { throw ValidationError("--scale must be 1k, 10k, 100k or a number, not '\(scale)'") }
        guard (incremental ?? "1").split(separator: ",").allSatisfy({ Self.count(String($0)) != nil }),
            clients.split(separator: ",").allSatisfy({ Int($0).map { $0 > 0 } == true })
        else { throw ValidationError("--incremental and --clients take comma-separated positive counts") }
        if let rounds, rounds < 1 { throw ValidationError("--rounds must be at least 1, not \(rounds)") }
        guard ["sqlite", "postgres"].contains(store) else { throw ValidationError("--store is sqlite or postgres, not '\(store)'") }
        if store == "postgres", databaseURL == nil { throw ValidationError("--store postgres needs --database URL (or READSYNC_DATABASE_URL)") }
        guard servers >= 1, store == "postgres" || servers == 1 else { throw ValidationError("--servers above 1 needs --store postgres") }
        if servers > 1, server == "in-process" { throw ValidationError("--servers above 1 runs readsync serve processes, not in-process") }
    }

    private var databaseURL: String? {
        store == "postgres" ? database ?? ProcessInfo.processInfo.environment["READSYNC_DATABASE_URL"] : nil
    }

    func run() throws {
        // As `readsync` does: the devices measured here are this process.
        ProcessMemory.returnLargeBlocksAndShareHeaps()
        let binary = serverBinary()
        let work = URL(fileURLWithPath: workDirectory)
        var options: BenchOptions
        if quick {
            options = .quick(serverBinary: binary, workDirectory: work)
        } else {
            options = .full(articles: Self.count(scale)!, serverBinary: binary, workDirectory: work)
            if let incremental { options.incrementalScales = incremental.split(separator: ",").map { Self.count(String($0))! } }
            options.clientCounts = clients.split(separator: ",").map { Int($0)! }
            if let rounds { options.incrementalRounds = rounds }
        }
        options.databaseURL = databaseURL
        options.servers = servers
        let report = try Benchmark(options: options) { line in
            FileHandle.standardError.write(Data("· \(line)\n".utf8))
        }.run()
        print(report.table)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(report).write(to: URL(fileURLWithPath: json))
        FileHandle.standardError.write(Data("JSON report: \(json)\n".utf8))
    }

    /// The server binary: --server, else `readsync` beside this program if built.
    private func serverBinary() -> URL? {
        if server == "in-process" { return nil }
        if let server { return URL(fileURLWithPath: server) }
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("readsync")
        return FileManager.default.isExecutableFile(atPath: beside.path) ? beside : nil
    }

    static func count(_ text: String) -> Int? {
        let lower = text.lowercased()
        if lower.hasSuffix("k") { return Int(lower.dropLast()).map { $0 * 1_000 } }
        return Int(lower).flatMap { $0 > 0 ? $0 : nil }
    }
}
