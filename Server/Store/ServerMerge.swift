import ReadSyncCore

/// How the server takes one pushed change, whichever store keeps it.
///
/// A store keeps, per field, the versions no accepted write has seen yet:
/// one, unless concurrent writes are unresolved (then each device must still
/// be sent the others' versions, to merge them and list the losers as
/// conflicts). Their merge is the field's state, and each carries the
/// sequence number it was accepted under: the state is the change feed.
enum ServerMerge {
    /// Which stored versions a change replaces (indices into `versions`), or
    /// nil when the change is already absorbed (the versions have together
    /// seen everything it has): then it is neither stored nor numbered again.
    /// (The same winning write with a larger vector, as a resync sends it,
    /// is not absorbed: its vector still has to reach everyone.)
    static func accept(_ change: Change, over versions: [Register]) throws -> [Int]? {
        let seen = versions.reduce(VersionVector()) { $0.merged(with: $1.vector) }
        let order = change.vector.compare(seen)
        if !versions.isEmpty, order == .before || order == .equal { return nil }
        var superseded: [Int] = []
        for (index, version) in versions.enumerated() where supersedes(change.vector, version.vector) {
            // A write that has seen a version must carry a larger timestamp
            // (the hybrid logical clock guarantees it); one that does not
            // would lose to what it replaced, so refuse it rather than diverge.
            if change.timestamp < version.timestamp { throw Refusal.timestampBehindCausality(change.key) }
            superseded.append(index)
        }
        return superseded
    }

    /// What a store did with one pushed change.
    enum Outcome: Equatable {
        /// Already absorbed: neither stored nor numbered.
        case absorbed
        /// Stored and numbered; `concurrent` when versions it has not seen
        /// stay beside it (a conflict every device will resolve the same way).
        case stored(concurrent: Bool)
    }

    /// `accept`, told as an outcome: `superseded` of `versionCount` versions were replaced.
    static func outcome(superseded: [Int], of versionCount: Int) -> Outcome {
        .stored(concurrent: superseded.count < versionCount)
    }

    /// The state of a field: the merge of its stored versions.
    static func state(of versions: [Register]) -> Register? {
        guard var merged = versions.first else { return nil }
        for version in versions.dropFirst() { merged = Register.merge(merged, version).merged }
        return merged
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

    /// A stored version that a newer one has seen (its vector is dominated)
    /// need not be pulled by anyone any more.
    static func supersedes(_ newer: VersionVector, _ stored: VersionVector) -> Bool {
        let order = stored.compare(newer)
        return order == .before || order == .equal
    }
}
