import ReadSyncCore

/// What a device does when the server refuses a push because its writes are
/// stamped too far ahead of the server's clock. This is sync policy, kept
/// here; the store only carries it out (`ClientStore.restampChanges`).
///
/// A clock that now agrees with the server's was wrong when the refused
/// writes were made: they are stamped again from the corrected clock (nobody
/// has seen them, the server refused them). A clock that still disagrees
/// can do nothing but wait: its writes stay queued as they are.
enum ClockSkewRecovery {
    /// Whether `wallClock` is within half the skew the server allows of
    /// `serverTime`: close enough that new stamps will not be refused again.
    static func clockAgrees(_ wallClock: any WallClock, serverTime: Int64) -> Bool {
        abs(wallClock.nowMilliseconds() - serverTime) <= SyncProtocol.maxClockSkewMilliseconds / 2
    }

    /// Re-stamps the waiting writes the server refuses at `serverTime`
    /// (those stamped beyond the skew it allows); returns how many.
    static func restampRefused(_ store: ClientStore, serverTime: Int64) throws -> Int {
        try store.restampChanges(aheadOf: serverTime + SyncProtocol.maxClockSkewMilliseconds)
    }
}
