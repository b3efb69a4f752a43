import ArgumentParser
import Foundation
import ReadSyncClient
import ReadSyncCore

extension ClientCommand {
    struct Sync: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "sync",
            abstract: "Exchange changes with the sync server.",
            discussion: """
                With --watch it keeps running: changes made on this device (by any readsync command) are pushed within \
                about a second, and other devices' changes are pulled as the server announces them. One line per exchange; \
                SIGINT or SIGTERM finishes the exchange in progress, pushes what is queued, and exits 0.
                """)
        @ParentCommand var client: ClientCommand
        @Flag(help: "Keep running and sync whenever this device or the server has something new.") var watch = false

        func run() throws {
            let list = try client.openList()
            if watch { return try Self.watch(list) }
            let progress = ProgressPrinter()
            let summary: SyncSummary
            do {
                defer { progress.finish() }  // end the progress line, also before an error
                summary = try list.sync(progress: progress.show)
            }
            var line = "Synced with \(summary.server): pushed \(summary.pushed), pulled \(summary.pulled)"
            line +=
                summary.conflicts == 0
                ? ", no conflicts." : ", \(summary.conflicts) conflict\(summary.conflicts == 1 ? "" : "s") (see `readsync client conflicts`)."
            if summary.restamped > 0 {
                line += " \(summary.restamped) changes made while this device's clock ran ahead were re-stamped with the corrected time."
            }
            if let move = summary.movedToNode {
                line +=
                    " The server saw another device push under this device's node id (a copy of this home, such as a cloned machine): this device now syncs as node \(move.to), and where both edited one field the losing edit is listed in `readsync client conflicts`."
            }
            if summary.returnedFromRetirement {
                line += " The server had retired this device for being away too long, so it pulled the whole library again;"
                line +=
                    " articles deleted meanwhile stay deleted, and edits made here to them are in the trash or, where they met a newer change, in `readsync client conflicts`."
            }
            if summary.resynchronised {
                line += " The server was new to this device or had lost part of the library (restored from a copy), so everything was exchanged again."
            }
            print(line)
        }

        /// `--watch`: one line per exchange until SIGINT or SIGTERM.
        static func watch(_ list: ReadingList) throws {
            let live = try LiveSync(list: list)
            // The signals stop the watch, which then finishes its exchange:
            // taken from their default action (exit at once) first.
            let signalSources = [SIGINT, SIGTERM].map { number in
                signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
                source.setEventHandler { live.stop() }
                source.resume()
                return source
            }
            defer { for source in signalSources { source.cancel() } }
            // Unbuffered: each line reaches a pipe or a log as it happens.
            func say(_ line: String) { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }
            try live.run { event in
                let time = ISOTime.string(milliseconds: Int64(Date().timeIntervalSince1970 * 1000))
                switch event {
                case .synced(let summary, let reason):
                    var line = "\(time) \(reason.rawValue): pushed \(summary.pushed), pulled \(summary.pulled)"
                    if summary.conflicts > 0 { line += ", \(summary.conflicts) conflict\(summary.conflicts == 1 ? "" : "s") (see `readsync client conflicts`)" }
                    if summary.resynchronised { line += "; everything was exchanged again (the server was new to this device or restored)" }
                    say(line)
                case .failed(let error, let pause):
                    say("\(time) \(CommandHint.message(for: error).split(separator: "\n").first ?? ""); trying again within \(pause.components.seconds) s")
                }
            }
            let pending = try list.status().pendingChanges
            say(
                pending == 0
                    ? "Stopped watching; every change is pushed."
                    : "Stopped watching; \(pending) change\(pending == 1 ? "" : "s") stay queued for the next sync.")
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify",
            abstract: "Compare this device's library with the server's, by checksums over ranges; exit 1 when they differ.",
            discussion: "Run it after a sync. --repair exchanges what differs, and only that, and deletes nothing.")
        @ParentCommand var client: ClientCommand
        @OptionGroup var output: JSONFlag
        @Flag(help: "Exchange what differs with the server, then compare again.") var repair = false

        struct Report: Encodable {
            let equal: Bool
            let entities: Int
            let requests: Int
            let repaired: Int
            let differing: [DifferingEntity]
        }

        func run() throws {
            let list = try client.openList()
            let (report, differing): (VerifyReport, [DifferingEntity])
            do {
                (report, differing) = try list.verify(repair: repair)
            } catch let error as VerifyError {
                throw ValidationError(error.description)
            }
            if output.json {
                try Terminal.printJSON(
                    Report(
                        equal: report.isEqual, entities: report.entities, requests: report.requests, repaired: report.repaired,
                        differing: differing))
            } else if report.isEqual {
                let repaired = report.repaired > 0 ? "Repaired \(report.repaired) entit\(report.repaired == 1 ? "y" : "ies"); now " : ""
                print(
                    "\(repaired)\(repaired.isEmpty ? "T" : "t")his device's library matches the server's: \(report.entities) entities, compared in \(report.requests) request\(report.requests == 1 ? "" : "s")."
                )
            } else {
                print(
                    "\(differing.count) entit\(differing.count == 1 ? "y differs" : "ies differ") from the server's (`readsync client verify --repair` exchanges them):"
                )
                for entity in differing {
                    let article = entity.articleID.map { "\(Terminal.shortID($0)) \(entity.articleTitle ?? "")" } ?? ""
                    print("  \(entity.kind) \(Terminal.shortID(entity.entity))  \(article)")
                }
            }
            if !report.isEqual { throw ExitCode(1) }
        }
    }

    struct Conflicts: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "conflicts", abstract: "List concurrent edits and the values that lost.")
        @ParentCommand var client: ClientCommand
        @OptionGroup var output: JSONFlag

        func run() throws {
            let conflicts = try client.openList().conflicts()
            if output.json { return try Terminal.printJSON(conflicts) }
            if conflicts.isEmpty {
                print("No conflicts.")
                return
            }
            for conflict in conflicts {
                let article = conflict.articleID.map { "\(Terminal.shortID($0)) \(conflict.articleTitle ?? "")" } ?? conflict.entity
                print("\(article) — \(conflict.kind).\(conflict.field)")
                print("    kept: \(conflict.keptValue.prefix(80))  (device \(conflict.keptDevice), \(conflict.keptAt))")
                print("    lost: \(conflict.lostValue.prefix(80))  (device \(conflict.lostDevice), \(conflict.lostAt))")
            }
        }
    }
}

/// Sync progress as a progress bar per phase, only for syncs that move more
/// than a few hundred changes (ProgressBar stays silent unless stderr is a
/// terminal, so scripts and logs get the one-line error and nothing else).
final class ProgressPrinter {
    private static let threshold = 300
    private var current: (phase: SyncProgress.Phase, bar: ProgressBar)?

    func show(_ progress: SyncProgress) {
        guard progress.total > Self.threshold else { return }
        if current?.phase != progress.phase {
            current?.bar.finish()
            current = (progress.phase, ProgressBar(label: progress.phase == .pushing ? "pushing" : "pulling"))
        }
        current?.bar.update(progress.done, of: progress.total)
    }

    func finish() { current?.bar.finish() }
}
