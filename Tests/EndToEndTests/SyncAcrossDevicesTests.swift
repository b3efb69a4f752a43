import Foundation
import Testing

/// One `readsync serve` process and three device homes, each a separate
/// `readsync client` process, as people would run them.
@Suite(.serialized) struct SyncAcrossDevicesTests {
    /// Three devices of one user, all initialised against `server`.
    func devices(_ server: ServerProcess) throws -> (laptop: Device, phone: Device, tablet: Device) {
        try devicesAndToken(server).devices
    }

    func devicesAndToken(_ server: ServerProcess) throws -> (devices: (laptop: Device, phone: Device, tablet: Device), token: String) {
        let token = try server.addUser("alice")
        let devices = (Device(), Device(), Device())
        for device in [devices.0, devices.1, devices.2] {
            let result = try device.client("init", "--server", server.url, "--token", token)
            #expect(result.status == 0, "\(result.stderr)")
        }
        return (devices, token)
    }

    func sync(_ device: Device) throws {
        let result = try device.client("sync")
        #expect(result.status == 0, "sync failed: \(result.stderr)")
    }

    @Test func seedsNotesAndReadStateAppearIdenticalEverywhere() throws {
        let server = try ServerProcess()
        defer {
            server.terminate()
            server.removeData()
        }
        let (laptop, phone, tablet) = try devices(server)
        var ids: [String] = []
        for prefix in ["000", "001", "002"] { ids.append(try laptop.client("add", try ReadSyncBinary.seed(prefix)).lastLine) }
        try laptop.client("note", ids[1], "Compare with the 2015 speech", "--quote", "a new day")
        try laptop.client("read", ids[0])
        try laptop.client("progress", ids[2], "35")
        try laptop.client("tag", ids[2], "+politics")
        try sync(laptop)
        try sync(phone)
        try sync(tablet)
        let expected = try laptop.library()
        #expect(expected.count == 3)
        #expect(try phone.library() == expected)
        #expect(try tablet.library() == expected)
    }

    @Test func concurrentEditsMergeAndTheLosingValueIsListed() throws {
        let server = try ServerProcess()
        defer {
            server.terminate()
            server.removeData()
        }
        let (laptop, phone, tablet) = try devices(server)
        let id = try laptop.client("add", try ReadSyncBinary.seed("001")).lastLine
        try sync(laptop)
        try sync(phone)
        try sync(tablet)

        // Offline on both: different fields…
        try laptop.client("archive", id)
        try phone.client("favorite", id)
        // …and the same field, the phone's edit later.
        try laptop.client("progress", id, "20")
        usleep(20_000)
        try phone.client("progress", id, "80")

        try sync(laptop)
        try sync(phone)
        try sync(laptop)
        try sync(tablet)
        for device in [laptop, phone, tablet] {
            let article = try device.json("show", id) as! [String: Any]
            #expect(article["archived"] as? Bool == true && article["favorite"] as? Bool == true, "both fields survive")
            #expect(article["progress"] as? Double == 0.8, "the later write wins")
            let conflicts = try device.json("conflicts") as! [[String: Any]]
            let progress = conflicts.first { $0["field"] as? String == "progress" }
            #expect(progress?["lostValue"] as? String == "0.2" && progress?["keptValue"] as? String == "0.8")
            #expect(progress?["articleID"] as? String == id)
        }
        let text = try laptop.client("conflicts")
        #expect(text.stdout.contains("lost: 0.2"))
    }

