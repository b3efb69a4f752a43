import ArgumentParser
import Foundation
import ReadSyncClient

extension ClientCommand {
    struct Sync: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Exchange changes with the sync server.")
        @ParentCommand var client: ClientCommand

        func run() throws {
            let list = try client.openList()
            let progress = ProgressPrinter()
            let summary: SyncSummary
            do {
                defer { progress.finish() }  // end the progress line, also before an error
                summary = try list.sync(progress: progress.show)
            }
            var line = "Synced with \(summary.server): pushed \(summary.pushed), pulled \(summary.pulled)"
            line += summary.conflicts == 0 ? ", no conflicts." : ", \(summary.conflicts) conflict\(summary.conflicts == 1 ? "" : "s") (see `readsync client conflicts`)."
            if summary.restamped > 0 {
                line += " \(summary.restamped) changes made while this device's clock ran ahead were re-stamped with the corrected time."
            }
            if summary.resynchronised { line += " The server was new to this device, so everything was exchanged again." }
            print(line)
        }
    }

    struct Conflicts: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List concurrent edits and the values that lost.")
        @ParentCommand var client: ClientCommand
        @OptionGroup var output: JSONFlag

        func run() throws {
            let conflicts = try client.openList().conflicts()
            if output.json { return try Terminal.printJSON(conflicts) }
            if conflicts.isEmpty { print("No conflicts."); return }
            for conflict in conflicts {
                let article = conflict.articleID.map { "\(Terminal.shortID($0)) \(conflict.articleTitle ?? "")" } ?? conflict.entity
                print("\(article) — \(conflict.kind).\(conflict.field)")
                print("    kept: \(conflict.keptValue.prefix(80))  (device \(conflict.keptDevice), \(conflict.keptAt))")
                print("    lost: \(conflict.lostValue.prefix(80))  (device \(conflict.lostDevice), \(conflict.lostAt))")
            }
        }
    }
}

/// Progress on stderr, only for syncs that move more than a few hundred
/// changes, and only when stderr is a terminal: a script or a log file
/// reading stderr gets the one-line error and nothing else.
final class ProgressPrinter {
    private static let threshold = 300
    private let enabled = isatty(STDERR_FILENO) == 1
    private var printed = false

    func show(_ progress: SyncProgress) {
        guard enabled, progress.total > Self.threshold else { return }
        let verb = progress.phase == .pushing ? "pushed" : "pulled"
        FileHandle.standardError.write(Data("\r\(verb) \(progress.done)/\(progress.total)…".utf8))
        printed = true
    }

    func finish() {
        if printed { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
