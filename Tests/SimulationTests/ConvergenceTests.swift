import Foundation
import ReadSyncCore
import ReadSyncServer
import ReadSyncTestSupport
import Testing

/// Convergence under any schedule: many seeds, five replicas each, against
/// each server store (the one in memory, the SQLite one on disk, and
/// PostgreSQL beside the tests' throwaway cluster).
/// `READSYNC_SIM_SEEDS=N` runs N seeds per store (default: see
/// `seedCount`), `READSYNC_SIM_STORES` names the stores to run against (see
/// `stores`), `READSYNC_SIM_SEED=S` replays one, `READSYNC_SIM_STEPS` sets
/// the steps per seed.
struct ConvergenceTests {
    static let environment = ProcessInfo.processInfo.environment
    /// Seeds 1…N for each store: READSYNC_SIM_SEEDS, else 2,000 for SQLite
    /// and for the store in memory, 150 for PostgreSQL.
    ///
    /// A seed costs about 0.12 CPU s in memory and 0.17 with SQLite (debug
    /// build, 2026-12-06, `READSYNC_SIM_STORES=memory READSYNC_SIM_SEEDS=200`:
    /// 23.4 s user and 1.4 system; SQLite 31.0 and 3.3), about 1 with
    /// PostgreSQL (30 seeds: 25.6 and 7.2, and the server's own), nearly all
    /// of it the five devices. At 0.45 and 0.56 (2026-12-01) the full count
    /// took CI past its half hour and the test command ran 400 and 1,000;
    /// since then the devices cache their statements (5fb956a), keep an
    /// outbox row per entity, give the search index its rows in one
    /// statement and read their sync state in one, and the check of the
    /// search indexes is FTS5's own (5fa4a3c: it built a copy of each index
    /// to compare, half the cost of a seed: 52.6 and 64.7 CPU s for the 200
    /// seeds before it).
    static func seedCount(for store: Store) -> Int {
        if let seeds = environment["READSYNC_SIM_SEEDS"].flatMap({ Int($0) }) { return seeds }
        switch store {
        case .sqlite, .memory: return 2_000
        case .postgres: return 150
        }
    }
    static let steps = Int(environment["READSYNC_SIM_STEPS"] ?? "") ?? 60
    static let shards = 8

    enum Store: String, CaseIterable, Sendable {
        case memory, sqlite, postgres

        /// A new, empty store that sees devices at `clock`'s time, and how to dispose of it.
        func make(clock: ManualWallClock) throws -> (store: any SteppedSyncStore, dispose: () -> Void) {
            let now: @Sendable () -> Date = { Date(timeIntervalSince1970: Double(clock.nowMilliseconds()) / 1000) }
            switch self {
            case .memory:
                return (MemorySyncStore(epoch: "simulated", clock: now), {})
            case .sqlite:
                let directory = Self.newSQLiteFolder()
                try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
                let copied = FileManager.default.createFile(
                    atPath: directory.appendingPathComponent("server.sqlite").path, contents: try Self.emptySQLiteDatabase.get(),
                    attributes: [.posixPermissions: 0o600])
                guard copied else { throw CocoaError(.fileWriteUnknown) }
                let store = try SQLiteSyncStore(directory: directory, clock: now)
                return (
                    store,
                    {
                        try? store.close()
                        try? FileManager.default.removeItem(at: directory)
                    }
                )
            case .postgres:
                let (store, dispose) = try TestPostgres.makeStore(clock: now)
                return (store, dispose)
            }
        }

        /// A new folder for a SQLite store, in memory-backed storage where
        /// there is some: the store syncs its log at every commit, and only
        /// its logic is tested.
        private static func newSQLiteFolder() -> URL {
            let shm = URL(fileURLWithPath: "/dev/shm")
            let base = FileManager.default.fileExists(atPath: shm.path) ? shm : FileManager.default.temporaryDirectory
            return base.appendingPathComponent("readsync-sim-\(UUID().uuidString)")
        }

        /// The database file of a new, empty SQLite store, made and migrated
        /// once: each seed's store opens a copy of it (migrating a new one at
        /// every seed was a twelfth of the SQLite shards' work). The copies
        /// share the store's epoch, as the stores in memory all have one.
        private static let emptySQLiteDatabase = Result<Data, any Error> {
            let directory = newSQLiteFolder()
            defer { try? FileManager.default.removeItem(at: directory) }
            try SQLiteSyncStore(directory: directory).close()
            return try Data(contentsOf: directory.appendingPathComponent("server.sqlite"))
        }
    }

