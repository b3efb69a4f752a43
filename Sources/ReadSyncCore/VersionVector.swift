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
///
/// Kept as a short array sorted by node id rather than a dictionary: a
/// vector has a handful of entries, and every field of every sync decodes,
/// compares and merges one, so walking two sorted arrays side by side beats
/// hashing 16-byte ids into a fresh dictionary or set each time.
public struct VersionVector: Hashable, Sendable, Codable {
    /// One node's counter.
    public struct Entry: Hashable, Sendable {
        public let node: NodeID
        public let counter: UInt64
    }

    /// The nonzero counters in node id order: one form per vector, so equal
    /// vectors have equal entries. Absent nodes count as zero.
    public private(set) var entries: [Entry]

    public init(_ counters: [NodeID: UInt64] = [:]) {
        entries = counters.compactMap { $0.value > 0 ? Entry(node: $0.key, counter: $0.value) : nil }.sorted { $0.node < $1.node }
    }

    /// The vector of `entries` in any order. Of two entries for one node the
    /// first counts.
    init(firstOfEach entries: [Entry]) {
        // As every writer of ours writes them: in order, no zeros.
        if zip(entries, entries.dropFirst()).allSatisfy({ $0.node < $1.node }) && !entries.contains(where: { $0.counter == 0 }) {
            self.entries = entries
            return
        }
        var kept: [Entry] = []
        kept.reserveCapacity(entries.count)
        for entry in entries {
            if let last = kept.last, !(last.node < entry.node) {
                // Out of order (no writer of ours sends that) or a duplicate.
                let index = kept.firstIndex { !($0.node < entry.node) }!
                if kept[index].node != entry.node { kept.insert(entry, at: index) }
            } else {
                kept.append(entry)
            }
        }
        kept.removeAll { $0.counter == 0 }
        self.entries = kept
    }

    /// The counters as a dictionary, for code that edits a vector by node.
    public var counters: [NodeID: UInt64] {
        Dictionary(uniqueKeysWithValues: entries.map { ($0.node, $0.counter) })
    }

    public subscript(node: NodeID) -> UInt64 {
        entries.first { $0.node == node }?.counter ?? 0
    }

    /// This vector with `node`'s counter advanced by one: the vector of a new
    /// write by `node` that follows everything this vector has seen.
    public func incremented(for node: NodeID) -> VersionVector {
        var copy = self
        if let index = entries.firstIndex(where: { $0.node == node }) {
            copy.entries[index] = Entry(node: node, counter: entries[index].counter + 1)
        } else {
            copy.entries.insert(Entry(node: node, counter: 1), at: entries.firstIndex { node < $0.node } ?? entries.endIndex)
        }
        return copy
    }

    /// The pointwise maximum: everything either side has seen.
    public func merged(with other: VersionVector) -> VersionVector {
        if entries == other.entries { return self }
        var merged = VersionVector()
        merged.entries.reserveCapacity(max(entries.count, other.entries.count))
        Self.walk(entries, other.entries) { node, mine, theirs in
            merged.entries.append(Entry(node: node, counter: max(mine, theirs)))
            return true
        }
        return merged
    }

    /// Compares what the two vectors have seen.
    public func compare(_ other: VersionVector) -> CausalOrder {
        var someLess = false
        var someGreater = false
        Self.walk(entries, other.entries) { _, mine, theirs in
            if mine < theirs { someLess = true }
            if mine > theirs { someGreater = true }
            return !(someLess && someGreater)
        }
        switch (someLess, someGreater) {
        case (false, false): return .equal
        case (true, false): return .before
        case (false, true): return .after
        case (true, true): return .concurrent
        }
    }

    /// Visits every node either side counts, in id order, with both its
    /// counters (zero where absent), until `visit` returns false.
    private static func walk(_ a: [Entry], _ b: [Entry], _ visit: (NodeID, UInt64, UInt64) -> Bool) {
        var i = 0, j = 0
        while i < a.count || j < b.count {
            let keepGoing: Bool
            if j == b.count {
                keepGoing = visit(a[i].node, a[i].counter, 0)
                i += 1
            } else if i == a.count {
                keepGoing = visit(b[j].node, 0, b[j].counter)
                j += 1
            } else if a[i].node == b[j].node {
                keepGoing = visit(a[i].node, a[i].counter, b[j].counter)
                i += 1
                j += 1
            } else if a[i].node < b[j].node {
                keepGoing = visit(a[i].node, a[i].counter, 0)
                i += 1
            } else {
                keepGoing = visit(b[j].node, 0, b[j].counter)
                j += 1
            }
            if !keepGoing { return }
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
