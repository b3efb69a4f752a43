import Foundation
import GRDB
import Testing

/// Collecting deleted articles and retiring devices that stay away, with
/// the real binary: server and devices as separate processes, the server
/// collecting on its own schedule (`serve --retire-after --keep-trash
/// --collect-every`), shortened from days to seconds.
@Suite(.serialized) struct CollectionTests {
    /// 4.3 seconds and 13 seconds, in days.
    static let (retireAfter, keepTrash) = ("0.00005", "0.00015")

    @discardableResult
    func sync(_ device: Device) throws -> String {
        let result = try device.client("sync")
        #expect(result.status == 0, "sync failed: \(result.stderr)")
        return result.stdout
    }

    /// Waits until `condition` holds, for at most `seconds`.
    func eventually(_ seconds: Double, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return true }
            usleep(100_000)
        }
        return try condition()
    }

    /// The fields of `article`'s family that hold a value on the server.
    func serverFields(of article: String, _ server: ServerProcess) throws -> [String] {
        try DatabaseQueue(
            path: server.database,
            configuration: {
                var c = Configuration()
                c.readonly = true
                return c
            }()
        ).read { db in
            try String.fetchAll(
                db,
                sql: """
                    SELECT DISTINCT kind || '.' || field FROM field_versions
                    WHERE (entity = ? OR entity LIKE ? || '/%'
                           OR entity IN (SELECT entity FROM field_versions WHERE kind = 'note' AND field = 'article_id' AND value = json_quote(?)))
                      AND value <> 'null'
                    ORDER BY 1
                    """, arguments: [article, article, article])
        }
    }

    /// A deleted article is collected once every device still syncing has
    /// it; a device away longer than `--retire-after` does not hold that
    /// back. When it returns it is told, pulls everything, and its offline
    /// edits of the collected article (a note, a tag, progress) land in the
    /// trash on every device; the article stays deleted everywhere.
    @Test func aDeviceRetiredAndReturningAfterACollectionLosesNoEditAndResurrectsNothing() throws {
        let server = try ServerProcess(options: ["--retire-after", Self.retireAfter, "--keep-trash", Self.keepTrash, "--collect-every", "0.25"])
        defer {
            server.terminate()
            server.removeData()
        }
        let token = try server.addUser("alice")
        let (laptop, phone, reader) = (Device(), Device(), Device())
        for (device, name) in [(laptop, "laptop"), (phone, "phone"), (reader, "reader")] {
            #expect(try device.client("init", "--server", server.url, "--token", token, "--name", name).status == 0)
        }
        var ids: [String] = []
        for prefix in ["000", "001", "002"] { ids.append(try laptop.client("add", try ReadSyncBinary.seed(prefix)).lastLine) }
        let doomed = ids[0]
        #expect(try laptop.client("note", doomed, "a note from before").status == 0)
        #expect(try laptop.client("tag", doomed, "+before").status == 0)
        for device in [laptop, phone, reader] { try sync(device) }
        #expect(try serverFields(of: doomed, server).contains("article.content"))

        // The reader goes offline and is edited there; meanwhile the laptop
        // deletes the article and the others keep syncing.
        #expect(try reader.client("note", doomed, "written offline").status == 0)
        #expect(try reader.client("tag", doomed, "+offline").status == 0)
        #expect(try reader.client("progress", doomed, "40").status == 0)
        #expect(try reader.client("read", ids[1]).status == 0)
        #expect(try laptop.client("delete", doomed).status == 0)
        try sync(laptop)
        try sync(phone)
        #expect(try serverFields(of: doomed, server).contains("article.content"), "in the trash for less than --keep-trash: kept")

        // Past --retire-after, the reader is retired, and past --keep-trash
        // the article is collected; the others, syncing every second, are
        // not retired.
        // (The seeds are files: their tombstone has no address.)
        let tombstone = ["article.added_at", "article.deleted", "article.title", "note.article_id", "note.created_at", "note.deleted"]
        let collected = try eventually(40) {
            try sync(laptop)
            try sync(phone)
            usleep(900_000)
            return try serverFields(of: doomed, server) == tombstone
        }
        let left = try serverFields(of: doomed, server)
        #expect(collected, "only the tombstone is left on the server: \(left)")
        let devices = try ReadSyncBinary.run(["user", "devices", "alice", "--data", server.data, "--json"])
        let retired = try JSONSerialization.jsonObject(with: Data(devices.stdout.utf8)) as! [[String: Any]]
        #expect(retired.filter { $0["retiredAt"] != nil }.map { "\($0["name"]!)" } == ["reader"], "\(devices.stdout)")

        // The others purge it at their next sync: the trash still lists it, without its body, notes or tags.
        for device in [laptop, phone] {
            try sync(device)
            let trash = try device.json("trash") as! [[String: Any]]
            #expect(trash.map { "\($0["id"]!)" } == [doomed])
            let shown = try device.json("show", doomed) as! [String: Any]
            #expect("\(shown["content"]!)".isEmpty && (shown["notes"] as! [Any]).isEmpty && (shown["tags"] as! [Any]).isEmpty, "\(shown)")
        }

        // The reader returns.
        let back = try sync(reader)
        #expect(back.contains("retired"), "\(back)")
        for device in [laptop, phone] { try sync(device) }
        try sync(reader)

        let expected = try laptop.library()
        for device in [phone, reader] {
            #expect(try device.library() == expected)
            let trash = try device.json("trash") as! [[String: Any]]
            #expect(trash.map { "\($0["id"]!)" } == [doomed])
        }
        #expect(!expected.contains { $0["id"] == doomed }, "still deleted: not listed")
        #expect(expected.first { $0["id"] == ids[1] }?["status"] == "read", "the reader's other offline edit arrived")
        for device in [laptop, phone, reader] {
            let shown = try device.json("show", doomed) as! [String: Any]
            let notes = (shown["notes"] as! [[String: Any]]).map { "\($0["body"]!)" }
            #expect(notes == ["written offline"] && "\(shown["tags"]!)".contains("offline") && "\(shown["progress"]!)" == "0.4", "\(shown)")
            #expect("\(shown["deleted"]!)" == "1" || "\(shown["deleted"]!)" == "true")
        }
        for device in [laptop, phone, reader] {
            let verify = try device.client("verify")
            #expect(verify.status == 0, "\(verify.stdout) \(verify.stderr)")
        }
    }

    /// A device that has not pulled a delete holds its collection back,
    /// however long it is in the trash, until the device is retired or
    /// forgotten (`user forget-device`); when it syncs again it takes the
    /// purges like any write.
    @Test func aDeviceThatHasNotPulledTheDeleteHoldsTheCollectionBack() throws {
        let server = try ServerProcess(options: ["--keep-trash", "0", "--collect-every", "0.25"])
        defer {
            server.terminate()
            server.removeData()
        }
        let token = try server.addUser("alice")
        let (laptop, phone, reader) = (Device(), Device(), Device())
        for (device, name) in [(laptop, "laptop"), (phone, "phone"), (reader, "reader")] {
            #expect(try device.client("init", "--server", server.url, "--token", token, "--name", name).status == 0)
        }
        let doomed = try laptop.client("add", try ReadSyncBinary.seed("000")).lastLine
        for device in [laptop, phone, reader] { try sync(device) }
        #expect(try laptop.client("delete", doomed).status == 0)
        // A device is counted as holding what it had applied when it last asked: twice round.
        for device in [laptop, phone, laptop, phone] { try sync(device) }
        usleep(1_500_000)
        #expect(try serverFields(of: doomed, server).contains("article.content"), "the reader has not pulled the delete")

        let listed = try ReadSyncBinary.run(["user", "devices", "alice", "--data", server.data, "--json"])
        let devices = try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as! [[String: Any]]
        let node = try #require(devices.first { "\($0["name"]!)" == "reader" }?["node"] as? String)
        #expect(try ReadSyncBinary.run(["user", "forget-device", "alice", node, "--data", server.data]).status == 0)
        #expect(try eventually(10) { try !serverFields(of: doomed, server).contains("article.content") }, "forgotten, it holds nothing back")

        try sync(reader)
        for device in [laptop, phone] { try sync(device) }
        let expected = try laptop.library()
        for device in [phone, reader] {
            #expect(try device.library() == expected)
            let shown = try device.json("show", doomed) as! [String: Any]
            #expect("\(shown["content"]!)".isEmpty, "purged on every device")
            let verify = try device.client("verify")
            #expect(verify.status == 0, "\(verify.stdout) \(verify.stderr)")
        }
    }
}
