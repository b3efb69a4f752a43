import Benchmark
import Foundation
import ReadSyncCore

// The hot paths of merge and sync, measured by ordo-one/benchmark with the
// same inputs as the hand-timed MicroBenchmarks in ReadSyncBenchKit, so the
// two can be compared. The fast paths make 1,000 calls per iteration
// (`scaledIterations`), so the table reports per call; the JSON coding
// benchmarks take microseconds, one call per iteration is enough.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        timeUnits: .nanoseconds,
        scalingFactor: .kilo
    )

    var jsonCoding = Benchmark.defaultConfiguration
    jsonCoding.scalingFactor = .one

    let nodes = (0..<3).map { _ in NodeID.random() }
    let base = HLCTimestamp(physical: 1_763_700_000_000, counter: 0, node: nodes[0])
    let a = Register(
        value: .text("Compare with the 2015 speech"), timestamp: base,
        vector: VersionVector([nodes[0]: 4, nodes[1]: 2]))
    let b = Register(
        value: .text("Compare with the 2016 speech"),
        timestamp: HLCTimestamp(physical: base.physical + 5, counter: 1, node: nodes[1]),
        vector: VersionVector([nodes[0]: 3, nodes[1]: 3, nodes[2]: 1]))
    let change = Change(
        key: RegisterKey(kind: .note, entity: UUID().uuidString.lowercased(), field: "body"),
        register: Register(
            value: .text(String(repeating: "a note of about two hundred characters ", count: 5)),
            timestamp: base, vector: a.vector))
    // On the wire a change travels as its entity with the changed field.
    let entity = EntityChange.grouping([change])[0]
    let encoded = try! WireCoding.encode(entity)
    let encodedData = Data(encoded)

    Benchmark("register merge (concurrent)") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(Register.merge(a, b))
        }
    }

    Benchmark("HLC tick") { benchmark in
        var clock = HybridLogicalClock(node: nodes[0])
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(clock.tick())
        }
    }

    Benchmark("version vector compare") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(a.vector.compare(b.vector))
        }
    }

    // The hand-written coding the product uses, and Foundation's Codable
    // coding of the same change beside it (the reference it must match).
    Benchmark("change encode (JSON, 200-char note)", configuration: jsonCoding) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try! WireCoding.encode(entity))
        }
    }

    Benchmark("change decode (JSON, 200-char note)", configuration: jsonCoding) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try! WireCoding.decode(EntityChange.self, from: encoded))
        }
    }

    Benchmark("change encode (Foundation JSONEncoder, reference)", configuration: jsonCoding) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try! WireCoding.encoder.encode(entity))
        }
    }

    Benchmark("change decode (Foundation JSONDecoder, reference)", configuration: jsonCoding) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try! WireCoding.decoder.decode(EntityChange.self, from: encodedData))
        }
    }
}