    /// `READSYNC_SIM_STORES=sqlite,postgres` picks stores (default: every one).
    static let stores: [Store] =
        environment["READSYNC_SIM_STORES"].map { $0.split(separator: ",").compactMap { Store(rawValue: String($0)) } }
        ?? Store.allCases

    /// The lanes the shards run in, one shard at a time each. A shard is
    /// minutes of synchronous work: run as a synchronous test it would hold
    /// one of the threads of Swift's cooperative pool (as many as the
    /// cores) all that time, and the suite's async tests (the end-to-end
    /// ones, waiting on processes) waited for the simulation to end before
    /// they could run beside it. As many lanes as cores for the stores in
    /// this process, and as many again for PostgreSQL's shards, which
    /// mostly wait on the server: their waits overlap the others' work.
    static let cores = max(ProcessInfo.processInfo.activeProcessorCount, 1)
    static let lanes = (0..<2 * cores).map { DispatchQueue(label: "readsync.simulation-lane-\($0)") }
    static func lane(_ store: Store, shard: Int) -> DispatchQueue {
        lanes[(store == .postgres ? cores : 0) + shard % cores]
    }

    @Test(arguments: stores, 0..<shards)
    func everyScheduleConverges(store: Store, shard: Int) async throws {
        let outcome = try await withCheckedThrowingContinuation { continuation in
            Self.lane(store, shard: shard).async { continuation.resume(with: Result { try Self.run(store, shard: shard) }) }
        }
        // Recorded here, in the test's task: an issue recorded on a lane's
        // thread would belong to no test.
        switch outcome {
        case .failed(let problem): Issue.record("\(store) store, \(problem)")
        case .converged(let seeds, let totals):
            print(
                "simulation, \(store) store, shard \(shard): \(seeds) seeds × 5 replicas, 0 divergences; \(totals.operations) edits, \(totals.pushes) pushes, \(totals.pulls) pulls, \(totals.faults) network faults, \(totals.refusedForSkew) pushes refused for clock skew, \(totals.restamped) writes re-stamped, \(totals.backups) server backups and \(totals.restores) restores, \(totals.resyncs) resyncs, \(totals.copiedHomes) homes copied with their node id, \(totals.nodeMoves) moves to a new node id, \(totals.absences) long absences, \(totals.collections) collection rounds collecting \(totals.collectedArticles) deleted articles, \(totals.retirements) devices retired and \(totals.returnsFromRetirement) returns"
            )
        }
    }

    enum ShardOutcome: Sendable {
        case converged(seeds: Int, totals: Simulation.Stats)
        case failed(String)
    }

    /// Runs the shard's seeds against `store`, each on a new, empty store,
    /// and stops at the first that fails.
    static func run(_ store: Store, shard: Int) throws -> ShardOutcome {
        let seeds: [UInt64] =
            environment["READSYNC_SIM_SEED"].flatMap(UInt64.init).map { shard == 0 ? [$0] : [] }
            ?? Array(stride(from: UInt64(shard + 1), through: UInt64(seedCount(for: store)), by: shards))
        var totals = Simulation.Stats()
        for seed in seeds {
            let clock = ManualWallClock(milliseconds: Simulation.start)
            let (server, dispose) = try store.make(clock: clock)
            defer { dispose() }
            let simulation = try Simulation(seed: seed, replicaCount: 5, server: server, serverClock: clock)
            do {
                try simulation.run(steps: steps)
                try simulation.check()
            } catch let failure as SimulationFailure {
                return .failed("\(failure)")
            } catch {
                return .failed("seed \(seed): \(error)")
            }
            totals.operations += simulation.stats.operations
            totals.pushes += simulation.stats.pushes
            totals.pulls += simulation.stats.pulls
            totals.faults += simulation.stats.faults
            totals.refusedForSkew += simulation.stats.refusedForSkew
            totals.restamped += simulation.stats.restamped
            totals.resyncs += simulation.stats.resyncs
            totals.backups += simulation.stats.backups
            totals.restores += simulation.stats.restores
            totals.copiedHomes += simulation.stats.copiedHomes
            totals.nodeMoves += simulation.stats.nodeMoves
            totals.absences += simulation.stats.absences
            totals.collections += simulation.stats.collections
            totals.collectedArticles += simulation.stats.collectedArticles
            totals.retirements += simulation.stats.retirements
            totals.returnsFromRetirement += simulation.stats.returnsFromRetirement
        }
        return .converged(seeds: seeds.count, totals: totals)
    }
}
