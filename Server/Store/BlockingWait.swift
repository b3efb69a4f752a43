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

/// A task executor on serial dispatch queues of its own, taken in turn.
///
/// Not one concurrent queue: on Linux, a concurrent queue's jobs run on the
/// shared global pool, about one thread per core, which other work that
/// blocks (`DispatchQueue.concurrentPerform`, a global queue waiting for a
/// child process) can fill; the jobs waiting here would then wait for ever
/// while a caller blocks on them. A serial queue gets a thread of its own
/// whenever it has work. The jobs themselves never block.
final class DispatchTaskExecutor: TaskExecutor {
    private let queues: [DispatchQueue]
    private let next = Atomic<Int>(0)

    init(label: String, queues count: Int = 8) {
        queues = (0..<count).map { DispatchQueue(label: "\(label).\($0)") }
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        let index = next.wrappingAdd(1, ordering: .relaxed).oldValue % queues.count
        queues[index < 0 ? index + queues.count : index].async { job.runSynchronously(on: executor) }
    }
}
