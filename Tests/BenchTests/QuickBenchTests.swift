import Foundation
import ReadSyncBenchKit
import ReadSyncTestSupport
import Testing

/// The benchmark's quick mode runs end to end and reports every section.
/// No timing is asserted: only that each part ran and produced figures.
@Suite struct QuickBenchTests {
    @Test func quickModeMeasuresEverySection() async throws {
        // The server as its own process, as in a real run: a server inside the
        // test process needs a thread of the cooperative pool, which a busy
        // parallel test run on 2 cores did not give it within 30 s (CI).
        let options = BenchOptions.quick(serverBinary: RepositoryPaths.readsyncExecutable, workDirectory: FileManager.default.temporaryDirectory)
        let report = try await offloaded { try Benchmark(options: options).run() }

        #expect(report.workload.articles == options.articles && report.workload.notes == 2 * options.articles)
        #expect(report.baseline.rawInsertSeconds > 0 && report.baseline.ftsBuildSeconds > 0 && report.baseline.loopbackSeconds > 0)
        #expect(report.localWrite.commands == 4 * options.articles)
        #expect(report.fullSync.changes > 0 && report.fullSync.pullBytes > 0 && report.fullSync.pushWireBytes > 0)
        #expect(report.fullSync.pushWireBytes < report.fullSync.pushUncompressedBytes, "pushes are gzipped")
        // CPU time is read for both processes (in clock ticks: a tiny run may use none).
        #expect([report.fullSync.clientCPUSeconds, report.fullSync.serverCPUSeconds].allSatisfy { ($0 ?? -1) >= 0 })
        #expect(report.incremental.allSatisfy { ($0.clientCPUMillisecondsPerRound ?? -1) >= 0 && ($0.serverCPUMillisecondsPerRound ?? -1) >= 0 })
        #expect(report.incremental.map(\.articles) == options.incrementalScales)
        #expect(report.incremental.allSatisfy { $0.changes == options.incrementalChanges && $0.medianMilliseconds > 0 })
        #expect(report.clients.map(\.clients) == options.clientCounts)
        #expect(report.clients.allSatisfy { $0.syncs == $0.clients * options.clientRounds && $0.p99Milliseconds >= $0.p50Milliseconds })
        #expect(report.micro.count == 6 && report.micro.allSatisfy { $0.nanosecondsPerOperation > 0 })
        #expect(report.micro.contains { $0.name.hasPrefix("entity clocks decode") })
        #expect(report.storage.textBytes > 0 && report.storage.deviceBBytes > 0 && report.storage.serverBytes > 0)
        #expect((report.storage.addFilesSeconds ?? 0) > 0 && report.storage.addFilesPerCommand == 500, "the files were added by the binary")
        #expect(report.storage.pocketRows == 2 * options.articles && report.storage.pocketImportSeconds > 0)
        #expect(report.live.rounds == options.watchRounds && report.live.p99Milliseconds >= report.live.p50Milliseconds && report.live.p50Milliseconds > 0)
        #expect(report.live.waitingDevices == options.waitingDevices, "the server held every waiting device at once")
        #expect(report.live.serverDescriptorsWaiting >= report.live.serverDescriptorsBefore + options.waitingDevices, "each waiting device holds a connection")
        #expect(report.live.fanOutMilliseconds > 0)
        #expect(report.targets.count == 10)
        #expect(report.table.contains("full sync end to end"))
        let json = try JSONEncoder().encode(report)
        #expect(try JSONDecoder().decode(BenchReport.self, from: json).fullSync.changes == report.fullSync.changes)
    }
}
