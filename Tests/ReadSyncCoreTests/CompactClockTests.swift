import ReadSyncCore
import SeededRandom
import Testing

/// The binary forms devices store clocks in.
struct CompactClockTests {
    @Test func timestampsRoundTripAndSortAsTheTimestampsDo() {
        var random = SeededGenerator(seed: 12)
        let nodes = ["a", "n1", "0123456789abcdef", String(repeating: "z", count: 64)].map { NodeID($0)! }
        let stamps = (0..<2_000).map { _ in
            HLCTimestamp(
                physical: Int64.random(in: 0...Int64(1) << 50, using: &random) >> Int64.random(in: 0...40, using: &random),
                counter: UInt32.random(in: 0...3, using: &random) == 0 ? .max : UInt32.random(in: 0...9, using: &random),
                node: nodes.randomElement(using: &random)!)
        }
        for stamp in stamps { #expect(HLCTimestamp(compact: stamp.compact) == stamp) }
        for (a, b) in zip(stamps, stamps.dropFirst()) {
            #expect((a < b) == a.compact.lexicographicallyPrecedes(b.compact), "\(a) \(b)")
        }
        #expect(HLCTimestamp(compact: [1, 2, 3]) == nil)
    }

    @Test func vectorsAndEntityClocksRoundTrip() {
        let vector = VersionVector([NodeID("a")!: 1, NodeID("b2")!: 300, NodeID("c")!: 1 << 53])
        #expect(VersionVector(compact: vector.compact) == vector)
        #expect(VersionVector(compact: VersionVector().compact) == VersionVector())
        #expect(VersionVector(compact: [3, 97]) == nil, "truncated")

        let clocks: [String: EntityClocks.Clock] = [
            "title": (HLCTimestamp(physical: 1_700_000_000_000, counter: 2, node: NodeID("a")!), vector),
            "reading_time": (HLCTimestamp(physical: 5, counter: 0, node: NodeID("b2")!), VersionVector([NodeID("b2")!: 1])),
        ]
        let decoded = EntityClocks.decode(EntityClocks.encode(clocks))
        #expect(decoded?.count == clocks.count)
        for (field, clock) in clocks {
            #expect(decoded?[field]?.timestamp == clock.timestamp && decoded?[field]?.vector == clock.vector)
        }
        #expect(EntityClocks.decode([]).map(\.isEmpty) == true)
        #expect(EntityClocks.decode(EntityClocks.encode(clocks).dropLast()) == nil, "truncated")
    }
}
