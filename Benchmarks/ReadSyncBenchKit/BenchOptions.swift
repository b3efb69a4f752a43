import Foundation

/// What one benchmark run measures, and how hard.
public struct BenchOptions: Sendable {
    /// Articles in the library (notes: twice as many; read-state changes: as many).
    public var articles: Int
    /// Library sizes for the incremental benchmark; the main scale reuses
    /// the full sync's devices, others get a library of their own.
    public var incrementalScales: [Int]
    public var incrementalRounds: Int
    /// Changes per incremental round.
    public var incrementalChanges = 100
    public var clientCounts: [Int]
    public var clientRounds: Int
    /// Most client syncs in flight at once (the threads that drive them).
    public var clientConcurrency: Int
    public var microIterations: Int
    /// Timed writes seen by a watching device, and devices held waiting at once.
    public var watchRounds = 200
    public var waitingDevices = 1_000
    public var seed: UInt64 = 20_261_121
    /// `readsync` to run as the server process; nil runs the server in this process.
    public var serverBinary: URL?
    /// Where databases go (removed afterwards).
    public var workDirectory: URL
    /// The server's store: nil for the embedded SQLite store, else a
    /// PostgreSQL database (empty: the benchmark creates its users there).
    public var databaseURL: String?
    /// How many `readsync serve` processes share the store (PostgreSQL only);
    /// devices and clients are spread over them in turn.
    public var servers = 1

    public init(
        articles: Int, incrementalScales: [Int], incrementalRounds: Int, clientCounts: [Int], clientRounds: Int,
        clientConcurrency: Int, microIterations: Int, serverBinary: URL?, workDirectory: URL
    ) {
        self.articles = articles
        self.incrementalScales = incrementalScales
        self.incrementalRounds = incrementalRounds
        self.clientCounts = clientCounts
        self.clientRounds = clientRounds
        self.clientConcurrency = clientConcurrency
        self.microIterations = microIterations
        self.serverBinary = serverBinary
        self.workDirectory = workDirectory
    }

    /// The full run at `articles` (1k, 10k or 100k).
    public static func full(articles: Int, serverBinary: URL?, workDirectory: URL) -> BenchOptions {
        BenchOptions(
            articles: articles, incrementalScales: Array(Set([1_000, articles])).sorted(), incrementalRounds: 15,
            clientCounts: [1, 10, 100, 1_000], clientRounds: 5, clientConcurrency: 32, microIterations: 20_000,
            serverBinary: serverBinary, workDirectory: workDirectory)
    }

    /// Tiny and few rounds: proves every part works, in seconds.
    public static func quick(serverBinary: URL?, workDirectory: URL) -> BenchOptions {
        var options = BenchOptions(
            articles: 40, incrementalScales: [20, 40], incrementalRounds: 2, clientCounts: [1, 4], clientRounds: 2,
            clientConcurrency: 4, microIterations: 1_000, serverBinary: serverBinary, workDirectory: workDirectory)
        options.incrementalChanges = 20
        options.watchRounds = 5
        options.waitingDevices = 20
        return options
    }
}
