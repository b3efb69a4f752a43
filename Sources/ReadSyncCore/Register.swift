/// One version of a field register: a value, the hybrid-logical timestamp of
/// the write that produced it, and the version vector of the writes it has
/// absorbed.
public struct Register: Hashable, Sendable, Codable {
    public var value: FieldValue
    public var timestamp: HLCTimestamp
    public var vector: VersionVector

    public init(value: FieldValue, timestamp: HLCTimestamp, vector: VersionVector) {
        self.value = value
        self.timestamp = timestamp
        self.vector = vector
    }

    /// The register after a new local write by `timestamp.node`: it follows
    /// every write this version has absorbed.
    public func overwritten(with value: FieldValue, at timestamp: HLCTimestamp) -> Register {
        Register(value: value, timestamp: timestamp, vector: vector.incremented(for: timestamp.node))
    }

    /// The first version of a register, written by `timestamp.node`.
    public static func initial(_ value: FieldValue, at timestamp: HLCTimestamp) -> Register {
        Register(value: value, timestamp: timestamp, vector: VersionVector().incremented(for: timestamp.node))
    }
}

/// What merging two versions of one register produced.
public struct MergeResult: Sendable, Equatable {
    /// The merged register: the winner's value and timestamp, the pointwise
    /// maximum of both vectors.
    public let merged: Register
    /// The losing version when the writes were concurrent (neither vector
    /// dominates); nil when one causally followed the other or they are equal.
    public let concurrentLoser: Register?
}

extension Register {
    /// The merge rule of DESIGN.md: the version with the larger (timestamp,
    /// node) wins; the version vector becomes the pointwise maximum. It is
    /// commutative, associative and idempotent, and because the hybrid logical
    /// clock orders causally later writes after earlier ones, a causally later
    /// write always wins.
    public static func merge(_ a: Register, _ b: Register) -> MergeResult {
        let (winner, loser) = a.timestamp >= b.timestamp ? (a, b) : (b, a)
        let merged = Register(value: winner.value, timestamp: winner.timestamp, vector: a.vector.merged(with: b.vector))
        let concurrent = a.vector.compare(b.vector) == .concurrent && winner.timestamp != loser.timestamp
        return MergeResult(merged: merged, concurrentLoser: concurrent ? loser : nil)
    }
}
