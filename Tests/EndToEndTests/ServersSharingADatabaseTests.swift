import Foundation
import ReadSyncTestSupport
import Synchronization
import Testing

/// Three `readsync serve` processes on one PostgreSQL database, as behind a
/// load balancer: one service to every device, whichever server it talks to.
@Suite(.serialized) struct ServersSharingADatabaseTests {
    /// Six devices, two on each server, save articles and sync at the same
    /// time while a seventh syncs in a loop through the third server. In the
    /// end every device holds all 24 articles and the same library, and the
    /// user, token and devices are one account whichever server is asked.
    @Test func devicesSyncingThroughThreeServersAllEndUpWithEverything() async throws {
        // The test cluster trusts loopback, so the password is never asked
        // for: it is there to show it is never printed.
        let password = "pw-\(UUID().uuidString)"
        let database = try await TestPostgres.makeDatabase().replacingOccurrences(of: "://readsync@", with: "://readsync:\(password)@")
        let servers = try (0..<3).map { _ in try ServerProcess(databaseURL: database) }
        let token = try servers[0].addUser("alice")
        let writers = (0..<6).map { _ in Device() }
        let reader = Device()
        for (index, device) in (writers + [reader]).enumerated() {
            let result = try device.client("init", "--server", servers[index % 3].url, "--token", token, "--name", "device-\(index)")
            #expect(result.status == 0, "\(result.stderr)")
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("readsync-e2e-articles-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }

        let failures = Mutex<[String]>([])
        let writing = DispatchGroup()
        for (index, writer) in writers.enumerated() {
            DispatchQueue.global().async(group: writing) {
                for round in 0..<4 {
                    let file = folder.appendingPathComponent("article-\(index)-\(round).txt")
                    let text = "Article \(index)-\(round)\n\nWritten by device \(index) in round \(round), while the others write too.\n"
                    do {
                        try text.write(to: file, atomically: true, encoding: .utf8)
                        for result in [try writer.client("add", file.path), try writer.client("sync")] where result.status != 0 {
                            failures.withLock { $0.append("device \(index): \(result.stderr)") }
                        }
                    } catch {
                        failures.withLock { $0.append("device \(index): \(error)") }
                    }
                }
            }
        }
        // The reader pulls all along, moving its cursor as pushes commit.
        var readerSyncs = 0
        repeat {
            let result = try reader.client("sync")
            #expect(result.status == 0, "\(result.stderr)")
            readerSyncs += 1
        } while writing.wait(timeout: .now()) == .timedOut
        #expect(failures.withLock { $0 }.isEmpty, "\(failures.withLock { $0 })")

        // Once more each, for what was pushed after a device's last pull.
        for device in writers + [reader] { #expect(try device.client("sync").status == 0) }
        let expected = try reader.library()
        #expect(expected.count == 24, "the reader holds \(expected.count) of 24 articles after \(readerSyncs) syncs along the way")
        for writer in writers { #expect(try writer.library() == expected) }

        // One account: every server knows the user and lists all seven devices.
        for server in servers {
            let devices = try ReadSyncBinary.run(["user", "devices", "alice", "--json"] + server.storeOptions)
            #expect(devices.status == 0, "\(devices.stderr)")
            let listed = try JSONSerialization.jsonObject(with: Data(devices.stdout.utf8)) as? [[String: Any]] ?? []
            #expect(listed.count == 7)
        }
        for server in servers {
            #expect(server.terminate() == 0)
            #expect(server.log.contains("rs.database=postgres://readsync@127.0.0.1"), "the log names the database")
            #expect(!server.log.contains(password))
        }
    }

    /// A second server on the same data folder is refused; on PostgreSQL any
    /// number start. A database that cannot be reached is one line naming
    /// it, without its password.
    @Test func anUnreachableDatabaseIsOneLineWithoutThePassword() throws {
        let port = try Socket.freePort()
        let result = try ReadSyncBinary.run(["serve", "--port", "0", "--database", "postgres://alice:s3cret-word@127.0.0.1:\(port)/library"])
        #expect(result.status == 1)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(result.stderr)")
        #expect(result.stderr.hasPrefix("Error: cannot use the database postgres://alice@127.0.0.1:\(port)/library: "), "\(result.stderr)")
        #expect(!result.stderr.contains("s3cret-word"))
    }
}
