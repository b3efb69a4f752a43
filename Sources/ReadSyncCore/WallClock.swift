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
