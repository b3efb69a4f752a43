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

    /// The reader keeps each node id it has read, to read it once: ids that
    /// differ in one byte only, at any place and of any length around its
    /// eight-byte steps, stay apart, and one read back from the cache is
    /// still the id written.
    @Test func nodeIDsThatDifferInOneByteStayApart() throws {
        for length in [1, 7, 8, 9, 15, 16, 17, 64] {
            let first = String(repeating: "a", count: length)
            var ids = [first]
            for place in 0..<length {
                var bytes = Array(first.utf8)
                bytes[place] = UInt8(ascii: "b")
                ids.append(String(decoding: bytes, as: UTF8.self))
            }
            // A shorter and a longer id sharing the prefix.
            ids += [String(first.dropLast()), first + "a"].filter { !$0.isEmpty && $0.utf8.count <= 64 }
            let nodes = ids.map { NodeID($0)! }
            var clocks: [String: EntityClocks.Clock] = [:]
            for (index, node) in nodes.enumerated() {
                // Each field's vector names its writer and the field before's.
                let previous = nodes[(index + nodes.count - 1) % nodes.count]
                clocks["f\(index)"] = (
                    HLCTimestamp(physical: Int64(index), counter: 1, node: node),
                    VersionVector([node: UInt64(index + 1), previous: 7])
                )
            }
            let decoded = try #require(EntityClocks.decode(EntityClocks.encode(clocks)))
            #expect(decoded.count == clocks.count)
            for (field, clock) in clocks {
                #expect(decoded[field]?.timestamp == clock.timestamp, "\(length) \(field)")
                #expect(decoded[field]?.vector == clock.vector, "\(length) \(field)")
            }
        }
    }

    /// A vector's entries are read in any order and kept in node order;
    /// a zero counter is no entry; of two entries for one node the first
    /// counts; an id of bytes no node id has is refused, also after a good
    /// one of the same length was read.
    @Test func vectorsReadTheirEntriesInAnyOrder() {
        func entry(_ id: String, _ counter: UInt8) -> [UInt8] { [UInt8(id.utf8.count)] + Array(id.utf8) + [counter] }
        let (a, b) = (NodeID("aa")!, NodeID("bb")!)
        #expect(VersionVector(compact: entry("bb", 2) + entry("aa", 1)) == VersionVector([a: 1, b: 2]))
        #expect(VersionVector(compact: entry("aa", 0) + entry("bb", 2)) == VersionVector([b: 2]))
        #expect(VersionVector(compact: entry("aa", 3) + entry("aa", 5)) == VersionVector([a: 3]))
        #expect(VersionVector(compact: entry("aa", 3) + entry("A!", 5)) == nil)
        #expect(VersionVector(compact: entry("aa", 3) + [2, UInt8(ascii: "a")]) == nil, "cut short")
    }
}
