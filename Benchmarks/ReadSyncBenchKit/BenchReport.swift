import Foundation

/// Everything one run measured; `table` prints it, JSON saves it.
public struct BenchReport: Codable, Sendable {
    public struct Workload: Codable, Sendable {
        public var articles = 0, notes = 0, readChanges = 0
        public var textMegabytes = 0.0
    }

    public struct Baseline: Codable, Sendable {
        /// Raw bulk insert, one transaction, no FTS.
        public var rawInsertSeconds = 0.0
        /// The same insert into another fresh database, then FTS5 built after.
        public var rawInsertWithFTSSeconds = 0.0
        public var ftsBuildSeconds = 0.0
        /// One libcurl POST of the full sync's wire bytes to a minimal loopback HTTP sink.
        public var loopbackSeconds = 0.0
        public var loopbackBytes = 0
        public var rawWithFTSTotal: Double { rawInsertWithFTSSeconds + ftsBuildSeconds }
    }

    public struct LocalWrite: Codable, Sendable {
        public var seconds = 0.0
        public var commands = 0
        public var ratioToRawInsert = 0.0
        public var ratioToRawInsertWithFTS = 0.0
        /// Mean time per command when each is its own transaction (a tenth of the library).
        public var oneTransactionPerCommandMilliseconds = 0.0
        public var perCommandMilliseconds: Double { commands > 0 ? seconds * 1000 / Double(commands) : 0 }
    }

    public struct FullSync: Codable, Sendable {
        public var pushSeconds = 0.0, pullSeconds = 0.0
        public var endToEndSeconds: Double { pushSeconds + pullSeconds }
        /// Server raw insert + client raw insert with FTS + loopback transfer.
        public var baselineSeconds = 0.0
        public var ratio = 0.0
        public var changes = 0
        public var pushWireBytes = 0, pushUncompressedBytes = 0, pullBytes = 0, pullUncompressedBytes = 0, requests = 0
        public var clientPeakMegabytes: Double?
        public var serverPeakMegabytes: Double?
        /// CPU seconds of push + pull: the benchmark process (both devices,
        /// and the server too when it runs in-process), and the server
        /// process (nil when it runs in-process).
        public var clientCPUSeconds: Double?
        public var serverCPUSeconds: Double?
    }

    public struct Incremental: Codable, Sendable {
        public var articles = 0, changes = 0, rounds = 0
        public var pushMedianMilliseconds = 0.0, pullMedianMilliseconds = 0.0
        public var medianMilliseconds = 0.0, worstMilliseconds = 0.0
        /// Mean CPU time per round (A sync + B sync), as for the full sync.
        public var clientCPUMillisecondsPerRound: Double?
        public var serverCPUMillisecondsPerRound: Double?
    }

    public struct Clients: Codable, Sendable {
        public var clients = 0, threads = 0, rounds = 0, syncs = 0
        public var syncsPerSecond = 0.0
        public var p50Milliseconds = 0.0, p99Milliseconds = 0.0
    }

    /// Issue 12's measures of the storage: the disk each database takes
    /// after the full sync, `client add` of the library as files (separate
    /// processes), and a Pocket import.
    /// `sync --watch` (issue 15).
    public struct Live: Codable, Sendable {
        /// A write synced on A until it is in watching B's database.
        public var rounds = 0
        public var p50Milliseconds = 0.0, p99Milliseconds = 0.0
        /// Devices holding a long poll on one server at once, and what they cost it.
        public var waitingDevices = 0
        public var serverRSSMegabytesBefore = 0.0, serverRSSMegabytesWaiting = 0.0
        public var serverDescriptorsBefore = 0, serverDescriptorsWaiting = 0
        /// One push until every waiting device has its answer.
        public var fanOutMilliseconds = 0.0
    }

    public struct Storage: Codable, Sendable {
        public var textBytes = 0
        public var deviceABytes = 0, deviceBBytes = 0, serverBytes = 0
        /// nil when the server runs in-process (there is no binary to run).
        public var addFilesSeconds: Double?
        public var addFilesPerCommand = 0
        public var addFilesRatioToRawInsertWithFTS: Double?
        public var pocketRows = 0
        public var pocketImportSeconds = 0.0
    }

    public struct Micro: Codable, Sendable {
        public var name: String
        public var nanosecondsPerOperation: Double
    }

    public struct Target: Codable, Sendable {
        public var name: String
        public var target: String
        public var measured: String
        public var met: Bool
    }

    public var build = ""
    public var server = ""
    public var clientsDriven = ""
    public var workload = Workload()
    public var baseline = Baseline()
    public var localWrite = LocalWrite()
    public var fullSync = FullSync()
    public var storage = Storage()
    public var incremental: [Incremental] = []
    public var clients: [Clients] = []
    public var live = Live()
    public var micro: [Micro] = []
    public var targets: [Target] = []

