import Foundation
import ReadSyncClient
import ReadSyncCore
import SeededRandom

/// Runs every benchmark of issue 5 in one process, each figure beside a
/// baseline taken in the same run. Blocking: call it from a thread that may
/// block (not a Swift concurrency thread the in-process server needs).
public struct Benchmark {
    public let options: BenchOptions
    /// Progress lines for the terminal.
    let log: (String) -> Void

    public init(options: BenchOptions, log: @escaping (String) -> Void = { _ in }) {
        self.options = options
        self.log = log
    }

    public func run() throws -> BenchReport {
        let work = options.workDirectory.appendingPathComponent("readsync-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        var report = BenchReport()
        #if DEBUG
        report.build = "debug"
        #else
        report.build = "release"
        #endif

        // Users: the full-sync pair, one per other incremental scale, and
        // one per pair of simulated clients.
        let otherScales = options.incrementalScales.filter { $0 != options.articles }
        let clientUsers = options.clientCounts.flatMap { count in (0..<(count + 1) / 2).map { "c\(count)-\($0)" } }
        let (server, tokens) = try BenchServer.start(
            binary: options.serverBinary, dataDirectory: work.appendingPathComponent("server"),
            databaseURL: options.databaseURL, count: options.servers,
            users: ["library"] + otherScales.map { "scale-\($0)" } + clientUsers + ["live"])
        defer { server.stop() }
        report.server = server.describe
        log("server: \(server.describe) at \((0..<options.servers).map(server.url).joined(separator: ", "))")

        let devices: (a: Device, b: Device)
        do {
            log("generating \(options.articles) articles")
            let library = Library.generate(articles: options.articles, seed: options.seed)
            report.workload = .init(
                articles: library.articles.count, notes: library.notes.count, readChanges: library.readChanges.count,
                textMegabytes: Double(library.textBytes) / 1_048_576)
            log("baselines: raw insert")
            let raw = try RawBaseline.insert(library, into: work.appendingPathComponent("raw"), withFTS: false)
            let rawFTS = try RawBaseline.insert(library, into: work.appendingPathComponent("raw-fts"), withFTS: true)
            report.baseline.rawInsertSeconds = raw.insertSeconds
            report.baseline.rawInsertWithFTSSeconds = rawFTS.insertSeconds
            report.baseline.ftsBuildSeconds = rawFTS.ftsSeconds

            log("local write path")
            // With several servers, B pulls through another server than the one A pushes to.
            devices = (
                try Device(home: work.appendingPathComponent("device-a"), server: server, token: tokens[0]),
                try Device(home: work.appendingPathComponent("device-b"), server: server, token: tokens[0], via: 1)
            )
            let (seconds, commands) = try Measure.time { try devices.a.save(library) }
            report.localWrite = .init(
                seconds: seconds, commands: commands,
                ratioToRawInsert: seconds / raw.insertSeconds,
                ratioToRawInsertWithFTS: seconds / report.baseline.rawWithFTSTotal)
            // The same commands one transaction each, as the CLI runs them, on a sample.
            let sample = try Device(home: work.appendingPathComponent("device-sample"), server: server, token: tokens[0])
            let (sampleSeconds, sampleCommands) = try Measure.time { try sample.saveCommands(library, articles: max(1, options.articles / 10)) }
            report.localWrite.oneTransactionPerCommandMilliseconds = sampleSeconds * 1000 / Double(sampleCommands)
            report.storage.textBytes = library.textBytes
            if let binary = options.serverBinary {
                log("client add of \(library.articles.count) files")
                report.storage.addFilesPerCommand = 500
                let seconds = try StorageMeasures.addFiles(library, binary: binary, in: work.appendingPathComponent("add-files"), perCommand: 500)
                report.storage.addFilesSeconds = seconds
                report.storage.addFilesRatioToRawInsertWithFTS = seconds / report.baseline.rawWithFTSTotal
                try? FileManager.default.removeItem(at: work.appendingPathComponent("add-files"))
            }
        }  // the generated library is released here: it is not part of the client's memory during sync

        log("full sync")
        report.fullSync = try fullSync(devices.a, devices.b, server: server)
        report.storage.deviceABytes = try StorageMeasures.databaseBytes(devices.a.list.home.databaseURL)
        report.storage.deviceBBytes = try StorageMeasures.databaseBytes(devices.b.list.home.databaseURL)
        report.storage.serverBytes = try server.databaseBytes()
        log("Pocket import")
        report.storage.pocketRows = options.articles * 2
        report.storage.pocketImportSeconds = try StorageMeasures.pocketImport(rows: report.storage.pocketRows, in: work)
        report.fullSync.baselineSeconds = report.baseline.rawInsertSeconds + report.baseline.rawWithFTSTotal
        log("baseline: loopback transfer")
        let sink = try LoopbackSink()
        report.baseline.loopbackBytes = report.fullSync.pushWireBytes + report.fullSync.pullBytes
        report.baseline.loopbackSeconds = try sink.transferSeconds(bytes: report.baseline.loopbackBytes)
        report.fullSync.baselineSeconds += report.baseline.loopbackSeconds
        report.fullSync.ratio = report.fullSync.endToEndSeconds / report.fullSync.baselineSeconds

        for (index, scale) in options.incrementalScales.enumerated() {
            log("incremental at \(scale) articles")
            if scale == options.articles {
                report.incremental.append(try incremental(devices.a, devices.b, articles: scale, server: server))
            } else {
                let token = tokens[1 + otherScales.firstIndex(of: scale)!]
                let a = try Device(home: work.appendingPathComponent("inc-\(index)-a"), server: server, token: token)
                let b = try Device(home: work.appendingPathComponent("inc-\(index)-b"), server: server, token: token, via: 1)
                log("  a library of \(scale) articles on A, synced to B (untimed)")
                _ = try a.save(Library.generate(articles: scale, seed: options.seed &+ UInt64(scale)))
                _ = try a.sync()
                _ = try b.sync()
                report.incremental.append(try incremental(a, b, articles: scale, server: server))
            }
        }

        log("watch: \(options.watchRounds) writes seen by a watching device, \(options.waitingDevices) devices waiting")
        report.live = try LiveSyncBench(
            server: server, token: tokens.last!, rounds: options.watchRounds, waitingDevices: options.waitingDevices,
            work: work
        ).run()

        var clientTokens = tokens.dropFirst(1 + otherScales.count)
        for count in options.clientCounts {
            log("\(count) clients")
            let pairs = (count + 1) / 2
            report.clients.append(try ManyClients(count: count, tokens: Array(clientTokens.prefix(pairs)), server: server, options: options).run())
            clientTokens = clientTokens.dropFirst(pairs)
        }
        report.clientsDriven = """
            Clients: each is a full client core (its own in-memory SQLite store, sync engine and libcurl handle with a kept-alive \
            connection) in this process; clients are paired as two devices of one user, so each sync pushes its own change and \
            pulls its partner's. Each round every client makes one change and syncs; at most \(options.clientConcurrency) syncs \
            run at once, on that many threads. Latency is one client's whole sync (push + pull); throughput is syncs per second \
            of round wall time.
            """

        log("micro-benchmarks")
        report.micro = MicroBenchmarks(iterations: options.microIterations).run()
        report.targets = Self.targets(report)
        return report
    }

    private func fullSync(_ a: Device, _ b: Device, server: BenchServer) throws -> BenchReport.FullSync {
        var result = BenchReport.FullSync()
        Memory.resetPeak()
        let cpuBefore = (client: CPUTime.seconds(), server: server.cpuSeconds)
        let (push, pushed) = try Measure.time { try a.sync() }
        let (pull, pulled) = try Measure.time { try b.sync() }
        result.clientCPUSeconds = Self.difference(CPUTime.seconds(), cpuBefore.client)
        result.serverCPUSeconds = Self.difference(server.cpuSeconds, cpuBefore.server)
        result.clientPeakMegabytes = Memory.megabytes("VmHWM")
        result.serverPeakMegabytes = server.peakMegabytes
        // The server drops versions a later write superseded, so B may pull
        // fewer changes than A pushed; the libraries must still be equal.
        let (mine, theirs) = (try a.list.status(), try b.list.status())
        guard pulled.pulled > 0, (mine.articles, mine.unread, mine.notes) == (theirs.articles, theirs.unread, theirs.notes) else {
            throw BenchError.mismatch("after the full sync B has \(theirs.articles) articles and \(theirs.notes) notes, A \(mine.articles) and \(mine.notes)")
        }
        result.pushSeconds = push
        result.pullSeconds = pull
        result.changes = pushed.pushed
        let traffic = [a.traffic, b.traffic]
        result.pushWireBytes = traffic.reduce(0) { $0 + $1.sentBytes }
        result.pushUncompressedBytes = traffic.reduce(0) { $0 + $1.sentUncompressedBytes }
        result.pullBytes = traffic.reduce(0) { $0 + $1.receivedBytes }
        result.pullUncompressedBytes = traffic.reduce(0) { $0 + $1.receivedUncompressedBytes }
        result.requests = traffic.reduce(0) { $0 + $1.requests }
        return result
    }

    /// Rounds of `incrementalChanges` changes on A (60 % read-state flags,
    /// the rest notes of four registers), then A syncs and B syncs.
    private func incremental(_ a: Device, _ b: Device, articles: Int, server: BenchServer) throws -> BenchReport.Incremental {
        var random = SeededGenerator(seed: options.seed &+ 7)
        let ids = try a.list.list().map(\.id)
        var favorites: Set<String> = []
        var pushes: [Double] = [], pulls: [Double] = [], totals: [Double] = []
        var cpu: (client: Double?, server: Double?) = (0, 0)
        let flags = options.incrementalChanges * 6 / 10
        let notes = (options.incrementalChanges - flags) / 4
        log("  \(options.incrementalRounds) timed rounds")
        for round in 0..<options.incrementalRounds {
            for id in ids.shuffled(using: &random).prefix(flags) {
                try a.list.setFavorite(
                    id,
                    favorites.insert(id).inserted
                        || {
                            favorites.remove(id)
                            return false
                        }())
            }
            for index in 0..<notes {
                try a.list.addNote(
                    to: ids[Int.random(in: 0..<ids.count, using: &random)],
                    body: "Round \(round) note \(index): " + String(repeating: "worth rereading ", count: 10))
            }
            let cpuBefore = (client: CPUTime.seconds(), server: server.cpuSeconds)
            let (push, pushed) = try Measure.time { try a.sync() }
            let (pull, pulled) = try Measure.time { try b.sync() }
            cpu.client = Self.sum(cpu.client, Self.difference(CPUTime.seconds(), cpuBefore.client))
            cpu.server = Self.sum(cpu.server, Self.difference(server.cpuSeconds, cpuBefore.server))
            guard pushed.pushed == flags + notes * 4, pulled.pulled == pushed.pushed else {
                throw BenchError.mismatch("incremental round pushed \(pushed.pushed), pulled \(pulled.pulled), expected \(flags + notes * 4)")
            }
            pushes.append(push * 1000)
            pulls.append(pull * 1000)
            totals.append((push + pull) * 1000)
        }
        return .init(
            articles: articles, changes: flags + notes * 4, rounds: options.incrementalRounds,
            pushMedianMilliseconds: Measure.median(pushes), pullMedianMilliseconds: Measure.median(pulls),
            medianMilliseconds: Measure.median(totals), worstMilliseconds: totals.max() ?? 0,
            clientCPUMillisecondsPerRound: cpu.client.map { $0 * 1000 / Double(options.incrementalRounds) },
            serverCPUMillisecondsPerRound: cpu.server.map { $0 * 1000 / Double(options.incrementalRounds) })
    }

    /// `after - before`, when both were measured.
    private static func difference(_ after: Double?, _ before: Double?) -> Double? {
        guard let after, let before else { return nil }
        return after - before
    }

    private static func sum(_ total: Double?, _ more: Double?) -> Double? {
        guard let total, let more else { return nil }
        return total + more
    }

    /// The goals of issue 12 (storage v2), each beside what this run measured.
    static func targets(_ report: BenchReport) -> [BenchReport.Target] {
        func x(_ value: Double) -> String { String(format: "%.2f×", value) }
        var targets = [
            BenchReport.Target(name: "full sync vs baseline", target: "≤ 1.5×", measured: x(report.fullSync.ratio), met: report.fullSync.ratio <= 1.5),
            BenchReport.Target(
                name: "local write path vs raw insert + FTS", target: "≤ 1.5×",
                measured: x(report.localWrite.ratioToRawInsertWithFTS), met: report.localWrite.ratioToRawInsertWithFTS <= 1.5),
        ]
        if let ratio = report.storage.addFilesRatioToRawInsertWithFTS {
            targets.append(.init(name: "`client add` of the library as files vs raw insert + FTS", target: "≤ 2×", measured: x(ratio), met: ratio <= 2))
        }
        targets.append(
            .init(
                name: "watch latency p50 / p99", target: "≤ 50 / 200 ms",
                measured: String(format: "%.1f / %.1f ms", report.live.p50Milliseconds, report.live.p99Milliseconds),
                met: report.live.p50Milliseconds <= 50 && report.live.p99Milliseconds <= 200))
        targets.append(
            .init(
                name: "Pocket CSV import, \(report.storage.pocketRows) rows", target: "≤ 1.5 s",
                measured: String(format: "%.2f s", report.storage.pocketImportSeconds), met: report.storage.pocketImportSeconds <= 1.5))
        if let worst = report.incremental.map(\.medianMilliseconds).max() {
            targets.append(
                .init(
                    name: "incremental sync, median end to end", target: "≤ 10 ms, flat",
                    measured: report.incremental.map { String(format: "%.1f ms @ %d", $0.medianMilliseconds, $0.articles) }.joined(separator: ", "),
                    met: worst <= 10))
        }
        let text = Double(max(report.storage.textBytes, 1))
        let sizes = [report.storage.deviceABytes, report.storage.deviceBBytes, report.storage.serverBytes].map { Double($0) / text }
        targets.append(
            .init(
                name: "disk after the full sync: device A / device B / server vs the library's text", target: "≤ 2× each",
                measured: sizes.map(x).joined(separator: " / "), met: sizes.allSatisfy { $0 <= 2 }))
        for (side, peak) in [("client", report.fullSync.clientPeakMegabytes), ("server", report.fullSync.serverPeakMegabytes)] {
            targets.append(
                .init(
                    name: "peak memory, \(side), full sync", target: "≤ 100 MB",
                    measured: peak.map { String(format: "%.0f MB", $0) } ?? "not measured (in-process server)", met: (peak ?? .infinity) <= 100))
        }
        if let most = report.clients.max(by: { $0.clients < $1.clients }) {
            targets.append(
                .init(
                    name: "p99 sync latency, \(most.clients) clients", target: "< 100 ms",
                    measured: String(format: "%.1f ms", most.p99Milliseconds), met: most.p99Milliseconds < 100))
        }
        return targets
    }
}

/// One device: a reading list on disk and a libcurl transport kept across syncs.
final class Device {
    let list: ReadingList
    private let transport: CurlSyncTransport
    private let server: String

