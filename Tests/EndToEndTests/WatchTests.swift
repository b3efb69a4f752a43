import Foundation
import ReadSyncTestSupport
import Testing

/// `readsync client sync --watch`: devices that stay in step by themselves,
/// each a real `readsync` process, against a real `readsync serve`.
@Suite(.serialized) struct WatchTests {
    /// A `client sync --watch` process, its output in a file.
    final class Watcher {
        let device: Device
        private let process = Process()
        private let output: URL

        init(_ device: Device) throws {
            self.device = device
            output = FileManager.default.temporaryDirectory.appendingPathComponent("readsync-watch-\(UUID().uuidString).out")
            _ = FileManager.default.createFile(atPath: output.path, contents: nil)
            process.executableURL = ReadSyncBinary.url
            process.arguments = ["client", "--home", device.home, "sync", "--watch"]
            let file = try FileHandle(forWritingTo: output)
            process.standardOutput = file
            process.standardError = file
            try process.run()
            #expect(waitFor(seconds: 30) { self.lines.contains { $0.contains("start:") } }, "the watch never synced: \(lines)")
        }

        var lines: [String] { ((try? String(contentsOf: output, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init) }

        /// Sends `number` and returns at once.
        func signal(_ number: Int32) { kill(process.processIdentifier, number) }

        /// SIGTERM, then the exit status (nil if it did not exit within `seconds`).
        func terminate(within seconds: Double = 30) -> Int32? {
            process.terminate()
            let deadline = Date().addingTimeInterval(seconds)
            while process.isRunning && Date() < deadline { usleep(20_000) }
            return process.isRunning ? nil : process.terminationStatus
        }

        deinit {
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            }
            try? FileManager.default.removeItem(at: output)
        }
    }

