import Foundation
import Testing

/// A disk that is really full, or really read-only (a small tmpfs, filled
/// to ENOSPC or remounted `ro`), under a real `readsync serve` or under a
/// device's home: each answer is one line that says which disk and what
/// was kept, and nothing stored before is lost.
@Suite(.serialized) struct StorageFaultTests {
    /// A text article of about `megabytes` MB, on the ordinary temporary
    /// disk: big enough that storing it needs new pages, whatever room
    /// SQLite's write-ahead log kept from earlier writes.
    static func bigArticle(megabytes: Int) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("readsync-big-\(UUID().uuidString).txt")
        var generator = SystemRandomNumberGenerator()
        let words = ["reading", "list", "offline", "server", "disk", "sync", "article", "quiet", "paper", "evening", "river", "lamp"]
        var text = "A long article\n\n"
        while text.utf8.count < megabytes * 1_048_576 {
            // Random words with random numbers, so that nothing compresses it away.
            text +=
                (0..<12).map { _ in "\(words.randomElement(using: &generator)!)\(UInt32.random(in: 0...999_999, using: &generator))" }.joined(separator: " ")
                + ".\n"
        }
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    func pending(_ device: Device) throws -> Int {
        try #require((try device.json("status") as? [String: Any])?["pendingChanges"] as? Int)
    }

    func errorCode(_ body: String) -> String? {
        let json = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
        return (json?["error"] as? [String: Any])?["code"] as? String
    }

    @Test func aFullServerDiskIsAnswered507AndTheDevicesChangesStayQueued() throws {
        let disk = try SmallDisk(megabytes: 24)
        defer { disk.unmount() }
        let server = try ServerProcess(data: (disk.path as NSString).appendingPathComponent("data"))
        defer { server.terminate() }
        let token = try server.addUser("alice")
        let laptop = Device(), phone = Device()
        for device in [laptop, phone] { #expect(try device.client("init", "--server", server.url, "--token", token).status == 0) }
        #expect(try laptop.client("add", try ReadSyncBinary.seed("000")).status == 0)
        #expect(try laptop.client("sync").status == 0)
        #expect(try PlainHTTP.get(port: server.port, "/ready").status == 200)

        try disk.fill()
        let big = try Self.bigArticle(megabytes: 3)
        defer { try? FileManager.default.removeItem(at: big) }
        for file in [try ReadSyncBinary.seed("001"), try ReadSyncBinary.seed("002"), big.path] {
            let added = try laptop.client("add", file)
            #expect(added.status == 0, "\(added.stderr)")
        }
        let queued = try pending(laptop)
        #expect(queued > 0)

        let refused = try laptop.client("sync")
        #expect(refused.status != 0)
        let lines = refused.stderr.split(separator: "\n")
        #expect(lines.count == 1, "one line: \(refused.stderr)")
        #expect(
            refused.stderr.hasPrefix("Error: the server at \(server.url) could not store the sync: its disk is full (HTTP 507, disk_full)"), "\(refused.stderr)"
        )
        #expect(refused.stderr.contains("nothing was lost and this device's changes stay queued"), "\(refused.stderr)")
        #expect(try pending(laptop) == queued, "the outbox is untouched")

        let ready = try PlainHTTP.get(port: server.port, "/ready")
        #expect(ready.status == 503, "\(ready.body)")
        #expect(errorCode(ready.body) == "not_ready", "\(ready.body)")
        #expect(try PlainHTTP.get(port: server.port, "/health").status == 200, "the process is alive")
        #expect(server.log.contains("storage fault"), "the operator's log says why")

        try disk.free()
        #expect(try PlainHTTP.get(port: server.port, "/ready").status == 200, "ready again once there is space")
        let synced = try laptop.client("sync")
        #expect(synced.status == 0, "\(synced.stderr)")
        #expect(try pending(laptop) == 0)
        #expect(try phone.client("sync").status == 0)
        let library = try laptop.library()
        #expect(library.count == 4)
        #expect(try phone.library() == library, "every article reached the other device")
    }

