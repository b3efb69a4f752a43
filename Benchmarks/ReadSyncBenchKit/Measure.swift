import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Wall-clock timing and the statistics the report uses.
enum Measure {
    /// Seconds `body` took, and its result.
    static func time<T>(_ body: () throws -> T) rethrows -> (seconds: Double, result: T) {
        let start = DispatchTime.now().uptimeNanoseconds
        let result = try body()
        return (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9, result)
    }

    static func seconds(_ body: () throws -> Void) rethrows -> Double {
        try time(body).seconds
    }

    /// The value below which `fraction` of `values` lie (nearest rank).
    static func percentile(_ values: [Double], _ fraction: Double) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        let rank = Int((fraction * Double(sorted.count)).rounded(.up)) - 1
        return sorted[min(max(rank, 0), sorted.count - 1)]
    }

    static func median(_ values: [Double]) -> Double { percentile(values, 0.5) }
}

/// CPU time from /proc (Linux). On a shared host, other machines' load
/// stretches wall-clock time far more than the CPU time the work takes.
enum CPUTime {
    /// User + system seconds `pid` ("self" for this process) has used.
    static func seconds(pid: String = "self") -> Double? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let nameEnd = stat.lastIndex(of: ")")
        else { return nil }
        // After the command name (which may hold spaces and parentheses), the
        // fields start at the third, state: utime is the 14th, stime the 15th.
        let fields = stat[stat.index(after: nameEnd)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}

/// Resident memory from /proc (Linux): the peak (VmHWM) and current (VmRSS).
enum Memory {
    /// Megabytes of `field` (e.g. "VmHWM") for `pid` ("self" for this process).
    static func megabytes(_ field: String, pid: String = "self") -> Double? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix(field + ":") {
            let kilobytes = line.split(separator: " ").compactMap { Double($0) }.first
            return kilobytes.map { $0 / 1024 }
        }
        return nil
    }

    /// Resets this process's peak to its current size (writing 5 to
    /// clear_refs, Linux ≥ 4.0), so a later VmHWM is the peak of what follows.
    @discardableResult
    static func resetPeak() -> Bool {
        // Hand the heap that earlier phases freed back to the system first:
        // glibc keeps it mapped, and the peak would count it.
        #if canImport(Glibc)
        // (malloc.h is not in the Glibc module: looked up by name.)
        if let symbol = dlsym(dlopen(nil, RTLD_NOW), "malloc_trim") {
            _ = unsafeBitCast(symbol, to: (@convention(c) (Int) -> Int32).self)(0)
        }
        #endif
        guard let handle = FileHandle(forWritingAtPath: "/proc/self/clear_refs") else { return false }
        defer { try? handle.close() }
        return (try? handle.write(contentsOf: Data("5".utf8))) != nil
    }
}

/// Runs blocking work on threads of their own, `concurrency` at a time,
/// over `count` items; returns each item's result in order.
enum ThreadPool {
    /// The shared cursor and results. @unchecked: every access holds `lock`.
    private final class State<T>: @unchecked Sendable {
        let lock = NSLock()
        var next = 0
        var results: [T?]
        init(count: Int) { results = Array(repeating: nil, count: count) }

        func take(_ count: Int) -> Int? {
            lock.withLock {
                guard next < count else { return nil }
                defer { next += 1 }
                return next
            }
        }
    }

    static func run<T>(count: Int, concurrency: Int, _ body: @escaping (Int) -> T) -> [T] {
        let state = State<T>(count: count)
        // Each item goes to exactly one thread; callers keep per-item state apart.
        nonisolated(unsafe) let body = body
        let group = DispatchGroup()
        for _ in 0..<max(1, min(concurrency, count)) {
            group.enter()
            let thread = Thread {
                while let index = state.take(count) {
                    let result = body(index)
                    state.lock.withLock { state.results[index] = result }
                }
                group.leave()
            }
            thread.start()
        }
        group.wait()
        return state.results.map { $0! }
    }
}
