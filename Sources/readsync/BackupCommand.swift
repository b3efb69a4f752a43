import ArgumentParser
import Foundation
import ReadSyncServer

/// `readsync backup`: a consistent copy of the server's database, taken while it runs.
struct BackupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Copy the sync server's database, consistently, while it runs.",
        discussion: """
            To restore: stop the server, put the copy in place of DIR/server.sqlite, remove \
            DIR/server.sqlite-wal and DIR/server.sqlite-shm, start the server. Devices that synced \
            after the backup notice and send again what it lacks.
            """)

    @OptionGroup var data: DataDirectoryOption
    @Option(help: ArgumentHelp("The file to write (must not exist).", valueName: "file")) var out: String

    func run() throws {
        let file = URL(fileURLWithPath: out)
        do {
            let bytes = try ServerBackup.write(dataDirectory: data.url, to: file)
            print("Backed up \(data.url.appendingPathComponent("server.sqlite").path) to \(file.path) (\(bytes) bytes, integrity checked).")
        } catch let failure as ServerBackup.Failure {
            throw ValidationError(failure.description)
        }
    }
}
