import Foundation
import GRDB
import ReadSyncArticles
import ReadSyncCore
import ReadSyncServer
import ReadSyncTestSupport
import Testing

@testable import ReadSyncClient

/// The sync guarantees of DESIGN.md, through a real server.
@Suite struct SyncRulesTests {
    @Test func concurrentEditsOfDifferentFieldsBothSurvive() async throws {
        let server = try await TestServer.start()
        let (_, devices) = try server.connectedDevices(2)
        let laptop = devices[0], phone = devices[1]
        let ids = try laptop.addSeeds()
        try await laptop.sync()
        try await phone.sync()

        try laptop.list.setRead(ids[0], true)
        try phone.list.setFavorite(ids[0], true)
        try await laptop.sync()
        try await phone.sync()
        try await laptop.sync()

        for device in [laptop, phone] {
            let article = try device.list.show(ids[0])
            #expect(article.status == "read" && article.favorite)
        }
        #expect(try laptop.list.conflicts().isEmpty && phone.list.conflicts().isEmpty)
        await server.destroy()
    }

    @Test func concurrentEditsOfOneFieldConvergeToTheLaterAndKeepTheLoser() async throws {
        let server = try await TestServer.start()
        let earlyClock = ManualWallClock(milliseconds: SystemWallClock().nowMilliseconds())
        let laterClock = ManualWallClock(milliseconds: earlyClock.nowMilliseconds() + 1000)
        let (_, devices) = try server.connectedDevices(2, clocks: [earlyClock, laterClock])
        let laptop = devices[0], phone = devices[1]
        let id = try laptop.addSeeds()[1]
        try await laptop.sync()
        try await phone.sync()

        try laptop.list.setProgress(id, percent: 30)  // earlier
        try phone.list.setProgress(id, percent: 70)  // later
        try await phone.sync()
        try await laptop.sync()
        try await phone.sync()

        for device in [laptop, phone] {
            #expect(try device.list.show(id).progress == 0.7)
            let conflict = try #require(try device.list.conflicts().first { $0.field == "progress" })
            #expect(conflict.articleID == id && conflict.keptValue == "0.7" && conflict.lostValue == "0.3")
            #expect(conflict.lostDevice == laptop.list.store.node.rawValue && conflict.keptDevice == phone.list.store.node.rawValue)
        }
        await server.destroy()
    }

    @Test func aDeleteReachesEveryDeviceAndAConcurrentEditDoesNotUndoIt() async throws {
        let server = try await TestServer.start()
        let (_, devices) = try server.connectedDevices(3)
        let laptop = devices[0], phone = devices[1], tablet = devices[2]
        let ids = try laptop.addSeeds()
        try laptop.list.addNote(to: ids[2], body: "zeppelin note")
        try await laptop.sync()
        try await phone.sync()
        try await tablet.sync()

        try laptop.list.delete(ids[2])
        try phone.list.setFavorite(ids[2], true)  // concurrently, offline
        try await laptop.sync()
        try await phone.sync()
        try await tablet.sync()
        try await laptop.sync()

        for device in [laptop, phone, tablet] {
            #expect(try device.list.list().map(\.id).contains(ids[2]) == false)
            #expect(try device.list.trash().map(\.id) == [ids[2]])
            #expect(try device.list.search("zeppelin").isEmpty)
            #expect(try device.list.show(ids[2]).favorite, "the concurrent edit is kept, hidden with the article")
        }

        // Restore on one device brings it back everywhere, with its note.
        try tablet.list.restore(ids[2])
        try await tablet.sync()
        try await laptop.sync()
        try await phone.sync()
        for device in [laptop, phone, tablet] {
            #expect(try device.list.show(ids[2]).notes.map(\.body) == ["zeppelin note"])
            #expect(try device.list.list().count == 3)
        }
        await server.destroy()
    }