    @Test func theSameURLSavedOfflineOnTwoDevicesIsOneArticle() throws {
        let server = try ServerProcess()
        defer {
            server.terminate()
            server.removeData()
        }
        let (laptop, phone, _) = try devices(server)
        // Two saves of one page, the second with tracking junk in its URL.
        let seed = try String(contentsOfFile: try ReadSyncBinary.seed("002"), encoding: .utf8)
        let variant = FileManager.default.temporaryDirectory.appendingPathComponent("variant-\(UUID().uuidString).md")
        try seed.replacingOccurrences(of: "index.html", with: "index.html?utm_source=twitter#comments").write(to: variant, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: variant) }
        let a = try laptop.client("add", try ReadSyncBinary.seed("002")).lastLine
        let b = try phone.client("add", variant.path).lastLine
        #expect(a == b)
        try sync(laptop)
        try sync(phone)
        try sync(laptop)
        #expect((try laptop.json("list") as! [Any]).count == 1)
        #expect((try phone.json("list") as! [Any]).count == 1)
    }

    @Test func aDeleteReachesEveryDevice() throws {
        let server = try ServerProcess()
        defer {
            server.terminate()
            server.removeData()
        }
        let (laptop, phone, tablet) = try devices(server)
        let id = try laptop.client("add", try ReadSyncBinary.seed("000")).lastLine
        try sync(laptop)
        try sync(phone)
        try sync(tablet)
        #expect(try phone.client("delete", id).status == 0)
        try sync(phone)
        try sync(laptop)
        try sync(tablet)
        for device in [laptop, phone, tablet] {
            #expect((try device.json("list") as! [Any]).isEmpty)
            #expect((try device.json("trash") as! [[String: Any]]).map { $0["id"] as? String } == [id])
        }
    }

    @Test func aStoppedServerFailsCleanlyAndTheNextSyncSucceeds() throws {
        let server = try ServerProcess()
        let ((laptop, phone, _), token) = try devicesAndToken(server)
        let id = try laptop.client("add", try ReadSyncBinary.seed("001")).lastLine
        let pendingBefore = (try laptop.json("status") as! [String: Any])["pendingChanges"] as! Int

        // Graceful stop: SIGTERM, exit 0, database closed.
        #expect(server.terminate() == 0)
        #expect(server.log.contains("database closed"))

        let failed = try laptop.client("sync")
        #expect(failed.status != 0)
        let lines = failed.stderr.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].hasPrefix("Error: cannot reach the sync server"), "\(failed.stderr)")
        #expect((try laptop.json("status") as! [String: Any])["pendingChanges"] as? Int == pendingBefore)
        #expect((try laptop.json("list") as! [Any]).count == 1)

        // Restarted on a fresh port (reusing one races with parallel tests);
        // the devices are pointed at it with the token they have.
        let restarted = try ServerProcess(data: server.data)
        defer {
            restarted.terminate()
            restarted.removeData()
        }
        for device in [laptop, phone] { try device.client("init", "--server", restarted.url, "--token", token) }
        try sync(laptop)
        try sync(phone)
        #expect((try laptop.json("status") as! [String: Any])["pendingChanges"] as? Int == 0)
        #expect((try phone.json("list") as! [[String: Any]]).map { $0["id"] as? String } == [id])
    }

    /// The embedded store is for one process: a second `serve` on the same
    /// data folder is refused in one line naming the folder and the first
    /// server's process, which goes on serving; once it stops, the folder
    /// is free again.
    @Test func aSecondServerOnTheSameDataFolderIsRefused() throws {
        let server = try ServerProcess()
        defer {
            server.terminate()
            server.removeData()
        }
        let second = Process()
        second.executableURL = ReadSyncBinary.url
        second.arguments = ["serve", "--port", "0", "--data", server.data]
        let stderr = Pipe()
        second.standardError = stderr
        second.standardOutput = FileHandle.nullDevice
        try second.run()
        let deadline = Date().addingTimeInterval(15)
        while second.isRunning && Date() < deadline { usleep(20_000) }
        if second.isRunning { second.terminate() }
        second.waitUntilExit()
        let lines = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).split(separator: "\n")
        #expect(second.terminationStatus != 0)
        #expect(
            lines.count == 1
                && lines[0].hasPrefix("Error: the data folder \(server.data) is in use by another readsync serve (process \(server.processIdentifier))"),
            "\(lines)")
        let (devices, _) = try devicesAndToken(server)
        try sync(devices.0)

        #expect(server.terminate() == 0)
        let restarted = try ServerProcess(data: server.data)
        defer { restarted.terminate() }
        #expect(restarted.isRunning, "the folder is free once the first server stopped")
    }

    @Test func aRefusedTokenIsOneClearLine() throws {
        let server = try ServerProcess()
        defer {
            server.terminate()
            server.removeData()
        }
        let device = Device()
        try device.client("init", "--server", server.url, "--token", String(repeating: "0", count: 64))
        let result = try device.client("sync")
        #expect(result.status != 0)
        #expect(result.stderr.hasPrefix("Error: the server at \(server.url) refused this device's token"))
        #expect(result.stderr.split(separator: "\n").count == 1)
    }
}
