import ReadSyncCore

/// How the server takes one pushed change, whichever store keeps it: the
/// Core merge, plus the two decisions that make pushes idempotent and keep
/// the change log small.
enum ServerMerge {
    /// The register to store after `change`, or nil when the change is
    /// already absorbed (the stored version has seen everything it has):
    /// then it is neither stored nor logged again. (The same winning write
    /// with a larger vector, as a resync sends it, is not absorbed: its
    /// vector still has to reach everyone.)
    static func accept(_ change: Change, over current: Register?) throws -> Register? {
        guard let current else { return change.register }
        let order = change.vector.compare(current.vector)
        if order == .before || order == .equal { return nil }
        // A write that has seen the stored one must carry a larger timestamp
        // (the hybrid logical clock guarantees it); one that does not would
        // lose to what it replaced, so refuse it rather than diverge.
        if order == .after, change.timestamp < current.timestamp { throw Refusal.timestampBehindCausality(change.key) }
        return Register.merge(current, change.register).merged
    }

    enum Refusal: Error, CustomStringConvertible {
        case timestampBehindCausality(RegisterKey)

        var description: String {
            switch self {
            case .timestampBehindCausality(let key):
                return "a change to \(key.kind.rawValue).\(key.field) follows the stored version but carries an earlier timestamp"
            }
        }
    }

    /// A logged change that a newer one has seen (its vector is dominated)
    /// need not be pulled by anyone any more.
    static func supersedes(_ newer: VersionVector, _ logged: VersionVector) -> Bool {
        let order = logged.compare(newer)
        return order == .before || order == .equal
    }
}