    /// Polls `condition` every 50 ms for at most `seconds`.
    static func waitFor(seconds: Double, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return true }
            usleep(50_000)
        }
        return try condition()
    }

    func devices(_ server: ServerProcess, count: Int = 2) throws -> [Device] {
        let token = try server.addUser("alice")
        return try (0..<count).map { _ in
            let device = Device()
            let result = try device.client("init", "--server", server.url, "--token", token)
            #expect(result.status == 0, "\(result.stderr)")
            return device
        }
    }

    /// The article's read status and favorite flag on `device`, if it has the article.
    func state(of id: String, on device: Device) throws -> String? {
        let list = try device.json("list") as? [[String: Any]] ?? []
        guard let article = list.first(where: { ($0["id"] as? String) == id }) else { return nil }
        return "\(article["status"] ?? "?") favorite=\(article["favorite"] ?? "?")"
    }

    @Test func twoWatchingDevicesExchangeWritesBothWaysWithoutASync() throws {
        let server = try ServerProcess()
        defer {
            server.terminate()
            server.removeData()
        }
        let devices = try devices(server)
        let (laptop, phone) = (try Watcher(devices[0]), try Watcher(devices[1]))

        let id = try devices[0].client("add", try ReadSyncBinary.seed("000")).lastLine
        #expect(try Self.waitFor(seconds: 30) { try state(of: id, on: devices[1]) != nil }, "the phone never got the laptop's article")
        #expect(try devices[1].client("read", id).status == 0)
        #expect(
            try Self.waitFor(seconds: 30) { try state(of: id, on: devices[0])?.hasPrefix("read") == true },
            "the laptop never got the phone's read mark: \(laptop.lines) \(phone.lines)")

        #expect(laptop.lines.contains { $0.contains("local change: pushed") }, "\(laptop.lines)")
        #expect(phone.lines.contains { $0.contains("server news: pushed 0, pulled") }, "\(phone.lines)")
        #expect(laptop.terminate() == 0 && phone.terminate() == 0)
        // No device polled on a timer: the only requests were the exchanges
        // and the long polls that announced them (and the polls' renewals
        // every 25 s, which this test is too short to see many of).
        let requests = server.log.split(separator: "\n").filter { $0.contains("request") }.count
        #expect(requests > 0 && requests < 40, "\(requests) requests in a test of a few seconds: something polls (or none is logged)")
    }

    @Test func aWatcherSurvivesTheServerDyingAndCatchesUp() throws {
        let server = try ServerProcess()
        defer { server.removeData() }
        let devices = try devices(server)
        let laptop = try Watcher(devices[0])
        let id = try devices[0].client("add", try ReadSyncBinary.seed("001")).lastLine
        #expect(try Self.waitFor(seconds: 30) { (try devices[0].json("status") as? [String: Any])?["pendingChanges"] as? Int == 0 })

        server.kill()
        // Written while the server is gone: queued on the laptop.
        #expect(try devices[0].client("favorite", id).status == 0)
        #expect(try Self.waitFor(seconds: 10) { laptop.lines.contains { $0.contains("cannot reach the sync server") } }, "\(laptop.lines)")

        let restarted = try ServerProcess(data: server.data, port: server.port)
        defer { restarted.terminate() }
        // The watcher reconnects by itself and pushes what was queued.
        #expect(try devices[1].client("sync").status == 0)
        #expect(
            try Self.waitFor(seconds: 60) {
                _ = try devices[1].client("sync")
                return try state(of: id, on: devices[1]) == "unread favorite=1"
            }, "the queued favorite never reached the server: \(laptop.lines)")
        #expect(laptop.terminate() == 0)
    }

    /// SIGTERM: the exchange in progress finishes, what is queued is pushed,
    /// and the process exits 0 with nothing pending. A server shutting down
    /// answers its waiting pulls at once instead of holding its stop.
    @Test func sigtermLeavesNothingPendingAndTheServerStopsPromptly() throws {
        let server = try ServerProcess()
        defer { server.removeData() }
        let devices = try devices(server)
        let laptop = try Watcher(devices[0])
        let phone = try Watcher(devices[1])
        // The server frozen: the laptop's exchange of its first article stays
        // in flight when SIGTERM comes, and the second article, written
        // meanwhile, is still queued.
        kill(server.processIdentifier, SIGSTOP)
        var frozen = true
        defer { if frozen { kill(server.processIdentifier, SIGCONT) } }
        _ = try devices[0].client("add", try ReadSyncBinary.seed("000"))
        usleep(2_000_000)  // the watcher wakes, reads the outbox and sends
        let id = try devices[0].client("add", try ReadSyncBinary.seed("002")).lastLine
        laptop.signal(SIGTERM)
        usleep(300_000)
        kill(server.processIdentifier, SIGCONT)
        frozen = false
        #expect(laptop.terminate() == 0)
        let status = try devices[0].json("status") as? [String: Any]
        #expect(status?["pendingChanges"] as? Int == 0, "\(laptop.lines)")
        // The exchange SIGTERM found in flight finished, and took the
        // article written meanwhile with it (a push reads the outbox again
        // after each batch until it is empty).
        #expect(laptop.lines.contains { $0.contains("local change: pushed ") && !$0.contains("pushed 0,") }, "\(laptop.lines)")
        #expect(laptop.lines.last == "Stopped watching; every change is pushed.", "\(laptop.lines)")
        #expect(try Self.waitFor(seconds: 30) { try state(of: id, on: devices[1]) != nil })

        // The phone's poll is waiting on the server now: the server must not wait for it.
        let started = Date()
        #expect(server.terminate() == 0)
        #expect(Date().timeIntervalSince(started) < 20, "the server held its stop for a waiting pull")
        #expect(phone.terminate() == 0)
    }

    /// Servers sharing a PostgreSQL database tell each other of pushes
    /// (LISTEN/NOTIFY): a device watching through one hears of a push made
    /// through another at once, not when its 25 s wait ends.
    @Test func aWatcherHearsOfAPushMadeThroughAnotherServer() async throws {
        let database = try await TestPostgres.makeDatabase()
        let first = try ServerProcess(databaseURL: database), second = try ServerProcess(databaseURL: database)
        defer {
            first.terminate()
            second.terminate()
        }
        let token = try first.addUser("alice")
        let (watching, writing) = (Device(), Device())
        #expect(try watching.client("init", "--server", first.url, "--token", token).status == 0)
        #expect(try writing.client("init", "--server", second.url, "--token", token).status == 0)
        let watcher = try Watcher(watching)
        usleep(1_000_000)  // its long poll is under way
        let id = try writing.client("add", try ReadSyncBinary.seed("000")).lastLine
        #expect(try writing.client("sync").status == 0)
        #expect(
            try Self.waitFor(seconds: 10) { try state(of: id, on: watching) != nil },
            "the push through the second server did not wake the poll waiting on the first: \(watcher.lines)")
        #expect(watcher.lines.contains { $0.contains("server news: pushed 0, pulled") }, "\(watcher.lines)")
        #expect(watcher.terminate() == 0)
    }
}
