import Foundation
import ReadSyncTestSupport
import SeededRandom
import Testing

@testable import ReadSyncCore

struct HybridLogicalClockTests {
    let node = NodeID("abcd")!

    @Test func ticksAreStrictlyIncreasingWhenTheWallClockGoesBackwards() {
        let wall = ManualWallClock(milliseconds: 5_000)
        var clock = HybridLogicalClock(node: node, wallClock: wall)
        var previous = clock.tick()
        for step in 0..<1_000 {
            wall.advance(by: step % 3 == 0 ? -700 : (step % 3 == 1 ? 0 : 1))
            let next = clock.tick()
            #expect(next > previous, "tick \(step) went backwards: \(previous) then \(next)")
            previous = next
        }
        #expect(previous.physical >= 5_000, "physical time must never fall below what was issued")
    }

    @Test func followsTheWallClockWhenItMovesForward() {
        let wall = ManualWallClock(milliseconds: 1_000)
        var clock = HybridLogicalClock(node: node, wallClock: wall)
        #expect(clock.tick() == HLCTimestamp(physical: 1_000, counter: 0, node: node))
        #expect(clock.tick() == HLCTimestamp(physical: 1_000, counter: 1, node: node))
        wall.set(2_000)
        #expect(clock.tick() == HLCTimestamp(physical: 2_000, counter: 0, node: node))
    }

    @Test func observingARemoteTimestampPutsTheNextTickAfterIt() {
        let wall = ManualWallClock(milliseconds: 1_000)
        var clock = HybridLogicalClock(node: NodeID("zzzz")!, wallClock: wall)
        let remote = HLCTimestamp(physical: 9_000, counter: 4, node: NodeID("aaaa")!)
        clock.observe(remote)
        let next = clock.tick()
        #expect(next > remote)
        #expect(next.physical == 9_000 && next.counter == 5)
        // Observing something older changes nothing.
        clock.observe(HLCTimestamp(physical: 10, counter: 0, node: node))
        #expect(clock.tick() > next)
    }

    @Test func resumesAfterAPersistedTimestamp() {
        let wall = ManualWallClock(milliseconds: 100)
        var clock = HybridLogicalClock(node: node, wallClock: wall, resumingAfter: HLCTimestamp(physical: 500, counter: 2, node: node))
        #expect(clock.tick() == HLCTimestamp(physical: 500, counter: 3, node: node))
    }

    @Test func encodedFormSortsLikeTheTimestamp() {
        var rng = SeededGenerator(seed: 42)
        let nodes = ["a", "b", "zz"].map { NodeID($0)! }
        let stamps = (0..<500).map { _ in
            HLCTimestamp(
                physical: Int64.random(in: 0...1 << 45, using: &rng), counter: UInt32.random(in: 0...20, using: &rng), node: nodes.randomElement(using: &rng)!)
        }
        #expect(stamps.sorted().map(\.encoded) == stamps.map(\.encoded).sorted())
        for stamp in stamps { #expect(HLCTimestamp(encoded: stamp.encoded) == stamp) }
        #expect(HLCTimestamp(encoded: "not a timestamp") == nil)
    }

    @Test func encodedFormIsFixedWidthHexAndRefusesAnythingElse() throws {
        let node = try #require(NodeID("a1"))
        #expect(HLCTimestamp(physical: 0x19a_2b3c, counter: 0xff, node: node).encoded == "00000000019a2b3c.000000ff.a1")
        #expect(HLCTimestamp(physical: .max, counter: .max, node: node).encoded == "7fffffffffffffff.ffffffff.a1")
        #expect(HLCTimestamp(encoded: "00000000019A2B3C.000000FF.a1") == HLCTimestamp(physical: 0x19a_2b3c, counter: 0xff, node: node))
        for bad in [
            "", "00000000019a2b3c.000000ff.", "00000000019a2b3c.000000ff.A1", "0000000019a2b3c.000000ff.a1", "00000000019a2b3c-000000ff.a1",
            "+0000000019a2b3c.000000ff.a1", "00000000019a2b3g.000000ff.a1", "8000000000000000.00000000.a1", "00000000019a2b3c.000000ff.a1.b",
        ] {
            #expect(HLCTimestamp(encoded: bad) == nil, "\(bad)")
        }
    }

    @Test func encodedFormIsFixedWidthLowerCaseHex() {
        let node = NodeID("node-7z")!
        #expect(HLCTimestamp(physical: 0x1234, counter: 0xab, node: node).encoded == "0000000000001234.000000ab.node-7z")
        #expect(HLCTimestamp(physical: 0, counter: 0, node: node).encoded == "0000000000000000.00000000.node-7z")
        #expect(HLCTimestamp(physical: .max, counter: .max, node: node).encoded == "7fffffffffffffff.ffffffff.node-7z")
        var rng = SeededGenerator(seed: 7)
        for _ in 0..<500 {
            let physical = Int64.random(in: 0 ... .max, using: &rng), counter = UInt32.random(in: 0 ... .max, using: &rng)
            func padded(_ digits: String, _ width: Int) -> String { String(repeating: "0", count: width - digits.count) + digits }
            #expect(
                HLCTimestamp(physical: physical, counter: counter, node: node).encoded
                    == padded(String(physical, radix: 16), 16) + "." + padded(String(counter, radix: 16), 8) + ".node-7z")
        }
    }
}

