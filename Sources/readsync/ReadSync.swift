import ArgumentParser

/// `readsync`: an offline-first reading list and its sync server.
@main
struct ReadSync: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "readsync",
        abstract: "An offline-first reading list that syncs.",
        version: "0.2.0",
        subcommands: [ClientCommand.self, ServeCommand.self, UserCommand.self]
    )
}
