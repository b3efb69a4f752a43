import Foundation

/// A source of physical time in milliseconds since 1970. A seam so tests can
/// run clocks that jump, freeze or go backwards.
public protocol WallClock: Sendable {
    /// Milliseconds since the Unix epoch, as this clock believes it.
    func nowMilliseconds() -> Int64
}

/// The machine's real-time clock.
public struct SystemWallClock: WallClock {
    public init() {}
    public func nowMilliseconds() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
    }
}

/// A clock that says what a test tells it to.
public final class ManualWallClock: WallClock, @unchecked Sendable {
    // @unchecked: the single stored value is guarded by `lock`.
    private let lock = NSLock()
    private var milliseconds: Int64

    public init(milliseconds: Int64) { self.milliseconds = milliseconds }

    public func nowMilliseconds() -> Int64 { lock.withLock { milliseconds } }

    /// Sets the time, forwards or backwards.
    public func set(_ milliseconds: Int64) { lock.withLock { self.milliseconds = milliseconds } }

    /// Moves the time by `delta` milliseconds (negative goes backwards).
    public func advance(by delta: Int64) { lock.withLock { milliseconds += delta } }
}
