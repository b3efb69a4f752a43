/// How two version vectors relate.
public enum CausalOrder: Sendable, Equatable {
    /// The left side has seen strictly less than the right.
    case before
    /// The left side has seen strictly more than the right.
    case after
    /// Both have seen exactly the same writes.
    case equal
    /// Each has seen a write the other has not: the writes were concurrent.
    case concurrent
}

/// Node id → the number of that node's writes absorbed into a register.
/// Tells "newer" from "concurrent"; the merge is the pointwise maximum.
public struct VersionVector: Hashable, Sendable, Codable {
    /// The counters, by node. Absent nodes count as zero.
    public private(set) var counters: [NodeID: UInt64]

    public init(_ counters: [NodeID: UInt64] = [:]) {
        self.counters = counters.filter { $0.value > 0 }
    }

    public subscript(node: NodeID) -> UInt64 { counters[node] ?? 0 }

    /// This vector with `node`'s counter advanced by one: the vector of a new
    /// write by `node` that follows everything this vector has seen.
    public func incremented(for node: NodeID) -> VersionVector {
        var copy = self
        copy.counters[node, default: 0] += 1
        return copy
    }

    /// The pointwise maximum: everything either side has seen.
    public func merged(with other: VersionVector) -> VersionVector {
        VersionVector(counters.merging(other.counters, uniquingKeysWith: max))
    }

    /// Compares what the two vectors have seen.
    public func compare(_ other: VersionVector) -> CausalOrder {
        var someLess = false
        var someGreater = false
        for node in Set(counters.keys).union(other.counters.keys) {
            let mine = self[node], theirs = other[node]
            if mine < theirs { someLess = true }
            if mine > theirs { someGreater = true }
            if someLess && someGreater { return .concurrent }
        }
        switch (someLess, someGreater) {
        case (false, false): return .equal
        case (true, false): return .before
        case (false, true): return .after
        case (true, true): return .concurrent
        }
    }

    // Encoded as a JSON object {"node": counter}, sorted for stable bytes.
    public init(from decoder: any Decoder) throws {
        let raw = try decoder.singleValueContainer().decode([String: UInt64].self)
        var counters: [NodeID: UInt64] = [:]
        for (key, value) in raw {
            guard let node = NodeID(key) else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "Invalid node id in version vector"))
            }
            counters[node] = value
        }
        self.init(counters)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(Dictionary(uniqueKeysWithValues: counters.map { ($0.key.rawValue, $0.value) }))
    }
}
