import ReadSyncTestSupport
import SeededRandom
import Testing

@testable import ReadSyncCore

/// The merge rule of DESIGN.md and its laws: commutative, associative,
/// idempotent, so any delivery order, with duplicates, gives one state.
struct MergeTests {
    static let nodes = ["a1", "b2", "c3", "d4"].map { NodeID($0)! }
    static let caseCount = 10_000

    /// A random register from a small space, so that equal timestamps,
    /// dominating vectors and concurrent vectors all occur often.
    static func randomRegister(_ rng: inout SeededGenerator) -> Register {
        let node = nodes.randomElement(using: &rng)!
        var counters: [NodeID: UInt64] = [:]
        for other in nodes where Bool.random(using: &rng) { counters[other] = UInt64.random(in: 1...3, using: &rng) }
        let values: [FieldValue] = [.null, .bool(true), .int(7), .double(0.5), .text("x"), .text("y")]
        return Register(
            value: values.randomElement(using: &rng)!,
            timestamp: HLCTimestamp(physical: Int64.random(in: 0...3, using: &rng), counter: UInt32.random(in: 0...2, using: &rng), node: node),
            vector: VersionVector(counters))
    }

    @Test func mergeIsCommutativeAssociativeAndIdempotent() {
        for seed in UInt64(1)...UInt64(Self.caseCount) {
            var rng = SeededGenerator(seed: seed)
            // Identical timestamps mean the same write; keep the generated
            // cases honest by giving each (timestamp) one value and vector.
            var byTimestamp: [HLCTimestamp: Register] = [:]
            func draw() -> Register {
                let register = Self.randomRegister(&rng)
                return byTimestamp[register.timestamp, default: register]
            }
            let a = draw()
            byTimestamp[a.timestamp] = a
            let b = draw()
            byTimestamp[b.timestamp] = b
            let c = draw()
            byTimestamp[c.timestamp] = c

            let ab = Register.merge(a, b).merged
            #expect(ab == Register.merge(b, a).merged, "commutativity failed; seed \(seed)")
            #expect(Register.merge(ab, c).merged == Register.merge(a, Register.merge(b, c).merged).merged, "associativity failed; seed \(seed)")
            #expect(Register.merge(a, a).merged == a, "idempotence failed; seed \(seed)")
            #expect(Register.merge(ab, b).merged == ab, "re-delivery changed state; seed \(seed)")
        }
    }

    @Test func anyDeliveryOrderWithDuplicatesConvergesToTheLargestTimestamp() {
        for seed in UInt64(1)...UInt64(Self.caseCount) {
            var rng = SeededGenerator(seed: seed &* 7919)
            var writes: [HLCTimestamp: Register] = [:]
            for _ in 0..<Int.random(in: 1...6, using: &rng) {
                let register = Self.randomRegister(&rng)
                writes[register.timestamp] = writes[register.timestamp] ?? register
            }
            let all = Array(writes.values)
            var deliveries = all + all.filter { _ in Bool.random(using: &rng) }  // some twice
            deliveries.shuffle(using: &rng)
            var other = deliveries
            other.shuffle(using: &rng)

            let first = deliveries.dropFirst().reduce(deliveries[0]) { Register.merge($0, $1).merged }
            let second = other.dropFirst().reduce(other[0]) { Register.merge($0, $1).merged }
            let newest = all.max { $0.timestamp < $1.timestamp }!
            #expect(first == second, "orders diverged; seed \(seed)")
            #expect(first.value == newest.value && first.timestamp == newest.timestamp, "the largest timestamp did not win; seed \(seed)")
            #expect(first.vector == all.reduce(VersionVector()) { $0.merged(with: $1.vector) }, "vector is not the pointwise max; seed \(seed)")
        }
    }

    @Test func concurrentWritesReportTheLoser() {
        let a = NodeID("aa")!, b = NodeID("bb")!
        let fromA = Register.initial(.text("laptop"), at: HLCTimestamp(physical: 100, counter: 0, node: a))
        let fromB = Register.initial(.text("phone"), at: HLCTimestamp(physical: 200, counter: 0, node: b))
        let result = Register.merge(fromA, fromB)
        #expect(result.merged.value == .text("phone"))
        #expect(result.concurrentLoser == fromA)
        #expect(result.merged.vector == VersionVector([a: 1, b: 1]))
        // The same pair in the other order reports the same loser.
        #expect(Register.merge(fromB, fromA).concurrentLoser == fromA)
    }

    @Test func aCausallyLaterWriteIsNotAConflict() {
        let a = NodeID("aa")!, b = NodeID("bb")!
        let first = Register.initial(.text("draft"), at: HLCTimestamp(physical: 100, counter: 0, node: a))
        let second = first.overwritten(with: .text("final"), at: HLCTimestamp(physical: 150, counter: 0, node: b))
        let result = Register.merge(first, second)
        #expect(result.merged.value == .text("final"))
        #expect(result.concurrentLoser == nil)
    }

    /// A device whose clock runs 10 hours fast writes first; another device
    /// receives that write and then overwrites it with its correct clock. The
    /// later write must win: the HLC carried it past the bad timestamp.
    @Test func causallyLaterWriteBeatsAnEarlierOneFromTheFuture() {
        let fast = ManualWallClock(milliseconds: 1_700_000_000_000 + 10 * 3_600_000)
        let honest = ManualWallClock(milliseconds: 1_700_000_000_000)
        var fastClock = HybridLogicalClock(node: NodeID("fast")!, wallClock: fast)
        var honestClock = HybridLogicalClock(node: NodeID("aaaa")!, wallClock: honest)

        let early = Register.initial(.text("from the future"), at: fastClock.tick())
        honestClock.observe(early.timestamp)
        let later = early.overwritten(with: .text("causally later"), at: honestClock.tick())

        #expect(later.timestamp > early.timestamp)
        for (x, y) in [(early, later), (later, early)] {
            let result = Register.merge(x, y)
            #expect(result.merged.value == .text("causally later"))
            #expect(result.concurrentLoser == nil)
        }
    }
}
