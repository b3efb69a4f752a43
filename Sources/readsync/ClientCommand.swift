import ArgumentParser
import Foundation
import ReadSyncClient

/// `readsync client …`: the reading list on this device.
struct ClientCommand: ParsableCommand {
    // Each subcommand names itself: ArgumentParser otherwise derives every
    // subcommand's name from its type, again for each argument given (for
    // `add` of 500 files that was a quarter of the command's work).
    static let configuration = CommandConfiguration(
        commandName: "client",
        abstract: "Use the reading list on this device (works offline).",
        subcommands: [
            Init.self, Add.self, List.self, Show.self, Search.self, Status.self,
            Note.self, NoteEdit.self, NoteDelete.self,
            Read.self, Unread.self, Progress.self, Archive.self, Unarchive.self, Favorite.self, Unfavorite.self,
            Tag.self, Delete.self, Trash.self, Restore.self, Sync.self, Verify.self, Conflicts.self, Import.self, Export.self,
        ]
    )

    @Option(name: .long, help: ArgumentHelp("The device's folder (default: $READSYNC_HOME, else $XDG_DATA_HOME/readsync).", valueName: "dir"))
    var home: String?

    /// Opens this device's reading list.
    func openList() throws -> ReadingList {
        let list = try ReadingList(home: ClientHome.resolve(explicit: home))
        if let fork = list.store.fork {
            FileHandle.standardError.write(
                Data(
                    """
                    Note: this library is a copy of another device's (its database file moved or was copied); \
                    it now syncs as a device of its own, node \(fork.to) (was \(fork.from)), and both keep every write.

                    """.utf8))
        }
        for change in list.store.permissionChanges {
            FileHandle.standardError.write(Data("Note: \(change): it holds your library and your server token.\n".utf8))
        }
        return list
    }
}

/// What every `--json`-capable command shares.
struct JSONFlag: ParsableArguments {
    @Flag(name: .long, help: "Print JSON for scripts.")
    var json = false
}
