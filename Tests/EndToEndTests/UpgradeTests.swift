import Foundation
import ReadSyncTestSupport
import Testing

/// Databases written by earlier versions open with the current binary, keep
/// everything a person saw in them, and sync on: the first storage format
/// (`Tests/Fixtures/storage-v1`, made by its `make.sh` with the binary of
/// dba93df), and a device whose outbox held one row per field
/// (`Tests/Fixtures/outbox-per-field`, the binary of aef2121).
@Suite(.serialized) struct UpgradeTests {
    /// A copy of the fixtures, so a test never changes the committed files.
    final class Fixtures {
        let root: URL
        let tokens: [String: String]
        let articles: [String: String]

        init(_ name: String = "storage-v1") throws {
            let source = RepositoryPaths.root.appendingPathComponent("Tests/Fixtures/\(name)")
            root = FileManager.default.temporaryDirectory.appendingPathComponent("readsync-upgrade-\(UUID().uuidString)")
            try FileManager.default.copyItem(at: source, to: root)
            let root = root
            func pairs(_ file: String) throws -> [String: String] {
                let text = try String(contentsOf: root.appendingPathComponent(file), encoding: .utf8)
                return Dictionary(
                    uniqueKeysWithValues: text.split(separator: "\n").map { line in
                        let parts = line.split(separator: " ")
                        return (String(parts[0]), String(parts[1]))
                    })
            }
            tokens = try pairs("tokens.txt")
            articles = try pairs("articles.txt")
        }

        deinit { try? FileManager.default.removeItem(at: root) }

        func device(_ name: String) -> Device { Device(home: root.appendingPathComponent(name).path) }
        var serverData: String { root.appendingPathComponent("server-data").path }
    }

    @Test func aDeviceOfTheFirstFormatShowsEverythingItHeld() throws {
        let fixtures = try Fixtures()
        let laptop = fixtures.device("laptop")
        let (first, second, third) = (fixtures.articles["first"]!, fixtures.articles["second"]!, fixtures.articles["third"]!)

        let list = try laptop.json("list") as! [[String: Any]]
        #expect(Set(list.map { $0["id"] as! String }) == [first, second])
        let shownFirst = try laptop.json("show", first) as! [String: Any]
        #expect(shownFirst["status"] as? String == "read")
        #expect(shownFirst["progress"] as? Double == 1)
        #expect(shownFirst["tags"] as? [String] == ["israel", "us"])
        let notes = (shownFirst["notes"] as! [[String: Any]]).map { "\($0["body"]!)|\($0["quote"]!)" }
        #expect(notes == ["Compare with the 2015 speech|a new day"])
        let shownSecond = try laptop.json("show", second) as! [String: Any]
        #expect(shownSecond["favorite"] as? Bool == true)
        #expect(shownSecond["progress"] as? Double == 0.4)
        #expect(shownSecond["tags"] as? [String] == ["pending", "politics"])
        #expect((shownSecond["notes"] as! [[String: Any]]).map { $0["body"] as! String } == ["Pending: not synced yet"])
        #expect((shownSecond["content"] as! String).count > 1000)

        let trash = try laptop.json("trash") as! [[String: Any]]
        #expect(trash.map { $0["id"] as! String } == [third])
        let conflicts = try laptop.json("conflicts") as! [[String: Any]]
        #expect(conflicts.count == 1)
        #expect(conflicts.first?["field"] as? String == "progress")
        #expect(conflicts.first?["keptValue"] as? String == "0.7")
        #expect(conflicts.first?["lostValue"] as? String == "0.3")

        let status = try laptop.json("status") as! [String: Any]
        #expect(status["pendingChanges"] as? Int ?? 0 > 0)
        let search = try laptop.json("search", "speech") as! [[String: Any]]
        #expect(search.map { $0["id"] as! String } == [first])
    }

    @Test func devicesAndAServerOfTheFirstFormatSyncOnAfterTheUpgrade() throws {
        let fixtures = try Fixtures()
        let server = try ServerProcess(data: fixtures.serverData)
        defer { server.terminate() }
        let (laptop, phone, reader) = (fixtures.device("laptop"), fixtures.device("phone"), fixtures.device("e-reader"))
        // The fixtures' server ran on another port.
        for (device, user) in [(laptop, "alice"), (phone, "alice"), (reader, "bob")] {
            let result = try device.client("init", "--server", server.url, "--token", fixtures.tokens[user]!)
            #expect(result.status == 0, "\(result.stderr)")
        }
        for device in [laptop, phone, laptop] {
            let result = try device.client("sync")
            #expect(result.status == 0, "\(result.stderr)")
        }
        let expected = try laptop.library()
        #expect(expected.count == 2)
        #expect(try phone.library() == expected)
        #expect(expected.contains { $0["notes"]!.contains("Pending: not synced yet") })
        for device in [laptop, phone] {
            let status = try device.json("status") as! [String: Any]
            #expect(status["pendingChanges"] as? Int == 0)
            #expect((try device.json("trash") as! [[String: Any]]).map { $0["id"] as! String } == [fixtures.articles["third"]!])
            #expect((try device.json("conflicts") as! [[String: Any]]).count == 1)
        }

        // Bob's library stayed his own; a new device of his gets it whole.
        let fresh = Device()
        #expect(try fresh.client("init", "--server", server.url, "--token", fixtures.tokens["bob"]!).status == 0)
        #expect(try fresh.client("sync").status == 0)
        #expect(try reader.client("sync").status == 0)
        let bobs = try fresh.library()
        #expect(bobs.count == 1)
        #expect(bobs.first?["tags"]?.contains("bob") == true)
        #expect(try reader.library() == bobs)
    }

    /// The laptop's outbox held twelve fields in twelve rows (the second
    /// article's progress written twice since its last sync, a tag, a note, a
    /// third article); after the upgrade they still wait (in four rows, one
    /// per entity: `SchemaMigrationTests`), and a sync sends them.
    @Test func aDeviceWhoseOutboxHeldOneRowPerFieldSendsEveryWaitingWrite() throws {
        let fixtures = try Fixtures("outbox-per-field")
        let server = try ServerProcess(data: fixtures.serverData)
        defer { server.terminate() }
        let laptop = fixtures.device("laptop")
        #expect((try laptop.json("status") as! [String: Any])["pendingChanges"] as? Int == 12, "every waiting field still waits")
        // The fixture's server ran on another port: to the device, a new
        // server, which gets every field again.
        #expect(try laptop.client("init", "--server", server.url, "--token", fixtures.tokens["alice"]!).status == 0)

        let sync = try laptop.client("sync")
        #expect(sync.status == 0, "\(sync.stderr)")
        #expect((try laptop.json("status") as! [String: Any])["pendingChanges"] as? Int == 0)

        let fresh = Device()
        #expect(try fresh.client("init", "--server", server.url, "--token", fixtures.tokens["alice"]!).status == 0)
        #expect(try fresh.client("sync").status == 0)
        let library = try fresh.library()
        #expect(library == (try laptop.library()))
        #expect(library.count == 3)
        let second = try #require(library.first { $0["id"] == fixtures.articles["second"] })
        #expect(second["progress"] == "0.8" && second["notes"]?.contains("Pending: not synced yet") == true)
        #expect(library.first { $0["id"] == fixtures.articles["first"] }?["tags"]?.contains("pending") == true)
    }
}