    @Test func aFullDeviceDiskSaysWhichFolderAndSavesNothing() throws {
        let disk = try SmallDisk(megabytes: 24)
        defer { disk.unmount() }
        let device = Device(home: (disk.path as NSString).appendingPathComponent("home"))
        let first = try device.client("add", try ReadSyncBinary.seed("000"))
        #expect(first.status == 0, "\(first.stderr)")
        let before = try device.library()

        try disk.fill()
        let big = try Self.bigArticle(megabytes: 2)
        defer { try? FileManager.default.removeItem(at: big) }
        let refused = try device.client("add", big.path)
        #expect(refused.status != 0)
        #expect(refused.stderr.split(separator: "\n").count == 1, "one line: \(refused.stderr)")
        #expect(refused.stderr.hasPrefix("Error: the disk holding \(device.home) is full; nothing of this command was saved"), "\(refused.stderr)")

        try disk.free()
        #expect(try device.library() == before, "the library is as it was")
        let added = try device.client("add", big.path)
        #expect(added.status == 0, "\(added.stderr)")
        #expect((try device.json("list") as? [Any])?.count == 2)
    }

    /// A sync that pulls more than the device's disk holds: nothing of the
    /// page is applied, and what the device wrote itself waits to be pushed.
    @Test func aFullDeviceDiskDuringASyncKeepsTheChangesQueued() throws {
        let server = try ServerProcess()
        defer {
            server.terminate()
            server.removeData()
        }
        let token = try server.addUser("alice")
        let laptop = Device()
        #expect(try laptop.client("init", "--server", server.url, "--token", token).status == 0)
        let big = try Self.bigArticle(megabytes: 3)
        defer { try? FileManager.default.removeItem(at: big) }
        #expect(try laptop.client("add", big.path).status == 0)
        #expect(try laptop.client("sync").status == 0)

        let disk = try SmallDisk(megabytes: 24)
        defer { disk.unmount() }
        let phone = Device(home: (disk.path as NSString).appendingPathComponent("home"))
        #expect(try phone.client("init", "--server", server.url, "--token", token).status == 0)
        #expect(try phone.client("add", try ReadSyncBinary.seed("001")).status == 0)
        let queued = try pending(phone)
        // Room to open the library and record the push, none for the pulled article.
        try disk.fill(leaving: 512 * 1024)

        let refused = try phone.client("sync")
        #expect(refused.status != 0)
        #expect(refused.stderr.split(separator: "\n").count == 1, "one line: \(refused.stderr)")
        #expect(refused.stderr.hasPrefix("Error: the disk holding \(phone.home) is full"), "\(refused.stderr)")
        #expect(refused.stderr.contains("nothing was lost and this device's changes stay queued for the next sync"), "\(refused.stderr)")

        try disk.free()
        #expect(try pending(phone) <= queued)
        let synced = try phone.client("sync")
        #expect(synced.status == 0, "\(synced.stderr)")
        #expect(try laptop.client("sync").status == 0)
        #expect(try phone.library() == (try laptop.library()))
        #expect(try phone.library().count == 2)
    }

    /// As root, file permissions stop no write, so the home's disk itself is
    /// made read-only (`mount -o remount,ro`), as a failing disk often is.
    @Test func aReadOnlyDeviceDiskSaysSoAndLosesNothing() throws {
        let disk = try SmallDisk(megabytes: 8)
        defer { disk.unmount() }
        let device = Device(home: (disk.path as NSString).appendingPathComponent("home"))
        #expect(try device.client("add", try ReadSyncBinary.seed("000")).status == 0)
        let before = try device.library()

        try disk.remount(readOnly: true)
        let refused = try device.client("add", try ReadSyncBinary.seed("001"))
        try disk.remount(readOnly: false)
        #expect(refused.status != 0)
        #expect(refused.stderr.split(separator: "\n").count == 1, "one line: \(refused.stderr)")
        #expect(refused.stderr.hasPrefix("Error: the library in \(device.home) cannot be written (its file, folder or disk is read-only)"), "\(refused.stderr)")
        #expect(refused.stderr.contains("nothing of this command was saved"), "\(refused.stderr)")

        #expect(try device.library() == before)
        #expect(try device.client("add", try ReadSyncBinary.seed("001")).status == 0)
        #expect(try device.library().count == 2)
    }
}
