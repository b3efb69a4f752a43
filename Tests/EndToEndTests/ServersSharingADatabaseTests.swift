import Foundation
import ReadSyncCore
import ReadSyncTestSupport
import SeededRandom
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

    /// Alice's four devices, spread over three servers, make random edits
    /// (articles, notes, read marks, tags, deletes) and sync, round after
    /// round; bob syncs his own through the second server. One round, that
    /// server is killed with SIGKILL in the middle of a push (its
    /// transaction open), and started again. In the end alice's devices
    /// agree, with every article saved and not deleted exactly once and
    /// every note; bob sees only his library, and alice none of it.
    @Test func aServerKilledMidPushLosesNothingAndUsersStayApart() async throws {
        let database = try await TestPostgres.makeDatabase()
        var servers = [
            try ServerProcess(databaseURL: database),
            // Stops inside its third push's transaction, for the SIGKILL.
            try ServerProcess(databaseURL: database, environment: ["READSYNC_FAULT": "server.push.before-commit@3:stall"]),
            try ServerProcess(databaseURL: database),
        ]
        let aliceToken = try servers[0].addUser("alice")
        let bobToken = try servers[2].addUser("bob")
        let alice = (0..<4).map { _ in Device() }
        let bob = Device()
        for (index, device) in alice.enumerated() {
            #expect(try device.client("init", "--server", servers[index % 3].url, "--token", aliceToken).status == 0)
        }
        #expect(try bob.client("init", "--server", servers[1].url, "--token", bobToken).status == 0)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("readsync-e2e-articles-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        func save(_ title: String, on device: Device) throws -> String {
            let file = folder.appendingPathComponent("\(title).txt")
            try "\(title)\n\nThe text of \(title).\n".write(to: file, atomically: true, encoding: .utf8)
            let result = try device.client("add", file.path, "--title", title)
            #expect(result.status == 0, "\(result.stderr)")
            return result.lastLine
        }

        var generator = SeededGenerator(seed: 14)
        var live: [String: String] = [:]  // id → title, of alice's articles not deleted
        var notes = 0
        var killed = false
        for round in 0..<8 {
            for (index, device) in alice.enumerated() {
                // Edits on what this device holds; a device may not have
                // pulled another's newest articles yet, so it edits its own.
                let title = "alice-\(round)-\(index)"
                let id = try save(title, on: device)
                live[id] = title
                switch Int.random(in: 0..<4, using: &generator) {
                case 0:
                    #expect(try device.client("note", id, "note \(round)-\(index)").status == 0)
                    notes += 1
                case 1: #expect(try device.client("read", id).status == 0)
                case 2: #expect(try device.client("tag", id, "+round\(round)").status == 0)
                default:
                    let doomed = try save("doomed-\(round)-\(index)", on: device)
                    #expect(try device.client("delete", doomed).status == 0)
                }
            }
            #expect(try save("bob-\(round)", on: bob).isEmpty == false)
            for device in alice + [bob] {
                let outcome = Mutex<ReadSyncBinary.Result?>(nil)
                let syncing = Task.detached {
                    let result = try device.client("sync")
                    outcome.withLock { $0 = result }
                }
                var cut = false
                // Until the sync ends, or the second server stalls inside a push.
                while outcome.withLock({ $0 }) == nil {
                    if !killed, servers[1].log.contains("fault point server.push.before-commit reached") {
                        // The push's transaction is open: kill the server there, start it again.
                        servers[1].kill()
                        (killed, cut) = (true, true)
                        try await syncing.value
                        #expect(outcome.withLock { $0 }?.status != 0, "a sync cut off by the server's death fails")
                        servers[1] = try ServerProcess(databaseURL: database, port: servers[1].port)
                        break
                    }
                    try await Task.sleep(for: .milliseconds(20))
                }
                try await syncing.value
                if !cut, let result = outcome.withLock({ $0 }) { #expect(result.status == 0, "\(result.stderr)") }
            }
        }
        #expect(killed, "a server died mid-push")
        for _ in 0..<2 { for device in alice + [bob] { #expect(try device.client("sync").status == 0) } }

        let expected = try alice[0].library()
        for device in alice.dropFirst() { #expect(try device.library() == expected) }
        #expect(expected.count == live.count, "every article once: \(expected.count) listed, \(live.count) saved and not deleted")
        #expect(Set(expected.compactMap { $0["title"] }) == Set(live.values))
        #expect(expected.map { $0["notes"] ?? "" }.filter { !$0.isEmpty }.count == notes)
        let bobs = try bob.library()
        #expect(Set(bobs.compactMap { $0["title"] }) == Set((0..<8).map { "bob-\($0)" }))
        for server in servers { server.terminate() }
    }

    /// A database that cannot be reached is one line naming it, without
    /// its password.
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