    @Test func theSameURLSavedOfflineOnTwoDevicesIsOneArticle() async throws {
        let server = try await TestServer.start()
        let (_, devices) = try server.connectedDevices(2)
        let laptop = devices[0], phone = devices[1]
        let url = CanonicalURL("https://example.org/story?utm_source=a")!
        let a = try laptop.list.add(ArticleDraft(url: url, title: "Story", content: "The same story text")).id
        let b = try phone.list.add(ArticleDraft(url: CanonicalURL("https://EXAMPLE.org/story/#x")!, title: "Story", content: "The same story text")).id
        #expect(a == b)
        try await laptop.sync()
        try await phone.sync()
        try await laptop.sync()
        #expect(try laptop.list.list().count == 1 && phone.list.list().count == 1)
        #expect(try laptop.snapshot() == phone.snapshot())
        #expect(try laptop.list.conflicts().isEmpty && phone.list.conflicts().isEmpty, "the same values saved twice are not a conflict")
        await server.destroy()
    }

    @Test func aValueTooLargeToSyncIsRefusedAtOnceAndDoesNotBlockSync() async throws {
        let server = try await TestServer.start()
        let (_, devices) = try server.connectedDevices(2)
        let huge = String(repeating: "long words ", count: 500_000)  // 5.5 MB of text
        #expect { try devices[0].list.add(ArticleDraft(url: nil, title: "Huge", content: huge)) } throws: { error in
            guard case EditError.unsyncable = error else { return false }
            return true
        }
        try devices[0].list.add(ArticleDraft(url: nil, title: "Small", content: "fits"))
        try await devices[0].sync()
        try await devices[1].sync()
        #expect(try devices[1].list.list().map(\.title) == ["Small"])
        await server.destroy()
    }

    @Test func aDeviceWithAClockHoursAheadIsRefusedWithItsSkew() async throws {
        // Both clocks stand still, the device's exactly 3 hours ahead of the
        // server's, however long the test takes on a loaded machine.
        let now = SystemWallClock().nowMilliseconds()
        let server = try await TestServer.start(clock: ManualWallClock(milliseconds: now - 3 * 3_600_000))
        let token = try server.addUser("alice")
        let device = try TestDevice(clock: ManualWallClock(milliseconds: now))
        try device.connect(to: server, token: token)
        _ = try device.addSeeds()
        let pending = try device.list.status().pendingChanges
        do {
            try await device.sync()
            Issue.record("a push 3 hours ahead was accepted")
        } catch let error as SyncError {
            guard case .clockSkew(_, let message, _) = error else {
                Issue.record("wrong error \(error)")
                return
            }
            #expect(message.contains("3 h 0 min ahead"))
            #expect(error.description.hasPrefix("the server at \(server.url) refused the sync: this device's clock is 3 h 0 min ahead"))
        }
        #expect(try device.list.status().pendingChanges == pending, "the change log is kept for a later sync")
        await server.destroy()
    }

    /// Writes made while the clock ran hours ahead must not win every later
    /// conflict: once the clock is right, they are re-stamped and synced.
    @Test func writesFromAFormerlyFastClockAreRestampedOnceItIsRight() async throws {
        let now = SystemWallClock().nowMilliseconds()
        let fastClock = ManualWallClock(milliseconds: now + 5 * 3_600_000)
        let server = try await TestServer.start()
        let (_, devices) = try server.connectedDevices(2, clocks: [fastClock])
        let fast = devices[0], honest = devices[1]
        let ids = try fast.addSeeds()
        try fast.list.setFavorite(ids[0], true)
        await #expect(throws: SyncError.self) { try await fast.sync() }

        fastClock.set(SystemWallClock().nowMilliseconds())  // the user fixes the clock
        let summary = try await fast.sync()
        #expect(summary.restamped == summary.pushed && summary.pushed > 0)
        let stamps = try fast.list.store.registers().values.map(\.timestamp)
        #expect(stamps.allSatisfy { $0.physical < SystemWallClock().nowMilliseconds() + 60_000 })

        try await honest.sync()
        #expect(try honest.list.show(ids[0]).favorite)
        // A later write from an honest clock now wins, as it should.
        try honest.list.setFavorite(ids[0], false)
        try await honest.sync()
        try await fast.sync()
        #expect(try fast.list.show(ids[0]).favorite == false)
        await server.destroy()
    }

    /// Regression (found by the simulation, seed 98): a write accepted by the
    /// server whose acknowledgement was lost, then a later write of the same
    /// field while the clock ran hours ahead. Re-stamping the later write must
    /// keep it above the accepted one, or the earlier value wins everywhere.
    @Test(arguments: [false, true])
    func reStampingStaysAboveAnAcceptedEarlierWrite(acknowledged: Bool) async throws {
        let clock = ManualWallClock(milliseconds: SystemWallClock().nowMilliseconds())
        let server = try await TestServer.start()
        let (token, devices) = try server.connectedDevices(2, clocks: [clock])
        let device = devices[0], other = devices[1]
        let id = try device.addSeeds()[0]
        try await device.sync()
        clock.advance(by: 60_000)
        try device.list.setFavorite(id, true)
        let batch = try #require(try device.list.store.pendingBatch(limit: 100))
        let transport = CurlSyncTransport(serverURL: server.url, token: token)
        let request = PushRequest(node: device.list.store.node, changes: batch.changes)
        let answer = try await offloaded { try transport.push(request) }
        if acknowledged { try device.list.store.acknowledge(batch, checkpoint: answer.checkpoint) }  // else: the answer was lost

        clock.advance(by: 3 * 3_600_000)  // the clock jumps hours ahead…
        try device.list.setFavorite(id, false)
        clock.set(SystemWallClock().nowMilliseconds())  // …and is set right again
        let summary = try await device.sync()
        #expect(summary.restamped >= 1)

        try await other.sync()
        #expect(try other.list.show(id).favorite == false, "the later write must win")
        #expect(try device.list.show(id).favorite == false)
        await server.destroy()
    }

    /// An acknowledged entity leaves the outbox in one statement when
    /// nothing of it changed since its push was read; a note edited while
    /// its push was on its way must still wait, with its new text, and reach
    /// the other device.
    @Test func aWriteMadeWhileItsPushIsOnItsWayStillWaits() async throws {
        let server = try await TestServer.start()
        let (token, devices) = try server.connectedDevices(2)
        let device = devices[0], other = devices[1]
        let ids = try device.addSeeds()
        let note = try device.list.addNote(to: ids[0], body: "first thoughts")
        let batch = try #require(try device.list.store.pendingBatch(limit: 1000))
        #expect(batch.whole.count == Set(batch.changes.map { "\($0.kind.rawValue) \($0.entity)" }).count, "every entity sent whole")
        let request = PushRequest(node: device.list.store.node, changes: batch.changes)
        let answer = try await offloaded { try CurlSyncTransport(serverURL: server.url, token: token).push(request) }
        _ = try device.list.editNote(note, body: "second thoughts")
        try device.list.store.acknowledge(batch, checkpoint: answer.checkpoint)

        let waiting = try #require(try device.list.store.pendingBatch(limit: 1000)).changes
        #expect(waiting.map(\.entity) == [note] && waiting.map(\.field) == ["body"])
        #expect(waiting.first?.value == .text("second thoughts"))
        try await device.sync()
        try await other.sync()
        #expect(try other.list.show(ids[0]).notes.map(\.body) == ["second thoughts"])
        await server.destroy()
    }

    /// A push of articles goes gzipped, its entities compressed ahead; a
    /// push of one read mark, too small to be worth it, goes as it is. The
    /// pull of the articles comes gzipped, and is inflated by the client.
    @Test func largePushesAndPullsAreCompressedAndSmallOnesAreNot() async throws {
        let server = try await TestServer.start()
        let (token, devices) = try server.connectedDevices(2)
        let device = devices[0]
        let ids = try device.addSeeds()
        let transport = CurlSyncTransport(serverURL: server.url, token: token)
        let engine = SyncEngine(store: device.list.store, transport: transport, server: server.url)
        _ = try await offloaded { try engine.run() }
        let articles = transport.traffic
        #expect(articles.sentBytes * 2 < articles.sentUncompressedBytes, "the seeds' bodies, gzipped")

        _ = try device.list.setFavorite(ids[0], true)
        _ = try await offloaded { try engine.run() }
        let mark = transport.traffic
        #expect(mark.sentBytes - articles.sentBytes == mark.sentUncompressedBytes - articles.sentUncompressedBytes, "sent as it is")
        #expect(mark.sentBytes > articles.sentBytes)

        let pulling = CurlSyncTransport(serverURL: server.url, token: token)
        _ = try await offloaded { try SyncEngine(store: devices[1].list.store, transport: pulling, server: server.url).run() }
        #expect(pulling.traffic.receivedBytes * 2 < pulling.traffic.receivedUncompressedBytes, "the seeds' bodies, gzipped")
        #expect(try devices[1].list.search("Biden").map(\.id) == device.list.search("Biden").map(\.id))
        await server.destroy()
    }

    @Test func aStoppedServerFailsCleanlyAndTheNextSyncCompletes() async throws {
        let server = try await TestServer.start()
        let token = try server.addUser("alice")
        let device = try TestDevice()
        try device.connect(to: server, token: token)
        _ = try device.addSeeds()
        let pending = try device.list.status().pendingChanges
        await server.stop()

        await #expect(throws: SyncError.self) { try await device.sync() }
        #expect(try device.list.status().pendingChanges == pending)

        let restarted = try await TestServer.start(dataDirectory: server.dataDirectory)
        try device.repoint(to: restarted)
        let summary = try await device.sync()
        #expect(summary.pushed == pending)
        #expect(try device.list.status().pendingChanges == 0)
        await restarted.destroy()
    }

    @Test func usersAreIsolated() async throws {
        let server = try await TestServer.start()
        let alice = try TestDevice(), bob = try TestDevice()
        try alice.connect(to: server, token: try server.addUser("alice"))
        try bob.connect(to: server, token: try server.addUser("bob"))
        let ids = try alice.addSeeds()
        try await alice.sync()

        // Bob sees nothing of Alice's library…
        let bobSync = try await bob.sync()
        #expect(try bobSync.pulled == 0 && bob.list.list().isEmpty)
        // …and writing to the same article id touches only his own copy.
        try bob.list.add(ArticleDraft(url: nil, title: "Bob's", content: try String(contentsOfFile: RepositoryPaths.seed("000"), encoding: .utf8)))
        let bobID = try #require(try bob.list.list().first?.id)
        #expect(bobID == ids[0])
        try bob.list.setFavorite(bobID, true)
        try bob.list.delete(bobID)
        try await bob.sync()
        try await alice.sync()
        #expect(try alice.list.list().count == 3)
        #expect(try alice.list.show(ids[0]).favorite == false)
        #expect(try alice.list.show(ids[0]).title != "Bob's")
        await server.destroy()
    }

    /// Regression (found by the simulation, seed 10): a device that pulled a
    /// concurrent version into a field it had written and not yet pushed
    /// pushes the merge, stamped with the other device's winning write. The
    /// server left such a version out of that other device's pulls, as if it
    /// had pushed it, so the other device never learnt the first one's write
    /// and their version vectors stayed apart for good. A version's origin
    /// is now the device that pushed it.
    @Test func aMergeOfAnotherDevicesWriteStillReachesThatDevice() async throws {
        let server = try await TestServer.start()
        let (token, devices) = try server.connectedDevices(2)
        let laptop = devices[0], phone = devices[1]
        let id = try laptop.addSeeds()[0]
        try await laptop.sync()
        try await phone.sync()

        try laptop.list.setProgress(id, percent: 30)  // not pushed yet…
        usleep(5_000)
        try phone.list.setProgress(id, percent: 70)  // …and later, on the phone, pushed
        try await phone.sync()
        // The laptop pulls before it pushes (its push was lost, say): it
        // merges the phone's later write into its own and pushes the merge.
        let transport = CurlSyncTransport(serverURL: server.url, token: token)
        let state = try laptop.list.store.syncState()
        let page = try await offloaded { try transport.pull(after: state.cursor, limit: 100, node: laptop.list.store.node, known: state.known) }
        _ = try laptop.list.store.applyPulled(page.changes, cursor: page.next, checkpoint: page.checkpoint)
        try await laptop.sync()
        try await phone.sync()

        let key = RegisterKey(kind: .readState, entity: id, field: "progress")
        let onLaptop = try #require(try laptop.list.store.registers()[key])
        #expect(onLaptop.value == .double(0.7))
        #expect(try phone.list.store.registers()[key] == onLaptop, "the phone holds the laptop's write in its vector too")
        // The laptop's 30 % never left it: the laptop, which merged it away, lists it.
        #expect(try laptop.list.conflicts().map(\.lostValue) == ["0.3"])
        await server.destroy()
    }

    /// A device the server retired while its data folder was restored from
    /// an older copy: coming back, it still shows the restored server what
    /// it lost of its pushes (its checkpoint), and its favorite, accepted
    /// before the restore, comes back from it.
    @Test func aRetiredDeviceStillShowsARestoredServerWhatItLost() async throws {
        let server = try await TestServer.start()
        let (_, devices) = try server.connectedDevices(2)
        let laptop = devices[0], reader = devices[1]
        let id = try reader.addSeeds()[0]
        try await reader.sync()
        try await laptop.sync()
        await server.stop()
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("readsync-copy-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: server.dataDirectory, to: copy)
        defer { try? FileManager.default.removeItem(at: copy) }

        var running = try await TestServer.start(dataDirectory: server.dataDirectory)
        for device in [laptop, reader] { try device.repoint(to: running) }
        try reader.list.setFavorite(id, true)
        try await reader.sync()  // accepted…
        await running.stop()
        try FileManager.default.removeItem(at: running.dataDirectory)
        try FileManager.default.copyItem(at: copy, to: running.dataDirectory)  // …and lost with the disk

        running = try await TestServer.start(dataDirectory: running.dataDirectory)
        for device in [laptop, reader] { try device.repoint(to: running) }
        // Half a year passes: every device is retired.
        let report = try running.store.collectGarbage(now: Date().addingTimeInterval(200 * CollectionPolicy.days), policy: .standard)
        #expect(report.retiredDevices == 2)

        try reader.list.setProgress(id, percent: 50)
        let summary = try await reader.sync()
        #expect(summary.resynchronised, "the restored server noticed what it lost")
        try await laptop.sync()
        #expect(try laptop.list.show(id).favorite, "the favorite came back from the device that still had it")
        #expect(try laptop.list.show(id).progress == 0.5)
        await running.destroy()
    }

    /// A device back after months, told it was retired, pulls everything
    /// again from zero, page after page (the server counts it again from its
    /// first page), and its offline edit lands; the article deleted and
    /// collected meanwhile is collected on it too.
    @Test func aRetiredDeviceComesBackByPullingEverythingInSmallPages() async throws {
        let server = try await TestServer.start()
        let (token, devices) = try server.connectedDevices(2)
        let laptop = devices[0], reader = devices[1]
        let ids = try laptop.addSeeds()
        try await laptop.sync()
        try await reader.sync()
        for (index, id) in ids.enumerated() {  // more than a page the reader has not seen
            try laptop.list.setProgress(id, percent: Double(10 * (index + 1)))
            try await laptop.sync()
        }
        try laptop.list.delete(ids[2])
        try await laptop.sync()

        // With only the laptop seen for longer than the server keeps track
        // (seconds here, for months): the reader is retired and the deleted
        // article collected.
        // The round's "now" is fixed by the laptop's last sync, not read
        // after it: the store keeps sightings to the second, and a loaded
        // machine can take seconds between that sync and the round.
        try await Task.sleep(for: .seconds(4))
        let laptopSeen = Date()
        try await laptop.sync()
        let report = try server.store.collectGarbage(now: laptopSeen.addingTimeInterval(1), policy: CollectionPolicy(retireAfter: 2.5, keepTrash: 0))
        #expect(report.retiredDevices == 1 && report.articles == 1)
        #expect(try server.store.devices(ofUserNamed: "alice").filter { $0.retiredAt != nil }.count == 1)

        try reader.list.setFavorite(ids[0], true)
        let transport = InstrumentedTransport(server: server, token: token)
        let summary = try await offloaded { try reader.engine(transport, pageSize: 2).run() }
        #expect(summary.returnedFromRetirement && !summary.resynchronised && summary.pushed > 0)
        // Told at its old cursor (in its push's answer), it starts again at
        // zero and takes the whole feed, two changes a page.
        #expect(transport.pullsInPushes.first.map { $0 > 0 } == true && transport.pulls.first == 0, "\(transport.pullsInPushes), \(transport.pulls)")
        #expect(summary.pulled > 10 && transport.pulls.count >= summary.pulled / 2, "\(summary.pulled) in \(transport.pulls)")
        #expect(try server.store.devices(ofUserNamed: "alice").allSatisfy { $0.retiredAt == nil }, "back, and counted again")
        try await laptop.sync()
        for device in [laptop, reader] {
            #expect(try device.snapshot() == laptop.snapshot())
            #expect(try device.list.show(ids[0]).favorite && device.list.show(ids[0]).progress == 0.1)
            #expect(try device.list.show(ids[2]).content.isEmpty, "collected everywhere")
        }
        await server.destroy()
    }
}
