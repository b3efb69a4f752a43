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

    @OptionGroup var data: ServerStoreOption
    @Option(help: ArgumentHelp("The file to write (must not exist).", valueName: "file")) var out: String

    func run() throws {
        let file = URL(fileURLWithPath: out)
        guard case .embedded(let folder) = try data.database() else {
            // PostgreSQL has its own tools for a consistent copy of a live database.
            throw ValidationError(
                "readsync backup copies the embedded store; back a PostgreSQL database up with pg_dump --format=custom --file=\(out) (and restore it with pg_restore)"
            )
        }
        do {
            let bytes = try ServerBackup.write(dataDirectory: folder, to: file)
            print("Backed up \(folder.appendingPathComponent("server.sqlite").path) to \(file.path) (\(bytes) bytes, integrity checked).")
        } catch let failure as ServerBackup.Failure {
            throw ValidationError(failure.description)
        }
    }
}
