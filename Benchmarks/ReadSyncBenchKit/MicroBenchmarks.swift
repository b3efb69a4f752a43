import Foundation
import ReadSyncCore

/// The hot paths of merge and sync, each timed over many iterations with a
/// plain loop (best of five runs).
struct MicroBenchmarks {
    let iterations: Int

    func run() -> [BenchReport.Micro] {
        let nodes = (0..<3).map { _ in NodeID.random() }
        let base = HLCTimestamp(physical: 1_763_700_000_000, counter: 0, node: nodes[0])
        let a = Register(
            value: .text("Compare with the 2015 speech"), timestamp: base,
            vector: VersionVector([nodes[0]: 4, nodes[1]: 2]))
        let b = Register(
            value: .text("Compare with the 2016 speech"), timestamp: HLCTimestamp(physical: base.physical + 5, counter: 1, node: nodes[1]),
            vector: VersionVector([nodes[0]: 3, nodes[1]: 3, nodes[2]: 1]))
        let change = Change(
            key: RegisterKey(kind: .note, entity: UUID().uuidString.lowercased(), field: "body"),
            register: Register(
                value: .text(String(repeating: "a note of about two hundred characters ", count: 5)),
                timestamp: base, vector: a.vector))
        // On the wire a change travels as its entity with the changed field.
        let entity = EntityChange.grouping([change])[0]
        let encoded = (try? WireCoding.encode(entity)) ?? []
        var clock = HybridLogicalClock(node: nodes[0])
        // An article's clocks as a device stores them: ten fields written by
        // one device, the last two edited since on another.
        let articleClocks = EntityClocks.encode(
            ArticleField.allCases.enumerated().map { index, field in
                let writer = index < 8 ? nodes[0] : nodes[1]
                let vector = index < 8 ? VersionVector([nodes[0]: 1]) : VersionVector([nodes[0]: 1, nodes[1]: 1])
                return (field.rawValue, (HLCTimestamp(physical: base.physical + Int64(index), counter: 0, node: writer), vector))
            })

        return [
            measure("register merge (concurrent)") { Register.merge(a, b).concurrentLoser != nil },
            measure("HLC tick") { clock.tick().counter == .max },
            measure("version vector compare") { a.vector.compare(b.vector) == .concurrent },
            measure("change encode (JSON, 200-char note)") { ((try? WireCoding.encode(entity))?.count ?? 0) > 0 },
            measure("change decode (JSON, 200-char note)") { (try? WireCoding.decode(EntityChange.self, from: encoded)) != nil },
            measure("entity clocks decode (an article's 10 fields)") { EntityClocks.decodeFields(articleClocks)?.count == 10 },
        ]
    }

    /// Nanoseconds per call of `body`, best of five runs; the results are
    /// counted so the optimiser cannot drop the calls.
    private func measure(_ name: String, _ body: () -> Bool) -> BenchReport.Micro {
        var best = Double.infinity
        var kept = 0
        for _ in 0..<5 {
            let seconds = Measure.seconds {
                for _ in 0..<iterations where body() { kept += 1 }
            }
            best = min(best, seconds)
        }
        precondition(kept >= 0)
        return .init(name: name, nanosecondsPerOperation: best * 1e9 / Double(max(iterations, 1)))
    }
}
