import Foundation
import Testing

/// Convergence under any schedule: many seeds, five replicas each.
/// `READSYNC_SIM_SEEDS=N` runs N seeds (default 2,000), `READSYNC_SIM_SEED=S`
/// replays one, `READSYNC_SIM_STEPS` sets the steps per seed.
struct ConvergenceTests {
    static let environment = ProcessInfo.processInfo.environment
    static let seedCount = Int(environment["READSYNC_SIM_SEEDS"] ?? "") ?? 2_000
    static let steps = Int(environment["READSYNC_SIM_STEPS"] ?? "") ?? 60
    static let shards = 8

    @Test(arguments: 0..<shards)
    func everyScheduleConverges(shard: Int) throws {
        let seeds: [UInt64] = Self.environment["READSYNC_SIM_SEED"].flatMap(UInt64.init).map { shard == 0 ? [$0] : [] }
            ?? Array(stride(from: UInt64(shard + 1), through: UInt64(Self.seedCount), by: Self.shards))
        var totals = Simulation.Stats()
        for seed in seeds {
            let simulation = try Simulation(seed: seed, replicaCount: 5)
            do {
                try simulation.run(steps: Self.steps)
                try simulation.check()
            } catch let failure as SimulationFailure {
                Issue.record("\(failure)")
                return
            } catch {
                Issue.record("seed \(seed): \(error)")
                return
            }
            totals.operations += simulation.stats.operations
            totals.pushes += simulation.stats.pushes
            totals.pulls += simulation.stats.pulls
            totals.faults += simulation.stats.faults
            totals.refusedForSkew += simulation.stats.refusedForSkew
            totals.restamped += simulation.stats.restamped
        }
        print("simulation shard \(shard): \(seeds.count) seeds × 5 replicas, 0 divergences; \(totals.operations) edits, \(totals.pushes) pushes, \(totals.pulls) pulls, \(totals.faults) network faults, \(totals.refusedForSkew) pushes refused for clock skew, \(totals.restamped) writes re-stamped")
    }
}