struct VersionVectorTests {
    let a = NodeID("a")!, b = NodeID("b")!

    @Test func comparesCausality() {
        let empty = VersionVector()
        let a1 = empty.incremented(for: a)
        let a2 = a1.incremented(for: a)
        let a1b1 = a1.incremented(for: b)
        #expect(empty.compare(empty) == .equal)
        #expect(a1.compare(a2) == .before)
        #expect(a2.compare(a1) == .after)
        #expect(a2.compare(a1b1) == .concurrent)
        #expect(a1.compare(a1b1) == .before)
        #expect(a2.merged(with: a1b1) == VersionVector([a: 2, b: 1]))
    }

    @Test func roundTripsThroughJSON() throws {
        let vector = VersionVector([a: 3, b: 1])
        let data = try JSONEncoder().encode(vector)
        #expect(try JSONDecoder().decode(VersionVector.self, from: data) == vector)
    }

    /// The vector is a sorted array walked side by side; this holds it to
    /// the plain definition over dictionaries, where an absent node counts
    /// as zero, on vectors of up to five of seven nodes (ids of different
    /// lengths, so byte order is not length order).
    @Test func agreesWithTheDefinitionOverDictionaries() throws {
        let nodes = ["a", "a0", "b", "node-7z", "z", "0", "ab"].map { NodeID($0)! }
        var rng = SeededGenerator(seed: 12)
        func randomCounters() -> [NodeID: UInt64] {
            var counters: [NodeID: UInt64] = [:]
            for node in nodes.shuffled(using: &rng).prefix(Int.random(in: 0...5, using: &rng)) {
                counters[node] = UInt64.random(in: 0...3, using: &rng)
            }
            return counters
        }
        for _ in 0..<5_000 {
            let (x, y) = (randomCounters(), randomCounters())
            let (vx, vy) = (VersionVector(x), VersionVector(y))
            let all = Set(x.keys).union(y.keys)
            let less = all.contains { x[$0, default: 0] < y[$0, default: 0] }
            let greater = all.contains { x[$0, default: 0] > y[$0, default: 0] }
            let order: CausalOrder = less ? (greater ? .concurrent : .before) : (greater ? .after : .equal)
            #expect(vx.compare(vy) == order, "\(x) vs \(y)")
            #expect(vx.merged(with: vy) == VersionVector(x.merging(y, uniquingKeysWith: max)), "\(x) ∨ \(y)")
            #expect((vx == vy) == (order == .equal))
            let node = nodes.randomElement(using: &rng)!
            var bumped = x
            bumped[node, default: 0] += 1
            #expect(vx.incremented(for: node) == VersionVector(bumped))
            #expect(nodes.allSatisfy { vx[$0] == x[$0, default: 0] })
            #expect(vx.counters == x.filter { $0.value > 0 })
            #expect(vx.entries.map(\.node) == vx.entries.map(\.node).sorted())
            #expect(try WireCoding.vector(fromText: WireCoding.text(vx)) == vx)
            #expect(VersionVector(compact: vx.compact) == vx)
        }
    }

    /// A JSON object may list its keys in any order and repeat one (a peer
    /// of ours never does): the first value counts, and zeros are dropped.
    @Test func readsKeysInAnyOrderAndKeepsADuplicateKeysFirstValue() throws {
        let vector = try WireCoding.vector(fromText: #"{"z":1,"a":2,"m":0,"z":9,"b":3,"a":"not read"}"#)
        #expect(vector == VersionVector([NodeID("a")!: 2, NodeID("b")!: 3, NodeID("z")!: 1]))
        #expect(vector.entries.map(\.node.rawValue) == ["a", "b", "z"])
        #expect(try WireCoding.text(vector) == #"{"a":2,"b":3,"z":1}"#)
    }
}
