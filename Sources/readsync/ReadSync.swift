import ArgumentParser
import Foundation
import ProcessMemory

/// `readsync`: an offline-first reading list and its sync server.
@main
struct ReadSync: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "readsync",
        abstract: "An offline-first reading list that syncs.",
        version: "0.2.0",
        subcommands: [ClientCommand.self, ServeCommand.self, UserCommand.self, BackupCommand.self]
    )

    /// Like ArgumentParser's, except that a refusal is one line on stderr
    /// (usage is for `--help`), so scripts and people get one clear sentence.
    static func main() async {
        ProcessMemory.returnLargeBlocksAndShareHeaps()
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))  // --help, --version
                Foundation.exit(0)
            }
            let message = (CommandHint.hinted(error) ?? message(for: error)).split(separator: "\n").first.map(String.init) ?? ""
            if !message.isEmpty {
                FileHandle.standardError.write(Data("Error: \(message.hasPrefix("Error: ") ? String(message.dropFirst(7)) : message)\n".utf8))
            }
            Foundation.exit(code.rawValue)
        }
    }
}
