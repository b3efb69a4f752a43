import Foundation
import ReadSyncArticles
import ReadSyncCore

/// `readsync client sync --watch`: keeps a library in step with the server
/// for as long as it runs, without polling either side on a timer.
///
/// Three parts, each on its own thread:
/// - the exchanges: one sync at a time (`ReadingList.sync`), when there is
///   something to exchange, on this thread (`run`);
/// - the library: `LibraryWatcher` wakes when any process writes the
///   database, and a sync follows when the outbox holds changes;
/// - the server: a long poll (`wait=` on `/v1/changes`) answers when
///   another device pushed something, and a sync follows. When the server
///   cannot be reached, the poll tries again with growing pauses (1 s up to
///   30 s), and the first answer after that catches up with a sync.
public final class LiveSync: @unchecked Sendable {
    // @unchecked: `state` is only touched under `condition`.

    /// What `run` reports, one event per exchange.
    public enum Event {
        /// An exchange completed; `because` says what started it.
        case synced(SyncSummary, because: Reason)
        /// An exchange failed (nothing is lost: what was not pushed stays
        /// queued); the next try is at the latest after `retryIn`.
        case failed(any Error, retryIn: Duration)
    }

    public enum Reason: String, Sendable {
        case start = "start"
        case localChange = "local change"
        case serverNews = "server news"
        case reconnected = "server back"
        case retry = "retry"
        case stopping = "stopping"
    }

    /// How long a poll asks the server to hold it: well under the server's
    /// 30 s idle timeout and libcurl's total timeout.
    static let pollSeconds = 25
    static let longestPause: Duration = .seconds(30)

    private struct State {
        var localWrite = false
        var serverNews = false
        var reconnected = false
        var stopping = false
        /// Exchanges completed, so the poll knows when the cursor moved on.
        var exchanges = 0
        /// The device's node id as of the last exchange (a sync may move it).
        var node: NodeID
        /// After a failed exchange: when to try again, and how long the next pause is.
        var retryAt: ContinuousClock.Instant?
        var pause: Duration = .seconds(1)
    }

    private let list: ReadingList
    private let condition = NSCondition()
    private var state: State
    private let watcher: LibraryWatcher

    public init(list: ReadingList) throws {
        self.list = list
        state = State(node: list.store.node)
        watcher = try LibraryWatcher(home: list.home)
    }

    /// Asks `run` to finish the exchange in progress (and push what is
    /// still queued) and return. Callable from any thread.
    public func stop() {
        condition.withLock {
            state.stopping = true
            condition.broadcast()
        }
        watcher.wake()
    }

    /// Exchanges until `stop`: first a sync, then one whenever the library
    /// or the server has something new. `report` gets one event per exchange.
    public func run(report: (Event) -> Void) throws {
        let configuration = try list.store.syncState()
        guard let server = configuration.serverURL, let token = configuration.token else { throw SyncError.notConfigured }
        Thread.detachNewThread { [self] in watchLibrary() }
        var pollStarted = false
        var reason = Reason.start
        while true {
            do {
                let summary = try list.sync()
                let node = list.store.node
                condition.withLock {
                    state.node = node
                    state.exchanges += 1
                    state.retryAt = nil
                    state.pause = .seconds(1)
                    condition.broadcast()
                }
                report(.synced(summary, because: reason))
            } catch {
                let pause = condition.withLock {
                    let pause = state.pause
                    state.retryAt = .now + pause
                    state.pause = min(state.pause * 2, Self.longestPause)
                    state.exchanges += 1
                    condition.broadcast()
                    return pause
                }
                report(.failed(error, retryIn: pause))
            }
            // Stopping: that was the last exchange, whether it went or not.
            if reason == .stopping { return }
            if !pollStarted {
                pollStarted = true
                let caFile = configuration.caFile
                Thread.detachNewThread { [self] in pollServer(server: server, token: token, caFile: caFile) }
            }
            guard let next = try nextReason() else { return }
            reason = next
        }
    }

    /// Waits for a reason to exchange; nil once stopping with nothing queued.
    private func nextReason() throws -> Reason? {
        while true {
            var reason: Reason?
            var checkOutbox = false
            condition.withLock {
                while !state.stopping && !state.localWrite && !state.serverNews && !state.reconnected && !isRetryDue {
                    if let retryAt = state.retryAt {
                        _ = condition.wait(until: Date() + (retryAt - .now).timeInterval)
                    } else {
                        condition.wait()
                    }
                }
                if state.stopping {
                    reason = .stopping
                    checkOutbox = true
                } else if state.reconnected {
                    reason = .reconnected
                } else if state.serverNews {
                    reason = .serverNews
                } else if isRetryDue {
                    reason = .retry
                } else {
                    reason = .localChange
                    checkOutbox = true
                }
                (state.localWrite, state.serverNews, state.reconnected) = (false, false, false)
            }
            // A write to the library may be this process's own (a sync's)
            // or a read's checkpoint: only a queued change needs an exchange.
            if checkOutbox, try list.store.pendingChangeCount() == 0 {
                if reason == .stopping { return nil }
                continue
            }
            return reason
        }
    }

    private var isRetryDue: Bool { state.retryAt.map { $0 <= .now } ?? false }

    private func watchLibrary() {
        while watcher.waitForWrite() {
            condition.withLock {
                state.localWrite = true
                condition.broadcast()
            }
        }
    }

    /// The long poll, until stopping.
    private func pollServer(server: String, token: String, caFile: String?) {
        let transport = CurlSyncTransport(
            serverURL: server, token: token, caFile: caFile,
            limits: HTTPLimits(connectTimeoutSeconds: 10, totalTimeoutSeconds: Self.pollSeconds + 30, maxResponseBytes: 1_048_576))
        var pause: Duration = .seconds(1)
        var failed = false
        var retriedChain = false
        while !condition.withLock({ state.stopping }) {
            do {
                let (sync, node) = try condition.withLock { (try list.store.syncState(), state.node) }
                let news = try transport.waitForNews(after: sync.cursor, node: node, known: sync.known, seconds: Self.pollSeconds)
                pause = .seconds(1)
                retriedChain = false
                guard news || failed else { continue }
                condition.withLock {
                    if failed { state.reconnected = true } else { state.serverNews = true }
                    let exchanges = state.exchanges
                    condition.broadcast()
                    // Until that exchange is done the cursor has not moved:
                    // asking again now would answer at once with the same news.
                    while state.exchanges == exchanges && !state.stopping { condition.wait() }
                }
                failed = false
            } catch SyncError.refused(_, _, .nodeInUse, _) where !retriedChain {
                // This device's own push may have moved its push chain on
                // between reading it and the server checking it: ask again
                // at once, with the chain as it is now. (Twice in a row is
                // for the sync itself to report.)
                retriedChain = true
                continue
            } catch {
                failed = true
                condition.withLock {
                    if !state.stopping { _ = condition.wait(until: Date() + pause.timeInterval) }
                }
                pause = min(pause * 2, Self.longestPause)
            }
        }
    }
}

extension Duration {
    /// In seconds, for Foundation's waits.
    var timeInterval: TimeInterval {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
