import Foundation
import ReadSyncArticles
import ReadSyncClient
import ReadSyncCore

/// `count` clients against one server, paired as two devices of one user,
/// each round every client changing one field and syncing.
struct ManyClients {
    let count: Int
    /// One per pair of clients.
    let tokens: [String]
    let server: BenchServer
    let options: BenchOptions

    /// A client core: in-memory store, its sync engine, its own libcurl handle.
    /// Used by one pool thread at a time.
    private final class Client {
        let list: ReadingList
        let engine: SyncEngine
        let article: String

        init(pair: Int, token: String, url: String) throws {
            list = ReadingList(store: try ClientStore(inMemoryWith: SystemWallClock()))
            try list.configureServer(url: url, token: token)
            engine = SyncEngine(store: list.store, transport: CurlSyncTransport(serverURL: url, token: token), server: url)
            // Both devices of a pair save the same URL: one article.
            article = try list.add(
                ArticleDraft(
                    url: CanonicalURL("https://example.com/shared/\(pair)"), title: "Shared article \(pair)",
                    content: "A short article both devices of pair \(pair) keep.")
            ).id
        }
    }

    func run() throws -> BenchReport.Clients {
        // Spread over the servers: the two devices of a pair on different ones when there are several.
        let clients = try (0..<count).map { try Client(pair: $0 / 2, token: tokens[$0 / 2], url: server.url($0)) }
        let threads = min(options.clientConcurrency, count)
        // First contact (untimed): adopt the epoch, exchange the shared article.
        for error in ThreadPool.run(count: count, concurrency: threads, { index in Result { try clients[index].engine.run() } }) {
            _ = try error.get()
        }
        var latencies: [Double] = []
        var wall = 0.0
        for round in 0..<options.clientRounds {
            let (seconds, results) = Measure.time {
                ThreadPool.run(count: count, concurrency: threads) { index -> Result<Double, any Error> in
                    Result {
                        let client = clients[index]
                        try client.list.setProgress(client.article, percent: Double((round * 7 + index) % 99 + 1))
                        return try Measure.seconds { _ = try client.engine.run() }
                    }
                }
            }
            wall += seconds
            latencies += try results.map { try $0.get() * 1000 }
        }
        return .init(
            clients: count, threads: threads, rounds: options.clientRounds, syncs: latencies.count,
            syncsPerSecond: Double(latencies.count) / wall,
            p50Milliseconds: Measure.percentile(latencies, 0.5), p99Milliseconds: Measure.percentile(latencies, 0.99))
    }
}
