/// A replica's hybrid logical clock (Kulkarni et al., 2014).
///
/// Every local write takes `tick()`; every timestamp received from elsewhere
/// goes through `observe(_:)`. The clock therefore never goes backwards, even
/// when the wall clock does, and a write that causally follows another always
/// carries a larger timestamp, whatever the wall clocks say.
public struct HybridLogicalClock: Sendable {
    /// This replica's id, stamped into every timestamp it issues.
    public let node: NodeID
    /// The largest timestamp issued or observed so far (persist it to keep the
    /// guarantee across restarts).
    public private(set) var latest: HLCTimestamp
    private let wallClock: any WallClock

    /// A clock for `node` that resumes after `latest` (nil for a new replica).
    public init(node: NodeID, wallClock: any WallClock = SystemWallClock(), resumingAfter latest: HLCTimestamp? = nil) {
        self.node = node
        self.wallClock = wallClock
        self.latest = latest ?? HLCTimestamp(physical: 0, counter: 0, node: node)
    }

    /// A timestamp for a new local event, larger than every one before it.
    public mutating func tick() -> HLCTimestamp {
        let wall = wallClock.nowMilliseconds()
        if wall > latest.physical {
            latest = HLCTimestamp(physical: wall, counter: 0, node: node)
        } else {
            latest = Self.successor(of: latest, node: node)
        }
        return latest
    }

    /// Advances the clock to a timestamp received from another replica, so
    /// the next `tick()` is larger than it.
    public mutating func observe(_ remote: HLCTimestamp) {
        // The node is only a tie-breaker; the next tick() moves past `remote`
        // in (physical, counter), whichever node issued it.
        guard (remote.physical, remote.counter) > (latest.physical, latest.counter) else { return }
        latest = HLCTimestamp(physical: remote.physical, counter: remote.counter, node: node)
    }

    private static func successor(of timestamp: HLCTimestamp, node: NodeID) -> HLCTimestamp {
        if timestamp.counter == .max {
            return HLCTimestamp(physical: timestamp.physical + 1, counter: 0, node: node)
        }
        return HLCTimestamp(physical: timestamp.physical, counter: timestamp.counter + 1, node: node)
    }
}
