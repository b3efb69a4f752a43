import Foundation
import ReadSyncCore

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
