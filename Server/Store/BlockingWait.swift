import Dispatch
import Synchronization

/// Runs asynchronous work to its end from synchronous code (the stepped
/// store API, `readsync user`, a collection round on a thread of its own).
///
/// The work runs on a task executor of its own, never on Swift's shared
/// cooperative pool: that pool has one thread per core, and a synchronous
/// caller blocked on it while the work waited for a free thread of the same
/// pool would wait forever (two simulation shards are enough on two cores).
enum BlockingWait {
    static let executor = DispatchTaskExecutor(label: "readsync.blocking-wait")

    static func run<T: Sendable>(_ work: @escaping @Sendable () async throws -> T) throws -> T {
        let outcome = Mutex<Result<T, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task(executorPreference: executor) {
            let result: Result<T, any Error>
            do { result = .success(try await work()) } catch { result = .failure(error) }
            outcome.withLock { $0 = result }
            done.signal()
        }
        done.wait()
        return try outcome.withLock { $0! }.get()
    }
}

/// A task executor on a concurrent dispatch queue, whose threads may block.
final class DispatchTaskExecutor: TaskExecutor {
    private let queue: DispatchQueue

    init(label: String) {
        queue = DispatchQueue(label: label, attributes: .concurrent)
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        queue.async { job.runSynchronously(on: executor) }
    }
}
