import Metrics
import ReadSyncCore
import Synchronization

/// Wakes the pulls waiting for a user's feed to move (`GET /v1/changes?wait=`):
/// a long-poll holds a suspended task and its connection, no thread and no
/// timer that polls the store.
///
/// Each user has a generation that every accepted push moves on. A waiting
/// pull reads the generation *before* it asks the store, then waits for the
/// generation to move past it: a push committed between the two wakes it at
/// once instead of being missed.
///
/// In-process: pushes through this server call `changed` from the push
/// route; pushes through other servers sharing a PostgreSQL database reach
/// it through the store's `observePushes` (PostgreSQL's LISTEN/NOTIFY).
public final class ChangeNotifier: Sendable {
    private struct Waiter {
        let user: UserID
        /// The waiting device: its own pushes do not wake it (it has them).
        let node: NodeID?
        let continuation: CheckedContinuation<Void, Never>
    }

    private struct State {
        var generations: [UserID: UInt64] = [:]
        var waiters: [UInt64: Waiter] = [:]
        var nextWaiter: UInt64 = 0
        /// Set at shutdown: no pull waits any more.
        var closed = false
    }

    private let state = Mutex(State())

    public init() {}

    /// How many pulls are waiting now.
    public var waitingCount: Int { state.withLock { $0.waiters.count } }

    /// The user's generation, to wait past.
    func generation(of user: UserID) -> UInt64 {
        state.withLock { $0.generations[user, default: 0] }
    }

    /// The user's feed moved by a push from `node`: every pull of another
    /// device waiting on it answers.
    func changed(_ user: UserID, by node: NodeID) {
        let woken = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.generations[user, default: 0] &+= 1
            let ids = state.waiters.filter { $0.value.user == user && $0.value.node != node }.map(\.key)
            return ids.compactMap { state.waiters.removeValue(forKey: $0)?.continuation }
        }
        for waiter in woken { waiter.resume() }
        ServerMetrics.waitingDevices.record(waitingCount)
    }

    /// Waits until the user's generation moves past `generation`, `timeout`
    /// passes, the task is cancelled or the server shuts down. Returns
    /// whether the feed moved.
    func wait(for user: UserID, device node: NodeID?, pastGeneration generation: UInt64, timeout: Duration) async -> Bool {
        let id = state.withLock { state -> UInt64 in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if state.closed || state.generations[user, default: 0] != generation || Task.isCancelled { return true }
                    state.waiters[id] = Waiter(user: user, node: node, continuation: continuation)
                    return false
                }
                if resumeNow {
                    continuation.resume()
                    return
                }
                ServerMetrics.waitingDevices.record(waitingCount)
                // The deadline: a task of its own that resumes the waiter if
                // it is still there (a wake removes it first).
                Task {
                    try? await Task.sleep(for: timeout)
                    self.resume(id)
                }
            }
        } onCancel: {
            resume(id)
        }
        return state.withLock { $0.generations[user, default: 0] != generation }
    }

    /// Answers every waiting pull and lets no pull wait any more (shutdown:
    /// the server then finishes its requests in flight and stops).
    public func close() {
        let woken = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.closed = true
            defer { state.waiters = [:] }
            return state.waiters.values.map(\.continuation)
        }
        for waiter in woken { waiter.resume() }
        ServerMetrics.waitingDevices.record(0)
    }

    private func resume(_ id: UInt64) {
        let continuation = state.withLock { $0.waiters.removeValue(forKey: id)?.continuation }
        if let continuation {
            continuation.resume()
            ServerMetrics.waitingDevices.record(waitingCount)
        }
    }
}
