import Foundation
import GRDB
import Synchronization
import Testing

/// What a server restored from a copy, and a device home copied to another
/// machine, do to a library: the real binary, server and devices as
/// separate processes. Every device must converge, with every write any
/// device still holds.
@Suite(.serialized) struct NeverDivergeTests {
    func initialise(_ devices: [Device], _ server: ServerProcess, _ token: String) throws {
        for device in devices {
            let result = try device.client("init", "--server", server.url, "--token", token)
            #expect(result.status == 0, "\(result.stderr)")
        }
    }

    @discardableResult
    func sync(_ device: Device) throws -> String {
        let result = try device.client("sync")
        #expect(result.status == 0, "sync failed: \(result.stderr)")
        return result.stdout
    }

    /// After a copied home's two devices wrote progress 30 and 70 % and tags
    /// alpha and beta to one article: every device shows the same library,
    /// with both tags, one progress, and the other listed as a conflict.
    func expectEveryEditAccountedFor(article id: String, on devices: [Device]) throws {
        let expected = try devices[0].library()
        for device in devices.dropFirst() { #expect(try device.library() == expected) }
        let article = try #require(expected.first { $0["id"] == id })
        #expect(article["tags"]?.contains("alpha") == true && article["tags"]?.contains("beta") == true, "both tags: \(article)")
        let progress = try #require(article["progress"])
        #expect(["0.3", "0.7"].contains(progress))
        // The progress that lost is listed where a person can see it.
        let lost = progress == "0.3" ? "0.7" : "0.3"
        var listed = false
        for device in devices {
            let conflicts = try device.json("conflicts") as! [[String: Any]]
            if conflicts.contains(where: { "\($0["field"]!)" == "progress" && "\($0["lostValue"]!)" == lost }) { listed = true }
        }
        #expect(listed, "the losing progress \(lost) is a listed conflict")
    }

    /// Copies the files of a server's data folder as `cp` would, while it runs.
    func copyFolder(_ source: String, to target: String) throws {
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
        for name in try FileManager.default.contentsOfDirectory(atPath: source) where !name.hasSuffix("-shm") {
            try FileManager.default.copyItem(
                atPath: (source as NSString).appendingPathComponent(name), toPath: (target as NSString).appendingPathComponent(name))
        }
    }

    /// Puts `copy` in place of the stopped server's data folder.
    func restore(_ copy: String, into data: String) throws {
        try FileManager.default.removeItem(atPath: data)
        try FileManager.default.copyItem(atPath: copy, toPath: data)
    }

    /// The data folder is copied raw while devices keep syncing; the disk
    /// dies and the copy is put back. Devices whose cursors are past the
    /// copy, below it, or who wrote after it, and one that only ever read:
    /// all notice (whatever their cursor), and all end with every write.
    @Test func aServerRestoredFromARawCopyOfItsDataFolderLosesNothingAnyDeviceHolds() throws {
        let server = try ServerProcess()
        defer {
            server.terminate()
            server.removeData()
        }
        let token = try server.addUser("alice")
        let (laptop, phone, tablet, reader) = (Device(), Device(), Device(), Device())
        try initialise([laptop, phone, tablet, reader], server, token)
        var ids: [String] = []
        for prefix in ["000", "001", "002"] { ids.append(try laptop.client("add", try ReadSyncBinary.seed(prefix)).lastLine) }
        for device in [laptop, phone, tablet, reader] { try sync(device) }

        // Last night's copy, taken raw while the server ran.
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("readsync-e2e-copy-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: copy) }
        try copyFolder(server.data, to: copy)

        // The day goes on. The phone and the tablet push past the copy; the
        // laptop pulls it all, so its cursor ends past the copy too.
        try phone.client("read", ids[0])
        try sync(phone)
        try tablet.client("tag", ids[2], "+later")
        try sync(tablet)
        try laptop.client("note", ids[1], "Written after the copy")
        try sync(laptop)

        // The disk dies; the copy is put back.
        server.terminate()
        try restore(copy, into: server.data)
        let restored = try ServerProcess(data: server.data, port: server.port)
        defer { restored.terminate() }

        // After the restore, more writes; then every device syncs, twice round.
        try phone.client("favorite", ids[2])
        var said: [String] = []
        for _ in 0..<2 {
            for device in [phone, reader, tablet, laptop] { said.append(try sync(device)) }
        }
        #expect(said.contains { $0.contains("everything was exchanged again") }, "the restore was noticed: \(said)")

        let expected = try laptop.library()
        for device in [phone, tablet, reader] { #expect(try device.library() == expected) }
        let byID = Dictionary(uniqueKeysWithValues: expected.map { ($0["id"]!, $0) })
        #expect(byID[ids[0]]?["status"] == "read", "the phone's read mark, pushed after the copy")
        #expect(byID[ids[2]]?["tags"]?.contains("later") == true, "the tablet's tag, pushed after the copy")
        #expect(byID[ids[1]]?["notes"]?.contains("Written after the copy") == true, "the laptop's note, pushed after the copy")
        #expect(byID[ids[2]]?["favorite"] == "1" || byID[ids[2]]?["favorite"] == "true", "the phone's favourite, written after the restore")
    }

    /// `readsync backup` while devices push; the backup restored; the writes
    /// made after it come back from the devices.
    @Test func aBackupTakenUnderLoadRestoresAndDevicesRefillIt() throws {
        let server = try ServerProcess()
        defer {
            server.terminate()
            server.removeData()
        }
        let token = try server.addUser("alice")
        let (laptop, phone) = (Device(), Device())
        try initialise([laptop, phone], server, token)
        let seeds = try ["000", "001", "002"].map { try ReadSyncBinary.seed($0) }
        let first = try laptop.client("add", seeds[0]).lastLine
        try sync(laptop)
        try sync(phone)

        // The phone syncs edits over and over while the backup is taken.
        let backup = FileManager.default.temporaryDirectory.appendingPathComponent("readsync-e2e-backup-\(UUID().uuidString).sqlite").path
        defer { try? FileManager.default.removeItem(atPath: backup) }
        // Each sync's exit status and error, kept by the load's thread.
        let outcomes = Mutex<[String]>([])
        let load = Thread {
            for step in 0..<12 {
                let edit = try? phone.client("progress", first, String(step * 5))
                let sync = try? phone.client("sync")
                outcomes.withLock { $0.append("\(edit?.status ?? -1)/\(sync?.status ?? -1) \(sync?.stderr ?? "did not run")") }
            }
        }
        load.start()
        let result = try ReadSyncBinary.run(["backup", "--data", server.data, "--out", backup])
        #expect(result.status == 0, "\(result.stderr)")
        while !load.isFinished { usleep(50_000) }
        // The backup held no writer off: every edit and sync of the load went through.
        let failed = outcomes.withLock { $0 }.filter { !$0.hasPrefix("0/0 ") }
        #expect(outcomes.withLock(\.count) == 12 && failed.isEmpty, "\(failed)")
        let check = try DatabaseQueue(path: backup).read { try String.fetchOne($0, sql: "PRAGMA integrity_check") }
        #expect(check == "ok", "the backup file: \(check ?? "no answer")")

        let later = try laptop.client("add", seeds[1]).lastLine
        try sync(laptop)
        try sync(phone)

        server.terminate()
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: server.database + suffix) }
        try FileManager.default.copyItem(atPath: backup, toPath: server.database)
        let restored = try ServerProcess(data: server.data, port: server.port)
        defer { restored.terminate() }
        for _ in 0..<2 {
            try sync(phone)
            try sync(laptop)
        }
        let expected = try laptop.library()
        #expect(try phone.library() == expected)
        #expect(Set(expected.map { $0["id"]! }) == [first, later], "the article added after the backup is back")
        #expect(expected.first { $0["id"] == first }?["progress"] == "0.55", "the phone's last progress")
    }

    /// A device's home copied to a second machine (a backup restored onto a
    /// new laptop), and both copies keep working: the copy takes a node id
    /// of its own before it writes, everything converges, and of two edits
    /// of one field one wins and the other is listed as a conflict.
    @Test func aCopiedHomeBecomesADeviceOfItsOwnAndEveryEditIsAccountedFor() throws {
        let server = try ServerProcess()
        defer {
            server.terminate()
            server.removeData()
        }
        let token = try server.addUser("alice")
        let (laptop, phone) = (Device(), Device())
        try initialise([laptop, phone], server, token)
        let id = try laptop.client("add", try ReadSyncBinary.seed("001")).lastLine
        try laptop.client("progress", id, "10")  // waiting in the outbox when the home is copied
        let clone = Device()
        try? FileManager.default.removeItem(atPath: clone.home)
        try FileManager.default.copyItem(atPath: laptop.home, toPath: clone.home)

        let first = try clone.client("progress", id, "70")
        #expect(first.status == 0 && first.stderr.contains("is a copy of another device"), "\(first.stderr)")
        #expect(try clone.client("tag", id, "+beta").status == 0)
        #expect(try laptop.client("progress", id, "30").stderr.isEmpty, "the original keeps its id")
        #expect(try laptop.client("tag", id, "+alpha").status == 0)
        for _ in 0..<2 {
            for device in [laptop, clone, phone] { try sync(device) }
        }

        try expectEveryEditAccountedFor(article: id, on: [laptop, clone, phone])
    }

    /// A copy the device cannot see (a cloned virtual machine: the same file
    /// on the same disk image): here a copied home whose record of its file
    /// is removed, so that it takes the copy's file for its own. The server
    /// tells the two apart by their chains of pushes; the one refused takes a
    /// new node id, and nothing is lost.
    @Test func aCopyTheDeviceCannotSeeIsToldApartByTheServer() throws {
        let server = try ServerProcess()
        defer {
            server.terminate()
            server.removeData()
        }
        let token = try server.addUser("alice")
        let (laptop, phone) = (Device(), Device())
        try initialise([laptop, phone], server, token)
        let id = try laptop.client("add", try ReadSyncBinary.seed("001")).lastLine
        try sync(laptop)
        try sync(phone)
        let clone = Device()
        try? FileManager.default.removeItem(atPath: clone.home)
        try FileManager.default.copyItem(atPath: laptop.home, toPath: clone.home)
        let copy = try DatabaseQueue(path: clone.database)
        try copy.write { db in try db.execute(sql: "DELETE FROM meta WHERE key = 'file_identity'") }
        try copy.close()

        #expect(try clone.client("progress", id, "70").stderr.isEmpty, "the clone cannot tell")
        try clone.client("tag", id, "+beta")
        try laptop.client("progress", id, "30")
        try laptop.client("tag", id, "+alpha")
        var said: [String] = []
        for _ in 0..<2 {
            for device in [laptop, clone, phone] { said.append(try sync(device)) }
        }
        #expect(said.contains { $0.contains("another device push under this device's node id") }, "\(said)")

        try expectEveryEditAccountedFor(article: id, on: [laptop, clone, phone])
    }

    /// The devices the server knows: each names itself, and the server lists
    /// node id, name, when it was last seen and how far it has pulled; a
    /// device forgotten reappears at its next sync.
    @Test func theServerListsAUsersDevicesAndForgetsOne() throws {
        let server = try ServerProcess()
        defer {
            server.terminate()
            server.removeData()
        }
        let token = try server.addUser("alice")
        let (laptop, phone) = (Device(), Device())
        #expect(try laptop.client("init", "--server", server.url, "--token", token, "--name", "Alice's laptop").status == 0)
        #expect(try phone.client("init", "--server", server.url, "--token", token).status == 0)
        try laptop.client("add", try ReadSyncBinary.seed("000"))
        // A device counts as holding what it had applied when it last asked: twice round.
        for device in [laptop, phone, laptop, phone] { try sync(device) }

        func devices() throws -> [[String: Any]] {
            let result = try ReadSyncBinary.run(["user", "devices", "alice", "--data", server.data, "--json"])
            #expect(result.status == 0, "\(result.stderr)")
            return try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as! [[String: Any]]
        }
        // Pulls are written a moment after they are answered.
        var listed = try devices()
        for _ in 0..<100 where listed.count < 2 || listed.contains(where: { ($0["pulled"] as! Int) == 0 }) {
            usleep(50_000)
            listed = try devices()
        }
        let names = Set(listed.map { $0["name"] as! String })
        #expect(names.contains("Alice's laptop") && names.count == 2, "\(listed)")
        #expect(listed.allSatisfy { ($0["pulled"] as! Int) == ($0["latest"] as! Int) && ($0["latest"] as! Int) > 0 }, "\(listed)")
        let phoneNode = try #require(listed.first { $0["name"] as! String != "Alice's laptop" }?["node"] as? String)

        let forgot = try ReadSyncBinary.run(["user", "forget-device", "alice", phoneNode, "--data", server.data])
        #expect(forgot.status == 0, "\(forgot.stderr)")
        #expect(try devices().count == 1)
        let again = try ReadSyncBinary.run(["user", "forget-device", "alice", phoneNode, "--data", server.data])
        #expect(again.status != 0 && again.stderr.contains("has no device"), "\(again.stderr)")
        let nobody = try ReadSyncBinary.run(["user", "devices", "bob", "--data", server.data])
        #expect(nobody.status != 0 && nobody.stderr.contains("no user named 'bob'"), "\(nobody.stderr)")

        try sync(phone)
        for _ in 0..<100 where try devices().count < 2 { usleep(50_000) }
        #expect(try devices().count == 2, "the phone reappears at its next sync")
    }

    /// Two syncs of one library at once (a timer and a person) would show
    /// the server a push chain the other had just moved on, and the device
    /// would be taken for a copy of itself: a sync waits while another
    /// process holds the library's sync lock.
    @Test func aSyncWaitsForAnotherSyncOfTheSameLibrary() throws {
        let server = try ServerProcess()
        defer {
            server.terminate()
            server.removeData()
        }
        let token = try server.addUser("alice")
        let laptop = Device()
        try initialise([laptop], server, token)
        try laptop.client("add", try ReadSyncBinary.seed("000"))

        // This test process holds the lock, as a running sync would.
        let lockFile = open((laptop.home as NSString).appendingPathComponent("sync.lock"), O_RDWR | O_CREAT, 0o644)
        #expect(lockFile >= 0 && flock(lockFile, LOCK_EX) == 0)
        final class Outcome: @unchecked Sendable {
            // @unchecked: written by the thread under `lock`, read after.
            private let lock = NSLock()
            private var stored: ReadSyncBinary.Result?
            var result: ReadSyncBinary.Result? {
                get { lock.withLock { stored } }
                set { lock.withLock { stored = newValue } }
            }
        }
        let outcome = Outcome()
        let waiting = Thread { outcome.result = try? laptop.client("sync") }
        waiting.start()
        usleep(1_500_000)
        #expect(!waiting.isFinished && outcome.result == nil, "the sync waits while another holds the lock")
        flock(lockFile, LOCK_UN)
        close(lockFile)
        while !waiting.isFinished { usleep(20_000) }
        #expect(outcome.result?.status == 0 && outcome.result?.stdout.contains("pushed") == true, "\(outcome.result?.stderr ?? "no result")")
    }

    /// A device's database changed behind its back (a title edited, a tag
    /// removed, a note's row lost): `verify` lists what differs without
    /// downloading the library, `verify --repair` exchanges only that, and
    /// nothing the server or the other device holds is lost.
    @Test func verifyFindsADamagedLibraryAndRepairMendsIt() throws {
        let server = try ServerProcess()
        defer {
            server.terminate()
            server.removeData()
        }
        let token = try server.addUser("alice")
        let (laptop, phone) = (Device(), Device())
        try initialise([laptop, phone], server, token)
        var ids: [String] = []
        for prefix in ["000", "001", "002"] { ids.append(try laptop.client("add", try ReadSyncBinary.seed(prefix)).lastLine) }
        try laptop.client("tag", ids[0], "+keep")
        try laptop.client("note", ids[1], "A note to keep")
        try sync(laptop)
        try sync(phone)

        let equal = try phone.client("verify")
        #expect(equal.status == 0 && equal.stdout.contains("matches the server's"), "\(equal.stdout)\(equal.stderr)")

        let database = try DatabaseQueue(path: phone.database)
        try database.write { db in
            try db.execute(sql: "UPDATE article_values SET title = 'Tampered' WHERE id = ?", arguments: [ids[2]])
            try db.execute(sql: "DELETE FROM tag_values WHERE article_id = ?", arguments: [ids[0]])
            try db.execute(sql: "DELETE FROM note_values")
        }
        try database.close()

        let found = try phone.client("verify", "--json")
        #expect(found.status == 1, "\(found.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(found.stdout.utf8)) as! [String: Any]
        let differing = (report["differing"] as! [[String: Any]]).map { "\($0["kind"]!)" }
        #expect(differing.sorted() == ["article", "note", "tag"], "\(report)")
        #expect((report["requests"] as! Int) < 20, "narrowed down, not downloaded: \(report)")

        let repaired = try phone.client("verify", "--repair")
        #expect(repaired.status == 0 && repaired.stdout.contains("Repaired 3 entities"), "\(repaired.stdout)\(repaired.stderr)")
        #expect(try phone.client("verify").status == 0)
        try sync(laptop)
        #expect(try phone.library() == (try laptop.library()))
        #expect(try laptop.library().first { $0["id"] == ids[2] }?["title"] != "Tampered", "the damage did not reach the server")
        #expect(try laptop.client("verify").status == 0)
    }
}