    /// The report as the terminal shows it.
    public var table: String {
        var lines: [String] = []
        func row(_ cells: String...) { lines.append(cells.joined(separator: " | ")) }
        func s(_ seconds: Double) -> String { String(format: "%.2f s", seconds) }
        func mb(_ bytes: Int) -> String { String(format: "%.1f MB", Double(bytes) / 1_048_576) }
        func x(_ ratio: Double) -> String { String(format: "%.2f×", ratio) }
        let w = workload
        lines.append("readsync bench — \(build) build; server: \(server)")
        lines.append(
            String(format: "workload: %d articles, %d notes, %d read-state changes, %.1f MB of text", w.articles, w.notes, w.readChanges, w.textMegabytes))
        lines.append("")
        row("measure", "time", "baseline", "ratio")
        row("---", "---", "---", "---")
        row("raw insert, 1 transaction, no FTS", s(baseline.rawInsertSeconds), "—", "—")
        row("raw insert + FTS5 built after", s(baseline.rawWithFTSTotal), "—", "—")
        row("loopback HTTP, \(mb(baseline.loopbackBytes))", s(baseline.loopbackSeconds), "—", "—")
        row(
            "local write path (\(localWrite.commands) commands, one transaction)", s(localWrite.seconds), "raw + FTS \(s(baseline.rawWithFTSTotal))",
            x(localWrite.ratioToRawInsertWithFTS))
        row("local write path vs raw without FTS", s(localWrite.seconds), "raw \(s(baseline.rawInsertSeconds))", x(localWrite.ratioToRawInsert))
        row(
            "per command: in one transaction / one transaction each",
            String(format: "%.3f ms / %.3f ms", localWrite.perCommandMilliseconds, localWrite.oneTransactionPerCommandMilliseconds), "", "")
        row("full sync: A push", s(fullSync.pushSeconds), "", "")
        row("full sync: B pull (FTS included)", s(fullSync.pullSeconds), "", "")
        row("full sync end to end (\(fullSync.changes) changes)", s(fullSync.endToEndSeconds), "\(s(fullSync.baselineSeconds))", x(fullSync.ratio))
        row(
            "wire: push gzip / uncompressed, pull gzip / uncompressed",
            "\(mb(fullSync.pushWireBytes)) / \(mb(fullSync.pushUncompressedBytes)), \(mb(fullSync.pullBytes)) / \(mb(fullSync.pullUncompressedBytes))",
            "\(fullSync.requests) requests", "")
        func either(_ values: [Double?], _ format: String) -> String {
            values.map { $0.map { String(format: format, $0) } ?? "n/a" }.joined(separator: " / ")
        }
        let text = Double(storage.textBytes)
        row(
            "disk after the full sync (WAL checkpointed): device A / device B / server",
            "\(mb(storage.deviceABytes)) / \(mb(storage.deviceBBytes)) / \(mb(storage.serverBytes))", "text \(mb(storage.textBytes))",
            [storage.deviceABytes, storage.deviceBBytes, storage.serverBytes].map { x(Double($0) / max(text, 1)) }.joined(separator: " / "))
        if let seconds = storage.addFilesSeconds, let ratio = storage.addFilesRatioToRawInsertWithFTS {
            row(
                "`client add` of \(workload.articles) files, \(storage.addFilesPerCommand) per command", s(seconds), "raw + FTS \(s(baseline.rawWithFTSTotal))",
                x(ratio))
        }
        row("Pocket CSV import, \(storage.pocketRows) rows", s(storage.pocketImportSeconds), "", "")
        row("full sync CPU time: client / server", either([fullSync.clientCPUSeconds, fullSync.serverCPUSeconds], "%.1f s"), "", "")
        row("peak memory: client / server", either([fullSync.clientPeakMegabytes, fullSync.serverPeakMegabytes], "%.0f MB"), "", "")
        for run in incremental {
            row(
                "incremental \(run.changes) changes at \(run.articles) articles (median of \(run.rounds))",
                String(
                    format: "%.1f ms (push %.1f + pull %.1f; worst %.1f)", run.medianMilliseconds, run.pushMedianMilliseconds, run.pullMedianMilliseconds,
                    run.worstMilliseconds)
                    + "; CPU per round, client / server: " + either([run.clientCPUMillisecondsPerRound, run.serverCPUMillisecondsPerRound], "%.1f ms"), "", "")
        }
        for run in clients {
            row(
                "\(run.clients) clients × \(run.rounds) rounds, \(run.threads) threads",
                String(format: "%.0f syncs/s; p50 %.1f ms, p99 %.1f ms", run.syncsPerSecond, run.p50Milliseconds, run.p99Milliseconds), "", "")
        }
        row(
            "watch: write synced on A until in watching B's database (\(live.rounds) rounds)",
            String(format: "p50 %.1f ms, p99 %.1f ms", live.p50Milliseconds, live.p99Milliseconds), "", "")
        if live.waitingDevices > 0 {
            row(
                "\(live.waitingDevices) devices waiting on one server: its memory / file descriptors",
                String(
                    format: "%.0f → %.0f MB, %d → %d", live.serverRSSMegabytesBefore, live.serverRSSMegabytesWaiting,
                    live.serverDescriptorsBefore, live.serverDescriptorsWaiting), "", "")
            row("one push until all \(live.waitingDevices) waiting devices are answered", String(format: "%.1f ms", live.fanOutMilliseconds), "", "")
        }
        for micro in self.micro {
            row("micro: \(micro.name)", String(format: "%.0f ns/op", micro.nanosecondsPerOperation), "", "")
        }
        lines.append("")
        row("target", "goal", "measured", "met")
        row("---", "---", "---", "---")
        for target in targets { row(target.name, target.target, target.measured, target.met ? "yes" : "NO") }
        if !clientsDriven.isEmpty {
            lines.append("")
            lines.append(clientsDriven)
        }
        return lines.joined(separator: "\n")
    }
}
