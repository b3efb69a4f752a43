import Foundation
import ReadSyncArticles

/// Fetches the bodies of imported articles with libcurl, several at a time
/// and politely: at most `perHost` requests to one host at once, each bounded
/// by the HTTP limits' timeouts. Results are handed to the caller's thread one
/// by one, as they arrive, so the database is written from one thread.
public struct BodyFetcher {
    public var concurrency: Int
    public var perHost: Int
    public var limits: HTTPLimits

    public init(concurrency: Int = 8, perHost: Int = 2, limits: HTTPLimits = HTTPLimits(connectTimeoutSeconds: 10, totalTimeoutSeconds: 20)) {
        self.concurrency = max(1, concurrency)
        self.perHost = max(1, perHost)
        self.limits = limits
    }

    /// Fetches every request; `deliver` runs on the calling thread for each,
    /// in completion order.
    public func fetch(_ requests: [BodyRequest], deliver: (BodyRequest, Result<ArticleDraft, FetchError>) -> Void) {
        guard !requests.isEmpty else { return }
        let queue = FetchQueue(requests, perHost: perHost)
        let limits = self.limits
        for _ in 0..<min(concurrency, requests.count) {
            Thread {
                // One ingestor (one libcurl handle) per thread: handles are not thread-safe.
                let ingestor = ArticleIngestor(limits: limits)
                while let request = queue.next() {
                    let result: Result<ArticleDraft, FetchError>
                    do { result = .success(try ingestor.draft(from: request.url)) } catch let error as FetchError { result = .failure(error) } catch {
                        result = .failure(.fetchFailed(url: request.url, reason: String(describing: error)))
                    }
                    queue.finish(request, result)
                }
            }.start()
        }
        for _ in requests {
            let (request, result) = queue.awaitResult()
            deliver(request, result)
        }
    }
}

/// The work shared by the fetch threads and the caller.
// @unchecked Sendable: every property is read and written only while holding `condition`.
final class FetchQueue: @unchecked Sendable {
    private let condition = NSCondition()
    private var pending: [(request: BodyRequest, host: String)]
    private var inFlight: [String: Int] = [:]
    private var results: [(BodyRequest, Result<ArticleDraft, FetchError>)] = []
    private let perHost: Int

    init(_ requests: [BodyRequest], perHost: Int) {
        // Reversed, so taking from the end keeps the file's order.
        pending = requests.reversed().map { ($0, URLComponents(string: $0.url)?.host ?? "") }
        self.perHost = perHost
    }

    /// The next request whose host has a free slot, waiting while every
    /// remaining one's host is busy; nil when none remain.
    func next() -> BodyRequest? {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if pending.isEmpty { return nil }
            if let index = pending.lastIndex(where: { inFlight[$0.host, default: 0] < perHost }) {
                let (request, host) = pending.remove(at: index)
                inFlight[host, default: 0] += 1
                return request
            }
            condition.wait()
        }
    }

    func finish(_ request: BodyRequest, _ result: Result<ArticleDraft, FetchError>) {
        condition.lock()
        inFlight[URLComponents(string: request.url)?.host ?? "", default: 1] -= 1
        results.append((request, result))
        condition.broadcast()
        condition.unlock()
    }

    func awaitResult() -> (BodyRequest, Result<ArticleDraft, FetchError>) {
        condition.lock()
        defer { condition.unlock() }
        while results.isEmpty { condition.wait() }
        return results.removeFirst()
    }
}
