import FaultPoints
import Foundation
import GRDB
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Crashes for real: the `readsync` binary dies at each named fault point
/// (abort, no cleanup), is killed with SIGKILL in the middle of a large push
/// and of a large pull, and has its connection cut mid-answer. Afterwards
/// every database passes `PRAGMA integrity_check`, one more sync round makes
/// the devices identical, and nothing written before the crash is lost or
/// stored twice.
@Suite(.serialized) struct CrashRecoveryTests {
    /// A server behind a relay (so it can restart on a new port unseen), one
    /// user, and two devices initialised against the relay.
    final class Rig {
        private(set) var server: ServerProcess
        let relay: TCPRelay
        let laptop = Device(), phone = Device()

        init() throws {
            server = try ServerProcess()
            relay = try TCPRelay(to: server.port)
            let token = try server.addUser("alice")
            for device in [laptop, phone] {
                let result = try device.client("init", "--server", relay.url, "--token", token)
                #expect(result.status == 0, "\(result.stderr)")
            }
        }

        /// Starts the server again on its data folder, after a crash or a stop.
        func restartServer(environment: [String: String] = [:]) throws {
            server.terminate()
            server = try ServerProcess(data: server.data, environment: environment)
            relay.retarget(to: server.port)
        }

        deinit {
            relay.stop()
            server.terminate()
            server.removeData()
        }
    }

    /// Dies at `point` (`NAME[@N][:stall]`), quietly: the Swift runtime's
    /// crash backtrace would take seconds per crash.
    static func fault(_ setting: String) -> [String: String] {
        [FaultPoint.environmentVariable: setting, "SWIFT_BACKTRACE": "enable=no"]
    }

    static func sync(_ device: Device) throws {
        let result = try device.client("sync")
        #expect(result.status == 0, "sync failed: \(result.stderr)")
    }

    /// `PRAGMA integrity_check` of an SQLite file (WAL included).
    static func integrity(_ path: String) throws -> [String] {
        let database = try DatabaseQueue(path: path)
        defer { try? database.close() }
        return try database.read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") }
    }

    /// Register versions the server stored more than once (a duplicated upload).
    static func duplicatedVersions(_ server: ServerProcess) throws -> Int {
        let database = try DatabaseQueue(path: server.database)
        defer { try? database.close() }
        return try database.read { db in
            try Int.fetchOne(
                db,
                sql: """
                    SELECT count(*) FROM (SELECT 1 FROM field_versions GROUP BY user_id, kind, entity, field, timestamp HAVING count(*) > 1)
                    """) ?? 0
        }
    }

    static func expectIntact(_ rig: Rig, _ moment: String) throws {
        for path in [rig.laptop.database, rig.phone.database, rig.server.database] {
            #expect(try integrity(path) == ["ok"], "\(moment): \(path)")
        }
    }

    /// Both devices sync until quiet, then must list the same articles with
    /// nothing pending and nothing stored twice. Returns the laptop's list.
    @discardableResult
    static func expectConverged(_ rig: Rig) throws -> [[String: Any]] {
        try sync(rig.phone)
        try sync(rig.laptop)
        try sync(rig.phone)
        let listed = try [rig.laptop, rig.phone].map { try $0.client("list", "--json").stdout }
        #expect(listed[0] == listed[1])
        let library = try JSONSerialization.jsonObject(with: Data(listed[0].utf8)) as! [[String: Any]]
        #expect(Set(library.map { $0["id"] as! String }).count == library.count, "no article twice")
        for device in [rig.laptop, rig.phone] {
            #expect((try device.json("status") as! [String: Any])["pendingChanges"] as? Int == 0)
        }
        #expect(try duplicatedVersions(rig.server) == 0)
        try expectIntact(rig, "after recovery")
        return library
    }

    // MARK: Every fault point

