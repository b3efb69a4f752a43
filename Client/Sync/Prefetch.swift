import Foundation

/// Work started on a thread of its own, whose result is taken later: the
/// sync engine asks for the next page while it applies the one it has, so
/// the server reads and sends while the device writes.
final class Prefetch<Value>: @unchecked Sendable {
    // @unchecked: `result` is written once, by the worker, before `done` is
    // signalled, and read only after waiting for `done`.
    private var result: Result<Value, any Error>?
    private let done = DispatchSemaphore(value: 0)

    /// Starts `work` on a thread of its own, or, when `inline`, does it now
    /// (nothing to overlap it with: a thread would only cost its start).
    init(inline: Bool = false, _ work: @escaping () throws -> Value) {
        if inline {
            result = Result(catching: work)
            done.signal()
            return
        }
        nonisolated(unsafe) let work = work
        let thread = Thread { [self] in
            result = Result(catching: work)
            done.signal()
        }
        thread.start()
    }

    /// Work already done: its value.
    init(done value: Value) {
        result = .success(value)
        done.signal()
    }

    /// Waits for the work to end; its value, or the error it threw.
    func value() throws -> Value {
        done.wait()
        done.signal()  // any later call returns at once
        return try result!.get()
    }
}