    /// A device syncing through the `via`-th server.
    init(home: URL, server: BenchServer, token: String, via: Int = 0) throws {
        let url = server.url(via)
        list = try ReadingList(home: ClientHome(directory: home))
        try list.configureServer(url: url, token: token)
        self.server = url
        transport = CurlSyncTransport(serverURL: url, token: token)
    }

    var traffic: SyncTraffic { transport.traffic }

    // Each timed step ends once the copy of its WAL into the database file
    // is made, as a command's process does: it runs beside the next steps
    // otherwise, out of the time measured.
    func sync() throws -> SyncSummary {
        defer { list.store.finishCopyingLog() }
        return try SyncEngine(store: list.store, transport: transport, server: server).run()
    }

    /// Saves the whole library through the commands' API, all in one
    /// transaction (as an import would); returns how many commands ran.
    func save(_ library: Library) throws -> Int {
        defer { list.store.finishCopyingLog() }
        return try list.inOneTransaction { try saveCommands(library, articles: library.articles.count) }
    }

    /// Saves the first `articles` articles, their notes and read-state
    /// changes, one command (and transaction) at a time; returns how many commands ran.
    func saveCommands(_ library: Library, articles: Int) throws -> Int {
        var ids: [String] = []
        ids.reserveCapacity(articles)
        for index in 0..<articles { ids.append(try list.add(library.draft(index)).id) }
        let notes = library.notes.filter { $0.article < articles }, changes = library.readChanges.filter { $0.article < articles }
        for note in notes { try list.addNote(to: ids[note.article], body: note.body) }
        for change in changes { try list.setProgress(ids[change.article], percent: change.progress) }
        return ids.count + notes.count + changes.count
    }
}