    @Test(arguments: FaultPoint.allCases)
    func aCrashAtThisPointLosesNothing(_ point: FaultPoint) throws {
        let rig = try Rig()
        // Shared history: the laptop's seeds, a note and a read mark, on both devices.
        let ids = try ["000", "001", "002"].map { try rig.laptop.client("add", try ReadSyncBinary.seed($0)).lastLine }
        try rig.laptop.client("note", ids[0], "Read this again")
        try rig.laptop.client("read", ids[0])
        try Self.sync(rig.laptop)
        try Self.sync(rig.phone)
        // In flight: a favourite and a note wait on the server for the phone,
        // which has writes of its own to push.
        try rig.laptop.client("favorite", ids[1])
        try rig.laptop.client("note", ids[1], "Pulled by the phone")
        try Self.sync(rig.laptop)
        try rig.phone.client("tag", ids[0], "+kept")
        try rig.phone.client("progress", ids[2], "40")
        try rig.phone.client("note", ids[2], "Written on the phone")

        let fault = Self.fault(point.rawValue)
        switch point {
        case .clientWriteBeforeCommit:
            let crashed = try rig.phone.client(environment: fault, "archive", ids[1])
            #expect(crashed.signal == SIGABRT, "the fault point fired: \(crashed.stderr)")
            try Self.expectIntact(rig, "after the crash")
            #expect((try rig.phone.json("show", ids[1]) as! [String: Any])["archived"] as? Bool == false, "all or nothing")
            #expect(try rig.phone.client("archive", ids[1]).status == 0, "the command runs again")
        case .clientPushBeforeSend, .clientPushAfterAnswer, .clientAckBeforeCommit,
            .clientPullAfterAnswer, .clientPullBeforeCommit, .clientPullAfterCommit, .clientIndexBeforeCommit:
            let crashed = try rig.phone.client(environment: fault, "sync")
            #expect(crashed.signal == SIGABRT, "the fault point fired: \(crashed.stderr)")
            try Self.expectIntact(rig, "after the crash")
            if point == .clientPullAfterCommit {
                // The page is applied, and indexed with it (the last page and
                // the index commit together, so `clientIndexBeforeCommit`
                // leaves neither): a search before the next sync finds the
                // pulled note.
                let hits = try rig.phone.json("search", "pulled") as! [[String: Any]]
                #expect(hits.map { $0["id"] as? String } == [ids[1]], "a search sees every applied page")
            }
            if point == .clientIndexBeforeCommit {
                // The only page was the last: neither it nor its index entries stayed.
                #expect((try rig.phone.json("search", "pulled") as! [[String: Any]]).isEmpty, "the page and the index commit together")
                #expect((try rig.phone.json("show", ids[1]) as! [String: Any])["favorite"] as? Bool == false)
            }
        case .serverPushBeforeCommit, .serverPushAfterCommit, .serverPullBeforeAnswer:
            try rig.restartServer(environment: fault)
            let failed = try rig.phone.client("sync")
            #expect(failed.status == 1 && failed.stderr.split(separator: "\n").count == 1, "one line: \(failed.stderr)")
            #expect(rig.server.deathSignal(within: 10) == SIGABRT, "the fault point fired: \(rig.server.log)")
            try Self.expectIntact(rig, "after the crash")
            try rig.restartServer()
        }

        try Self.expectConverged(rig)
        let library = try rig.laptop.library()
        #expect(try rig.phone.library() == library, "notes and bodies too")
        let byID = Dictionary(uniqueKeysWithValues: library.map { ($0["id"]!, $0) })
        #expect(library.count == 3)
        #expect(byID[ids[0]]?["status"] == "read" && byID[ids[0]]?["tags"] == "[\"kept\"]" && byID[ids[0]]?["notes"] == "Read this again|<null>")
        #expect(byID[ids[1]]?["favorite"] == "1" && byID[ids[1]]?["notes"] == "Pulled by the phone|<null>")
        for device in [rig.laptop, rig.phone] {
            let hits = try device.json("search", "pulled") as! [[String: Any]]
            #expect(hits.map { $0["id"] as? String } == [ids[1]], "the search index has the pulled note")
        }
        #expect(byID[ids[2]]?["progress"] == "0.4" && byID[ids[2]]?["notes"] == "Written on the phone|<null>")
        if point == .clientWriteBeforeCommit { #expect(byID[ids[1]]?["archived"] == "1") }
    }

    // MARK: Killed or cut off in the middle of a transfer

    /// `count` generated articles of ~2 KB of varied words each, added to
    /// `device` in one command: several push batches and pull pages.
    static func addLibrary(_ count: Int, to device: Device) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("readsync-library-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let words = ["river", "ledger", "copper", "violet", "harbour", "cipher", "meadow", "lantern", "quartz", "orbit", "saffron", "thistle"]
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        var paths: [String] = []
        for index in 0..<count {
            var body: [String] = []
            for _ in 0..<300 {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                body.append(words[Int(state >> 33) % words.count] + String(state >> 50))
            }
            let path = folder.appendingPathComponent("article-\(index).md").path
            try "---\nurl: https://example.org/library/\(index)\ntitle: Article \(index)\n---\n\(body.joined(separator: " "))\n"
                .write(toFile: path, atomically: true, encoding: .utf8)
            paths.append(path)
        }
        let result = try ReadSyncBinary.run(["client", "--home", device.home, "add"] + paths)
        #expect(result.status == 0, "\(result.stderr)")
    }

    /// `sync` on a device, run in the background while the test kills the server.
    final class BackgroundSync: @unchecked Sendable {
        // @unchecked: `result` is written once, before `done` is signalled,
        // and read only after waiting on it.
        private var result: ReadSyncBinary.Result?
        private let done = DispatchSemaphore(value: 0)

        init(_ device: Device) {
            DispatchQueue.global().async { [self] in
                result = try? device.client("sync")
                done.signal()
            }
        }

        func wait() -> ReadSyncBinary.Result? {
            done.wait()
            return result
        }
    }

    /// Seven fields an article: 4,900 changes, two pushes and two pages of
    /// `SyncProtocol.maxBatchChanges`.
    static let libraryCount = 700

    /// Freezes the server at `point` (its `occurrence`-th reach) while
    /// `device` syncs, SIGKILLs it there, checks the sync failed cleanly and
    /// every database is intact, and restarts the server.
    static func killServer(at point: FaultPoint, occurrence: Int, whileSyncing device: Device, _ rig: Rig) throws {
        try rig.restartServer(environment: fault("\(point.rawValue)@\(occurrence):stall"))
        let syncing = BackgroundSync(device)
        #expect(rig.server.waitForLog("fault point \(point.rawValue) reached", seconds: 60))
        rig.server.kill()
        let failed = try #require(syncing.wait())
        #expect(failed.status == 1 && failed.stderr.hasPrefix("Error: "), "\(failed.stderr.debugDescription)")
        try expectIntact(rig, "after SIGKILL")
        try rig.restartServer()
    }

    @Test func theServerKilledInTheMiddleOfALargePushLosesNothing() throws {
        let rig = try Rig()
        try Self.addLibrary(Self.libraryCount, to: rig.laptop)
        // Killed after storing the second batch, before answering.
        try Self.killServer(at: .serverPushAfterCommit, occurrence: 2, whileSyncing: rig.laptop, rig)
        #expect((try rig.laptop.json("status") as! [String: Any])["pendingChanges"] as! Int > 0, "the unanswered batches stay queued")
        let library = try Self.expectConverged(rig)
        #expect(library.count == Self.libraryCount)
    }

    @Test func theServerKilledInTheMiddleOfALargePullLosesNothing() throws {
        let rig = try Rig()
        try Self.addLibrary(Self.libraryCount, to: rig.laptop)
        try Self.sync(rig.laptop)
        // Killed before answering the phone's second page.
        try Self.killServer(at: .serverPullBeforeAnswer, occurrence: 2, whileSyncing: rig.phone, rig)
        let arrived = (try rig.phone.json("list") as! [Any]).count
        #expect(arrived > 0 && arrived < Self.libraryCount, "the first page arrived and stayed, the rest did not: \(arrived)")
        let library = try Self.expectConverged(rig)
        #expect(library.count == Self.libraryCount)
    }

    @Test func aConnectionCutInTheMiddleOfAnAnswerLosesNothing() throws {
        let rig = try Rig()
        try Self.addLibrary(Self.libraryCount, to: rig.laptop)
        try Self.sync(rig.laptop)
        // Every answer stops after 4 KB: the first page never arrives whole.
        rig.relay.cutResponses(after: 4_096)
        let failed = try rig.phone.client("sync")
        #expect(failed.status == 1 && failed.stderr.split(separator: "\n").count == 1, "one line: \(failed.stderr)")
        #expect((try rig.phone.json("list") as! [Any]).isEmpty, "nothing half-applied")
        try Self.expectIntact(rig, "after the cut")

        rig.relay.cutResponses(after: nil)
        let library = try Self.expectConverged(rig)
        #expect(library.count == Self.libraryCount)
    }
}
