import Foundation
import GRDB
import ReadSyncArticles
import ReadSyncCore
import ReadSyncServer
import ReadSyncTestSupport
import Testing

@testable import ReadSyncClient

/// Wraps the real libcurl transport to count requests or cut a sync off.
final class InstrumentedTransport: SyncTransport, @unchecked Sendable {
    // @unchecked: used from one thread at a time.
    let inner: CurlSyncTransport
    var pulls: [Int64] = []
    var pushes = 0
    /// The changes each push carried, and the page size each pull asked for
    /// (within a push or on its own), refused ones included.
    var pushSizes: [Int] = []
    var pageSizesAsked: [Int] = []
    /// The cursor of each pull asked for within a push (`PushRequest.pull`).
    var pullsInPushes: [Int64] = []
    /// The thread each push was sent from.
    var pushThreads: [pthread_t] = []
    /// Fail (as a dropped connection would) after this many pulls.
    var failAfterPulls: Int?
    /// Answer pushes as a server that reads no pull within a push would
    /// (one older than `PushRequest.pull`).
    var answersNoPullsInPushes = false
    /// Answer as a server built before 2026-12-07 would: without saying
    /// how many changes it takes in a request (`changesPerRequest`).
    var answersAsAnEarlierBuild = false

    init(server: TestServer, token: String, earlierBuild: Bool = false) {
        inner = CurlSyncTransport(serverURL: server.url, token: token)
        answersAsAnEarlierBuild = earlierBuild
    }

    func push(_ request: PushRequest) throws -> PushResponse {
        pushes += 1
        pushThreads.append(pthread_self())
        pushSizes.append(request.changes.count)
        if let ask = request.pull {
            pullsInPushes.append(ask.after)
            pageSizesAsked.append(ask.limit)
        }
        var answer = try inner.push(request)
        if answersNoPullsInPushes { answer.pull = nil }
        if answersAsAnEarlierBuild {
            answer.changesPerRequest = nil
            answer.pull?.changesPerRequest = nil
        }
        return answer
    }

    func pull(after cursor: Int64, limit: Int, node: NodeID, known: KnownHistory) throws -> PullResponse {
        if let limit = failAfterPulls, pulls.count >= limit { throw SyncError.unreachable(server: "test", reason: "connection cut") }
        pulls.append(cursor)
        pageSizesAsked.append(limit)
        var page = try inner.pull(after: cursor, limit: limit, node: node, known: known)
        if answersAsAnEarlierBuild { page.changesPerRequest = nil }
        return page
    }
}

extension TestDevice {
    func addSeeds() throws -> [String] {
        let ingestor = ArticleIngestor()
        return try ["000", "001", "002"].map { try list.add(ingestor.draft(from: RepositoryPaths.seed($0))).id }
    }

    func engine(_ transport: InstrumentedTransport, pageSize: Int, pushBatchSize: Int = 500) -> SyncEngine {
        SyncEngine(store: list.store, transport: transport, server: "test", pageSize: pageSize, pushBatchSize: pushBatchSize)
    }
}

@Suite struct SyncRoundTripTests {
    /// A fresh device's first pull indexes the library in one pass at its
    /// end, and the index then follows every change like any other.
    @Test func aFreshDevicesFirstPullBuildsTheSearchIndexInOnePass() async throws {
        let server = try await TestServer.start()
        let (_, devices) = try server.connectedDevices(2)
        let laptop = devices[0], phone = devices[1]
        let ids = try laptop.list.inOneTransaction {
            try (0..<150).map { index in
                try laptop.list.add(
                    ArticleDraft(
                        url: CanonicalURL("https://example.org/\(index)"), title: "Story \(index)",
                        content: "Body of story \(index) with the word marker\(index).")
                ).id
            }
        }
        try laptop.list.addNote(to: ids[7], body: "a note on seven")
        try await laptop.sync()
        try await phone.sync()

        func integrityCheck(_ device: TestDevice) throws {
            #expect(try device.list.store.database.write(SearchIndex.partsOutOfStep).isEmpty)
        }
        try integrityCheck(phone)
        #expect(try phone.list.search("marker149").map(\.id) == [ids[149]])
        #expect(try phone.list.search("seven").map(\.id) == [ids[7]])
        try phone.list.delete(ids[149])
        try phone.list.addNote(to: ids[7], body: "and another")
        #expect(try phone.list.search("marker149").isEmpty)
        #expect(try phone.list.search("another seven").map(\.id) == [ids[7]])
        try integrityCheck(phone)
        await server.destroy()
    }

    @Test func aLibraryPushedByOneDeviceIsPulledIdenticalByAnother() async throws {
        let server = try await TestServer.start()
        let (_, devices) = try server.connectedDevices(2)
        let laptop = devices[0], phone = devices[1]

        let ids = try laptop.addSeeds()
        let note = try laptop.list.addNote(to: ids[1], body: "Compare with the 2015 speech", quote: "a new day")
        try laptop.list.setRead(ids[0], true)
        try laptop.list.tag(ids[2], add: ["politics"], remove: [])
        let pending = try laptop.list.status().pendingChanges

        let pushed = try await laptop.sync()
        #expect(pushed.pushed == pending && pushed.pulled == 0, "a device does not pull its own changes back")
        #expect(try laptop.list.status().pendingChanges == 0)

        let pulled = try await phone.sync()
        #expect(pulled.pulled == pending && pulled.conflicts == 0)
        #expect(try phone.snapshot() == laptop.snapshot())
        #expect(try phone.list.show(ids[1]).notes.map(\.id) == [note])
        #expect(try phone.list.search("Hannity").map(\.id) == [ids[1]])
        #expect(try phone.list.status().lastSync != nil)
        await server.destroy()
    }

    @Test func pullsInSeveralPagesAndPushesInBatches() async throws {
        let server = try await TestServer.start()
        let (token, devices) = try server.connectedDevices(2)
        let writer = devices[0], reader = devices[1]
        _ = try writer.addSeeds()
        for n in 0..<20 { try writer.list.add(ArticleDraft(url: nil, title: "Note \(n)", content: "Short article number \(n)")) }
        let total = try writer.list.status().pendingChanges
        let pusher = InstrumentedTransport(server: server, token: token)
        let pushing = writer.engine(pusher, pageSize: 7, pushBatchSize: 50)
        let (pushed, engineThread) = try await offloaded { (try pushing.run(), pthread_self()) }
        #expect(pushed.pushed == total)
        #expect(pusher.pushes == (total + 49) / 50, "one request per batch of 50")
        // A batch holds whole entities, so it is seldom exactly 50 fields; each
        // but the last still goes on a thread of its own while the next is read.
        #expect(pusher.pushThreads.dropLast().allSatisfy { $0 != engineThread }, "sent while the next batch is read")
        #expect(pusher.pushThreads.last == engineThread, "the last batch is sent at once")
        // A batch's fields leave the outbox while the next is on its way.
        #expect(try writer.list.status().pendingChanges == 0, "every batch the server stored left the outbox")

        let transport = InstrumentedTransport(server: server, token: token)
        let engine = reader.engine(transport, pageSize: 7)
        let summary = try await offloaded { try engine.run() }
        #expect(summary.pulled == total)
        #expect(transport.pulls.count == (total + 6) / 7, "one request per page of 7")
        #expect(transport.pulls == transport.pulls.sorted() && Set(transport.pulls).count == transport.pulls.count, "the cursor only moves forward")
        #expect(try reader.snapshot() == writer.snapshot())
        await server.destroy()
    }

    /// A push carries up to 4,000 changes and a page up to 4,000. A server
    /// of an earlier build takes at most 1,000 of either and refuses more
    /// (413 `too_large`): the device makes the refused request again at
    /// that size, goes on at it, and loses nothing. Every answer says what
    /// its server takes (an earlier build's says nothing), and the device
    /// remembers it: its next sync asks no more from the start.
    @Test(arguments: [
        (serverTakes: SyncProtocol.maxBatchChanges, saysSo: true), (serverTakes: SyncProtocol.changesEveryServerTakes, saysSo: true),
        (serverTakes: SyncProtocol.changesEveryServerTakes, saysSo: false),
    ])
    func aLibrarysFirstSyncGoesInRequestsAsLargeAsTheServerTakes(serverTakes: Int, saysSo: Bool) async throws {
        let server = try await TestServer.start(changesPerRequest: serverTakes)
        let (token, devices) = try server.connectedDevices(2)
        let writer = devices[0], reader = devices[1]
        try writer.list.inOneTransaction {
            for n in 0..<350 {
                try writer.list.add(ArticleDraft(url: CanonicalURL("https://example.org/\(n)"), title: "Story \(n)", content: "Body of story \(n)"))
            }
        }
        let total = try writer.list.status().pendingChanges
        try #require(total > 2 * SyncProtocol.changesEveryServerTakes && total <= 3 * SyncProtocol.changesEveryServerTakes)

        let pusher = InstrumentedTransport(server: server, token: token, earlierBuild: !saysSo)
        let pushed = try await offloaded { try SyncEngine(store: writer.list.store, transport: pusher, server: "test").run() }
        #expect(pushed.pushed == total)
        #expect(try writer.list.status().pendingChanges == 0)
        let puller = InstrumentedTransport(server: server, token: token, earlierBuild: !saysSo)
        let pulled = try await offloaded { try SyncEngine(store: reader.list.store, transport: puller, server: "test").run() }
        #expect(pulled.pulled == total)
        #expect(try reader.snapshot() == writer.snapshot())

        if serverTakes == SyncProtocol.maxBatchChanges {
            #expect(pusher.pushSizes == [total], "the whole library in one push")
            #expect(puller.pageSizesAsked == [SyncProtocol.defaultPageSize], "and in one page")
        } else {
            // The first push is refused whole; the same changes then go in
            // batches the server takes (a batch holds whole entities).
            #expect(pusher.pushSizes.first == total)
            #expect(pusher.pushSizes.dropFirst().allSatisfy { $0 <= serverTakes } && pusher.pushSizes.dropFirst().reduce(0, +) == total)
            #expect(puller.pageSizesAsked == [SyncProtocol.defaultPageSize, serverTakes, serverTakes, serverTakes])
        }
        #expect(try writer.list.store.syncState().serverTakes == serverTakes && reader.list.store.syncState().serverTakes == serverTakes)

        // The next syncs, of a few changes each way: nothing refused.
        let ids = try writer.list.list().map(\.id)
        for id in ids.prefix(5) { try writer.list.setFavorite(id, true) }
        for id in ids.suffix(5) { try reader.list.setFavorite(id, true) }
        let (again, pushedAgain) = (
            InstrumentedTransport(server: server, token: token, earlierBuild: !saysSo),
            InstrumentedTransport(server: server, token: token, earlierBuild: !saysSo)
        )
        #expect(try await offloaded { try SyncEngine(store: writer.list.store, transport: pushedAgain, server: "test").run() }.pushed == 5)
        #expect(try await offloaded { try SyncEngine(store: reader.list.store, transport: again, server: "test").run() }.pushed == 5)
        #expect(pushedAgain.pageSizesAsked == [serverTakes] && again.pageSizesAsked == [serverTakes], "asked no more than the server takes")
        _ = try await offloaded { try SyncEngine(store: writer.list.store, transport: pushedAgain, server: "test").run() }
        #expect(try reader.snapshot() == writer.snapshot())
        await server.destroy()
    }

    /// A sync's last push asks for the first page of the pull that follows
    /// it, and the server answers it with the push: a device with writes of
    /// its own and less than a page to take syncs in one request. From a
    /// server that does not answer it (an older one), it pulls as before;
    /// with more than a page, it pulls the rest from where that page ended.
    @Test(arguments: [(answered: true, pageSize: 1_000), (answered: false, pageSize: 1_000), (answered: true, pageSize: 2)])
    func aSyncsLastPushBringsTheFirstPageOfItsPull(answered: Bool, pageSize: Int) async throws {
        let server = try await TestServer.start()
        let (token, devices) = try server.connectedDevices(2)
        let laptop = devices[0], phone = devices[1]
        let ids = try laptop.addSeeds()
        try await laptop.sync()
        try await phone.sync()
        try laptop.list.setFavorite(ids[0], true)
        try laptop.list.setProgress(ids[1], percent: 30)
        try laptop.list.addNote(to: ids[1], body: "read this part again")
        let laptopWrote = try laptop.list.status().pendingChanges
        try await laptop.sync()
        let cursor = try phone.list.store.syncState().cursor

        try phone.list.setProgress(ids[2], percent: 40)
        let phoneWrote = try phone.list.status().pendingChanges
        let transport = InstrumentedTransport(server: server, token: token)
        transport.answersNoPullsInPushes = !answered
        let summary = try await offloaded { try phone.engine(transport, pageSize: pageSize).run() }
        #expect(summary.pushed == phoneWrote && summary.pulled == laptopWrote)
        #expect(transport.pushes == 1 && transport.pullsInPushes == [cursor])
        switch (answered, pageSize) {
        case (false, _): #expect(transport.pulls == [cursor], "pulled on its own, from the same cursor")
        case (true, 1_000): #expect(transport.pulls.isEmpty, "one request in all")
        default: #expect(transport.pulls.count == (laptopWrote - 1) / 2 && transport.pulls.allSatisfy { $0 > cursor }, "the rest, after the first page")
        }
        // Its cursor is past everything: the next sync takes nothing again.
        let next = InstrumentedTransport(server: server, token: token)
        #expect(try await offloaded { try phone.engine(next, pageSize: pageSize).run() }.pulled == 0)
        try await laptop.sync()
        #expect(try phone.snapshot() == laptop.snapshot())
        await server.destroy()
    }

    /// The name a device is listed under travels with the pull its push asks
    /// for: a device that has written something at every sync, and so never
    /// pulled on its own, is listed under it all the same.
    @Test func aDeviceThatPullsOnlyWithinItsPushesIsListedUnderItsName() async throws {
        let server = try await TestServer.start()
        let (token, devices) = try server.connectedDevices(2)
        let laptop = devices[0], reader = devices[1]
        let ids = try laptop.addSeeds()
        try await laptop.sync()
        try reader.list.configureServer(url: server.url, token: token, deviceName: "Kobo in the hall")
        try reader.list.add(ArticleDraft(url: nil, title: "Saved on the reader", content: "A short article."))
        let transport = InstrumentedTransport(server: server, token: token)
        let summary = try await offloaded { try reader.engine(transport, pageSize: 1_000).run() }
        #expect(summary.pushed > 0 && summary.pulled > 0 && transport.pulls.isEmpty, "its first sync was one push")
        // The sighting is written in a writer turn of its own, before the
        // laptop's next push is merged.
        try laptop.list.setFavorite(ids[0], true)
        try await laptop.sync()
        let listed = try server.store.devices(ofUserNamed: "alice").first { $0.node == reader.list.store.node.rawValue }
        #expect(listed?.name == "Kobo in the hall")
        await server.destroy()
    }

    /// Each field may hold 4 MiB of text, and a request 16 MiB: an article
    /// with four fields near their limit, of text that doubles when escaped
    /// in JSON, is more than one request may carry. It goes a field or two
    /// at a time, and the device's next writes are not stuck behind it.
    @Test func anArticleLargerThanARequestIsPushedInPieces() async throws {
        let server = try await TestServer.start()
        let (_, devices) = try server.connectedDevices(2)
        let laptop = devices[0], phone = devices[1]
        // 3 bytes of text, 5 in JSON (\" and \\ escaped).
        func large(_ name: String) -> String { name + String(repeating: "\"\\a", count: (ChangeValidation.maxTextBytes - 100) / 3) }
        let draft = ArticleDraft(
            url: CanonicalURL("https://example.org/long-read"), title: large("title"), author: large("author"), site: large("site"),
            content: large("body"))
        #expect(draft.fields.compactMap { $0.value.text?.utf8.count }.reduce(0, +) > SyncProtocol.maxRequestBytes * 3 / 4)
        let id = try laptop.list.add(draft).id
        let later = try laptop.list.addNote(to: id, body: "Written after it")

        let pushed = try await laptop.sync()
        #expect(try laptop.list.status().pendingChanges == 0)
        let pulled = try await phone.sync()
        #expect(pulled.pulled == pushed.pushed)
        let article = try phone.list.show(id)
        #expect(article.title == draft.title && article.author == draft.author && article.site == draft.site)
        #expect(article.content == draft.content)
        #expect(article.notes.map(\.id) == [later])
        await server.destroy()
    }

    /// The next batch is read while a push is on its way, before its
    /// answer says what the server takes. A first batch cut short by its
    /// size in bytes (an article of megabytes) leaves more than a server of
    /// an earlier build takes for the next one, read at 4,000: it is read
    /// again at 1,000, and nothing is refused twice or lost.
    @Test func aBatchReadBeforeTheServerSaidWhatItTakesIsReadAgainNoLarger() async throws {
        let server = try await TestServer.start(changesPerRequest: SyncProtocol.changesEveryServerTakes)
        let (token, devices) = try server.connectedDevices(2)
        let laptop = devices[0], phone = devices[1]
        func large(_ name: String) -> String { name + String(repeating: "a", count: ChangeValidation.maxTextBytes - 100) }
        try laptop.list.add(
            ArticleDraft(
                url: CanonicalURL("https://example.org/long-read"), title: large("title"), author: large("author"), site: large("site"),
                content: large("body")))
        try laptop.list.inOneTransaction {
            for n in 0..<200 {
                try laptop.list.add(ArticleDraft(url: CanonicalURL("https://example.org/\(n)"), title: "Story \(n)", content: "Body \(n)"))
            }
        }
        let total = try laptop.list.status().pendingChanges
        try #require(total > SyncProtocol.changesEveryServerTakes + 100)

        let transport = InstrumentedTransport(server: server, token: token, earlierBuild: true)
        let pushed = try await offloaded { try SyncEngine(store: laptop.list.store, transport: transport, server: "test").run() }
        #expect(pushed.pushed == total)
        #expect(transport.pushSizes.count >= 3 && transport.pushSizes.first! < SyncProtocol.changesEveryServerTakes)
        #expect(transport.pushSizes.allSatisfy { $0 <= SyncProtocol.changesEveryServerTakes }, "none refused: \(transport.pushSizes)")
        _ = try await phone.sync()
        #expect(try phone.snapshot() == laptop.snapshot())
        await server.destroy()
    }

    /// Notes come after their articles in the server's log, so a paged pull
    /// brings an article's text in one page and its notes in later ones.
    @Test func searchFindsANotePulledInALaterPageThanItsArticle() async throws {
        let server = try await TestServer.start()
        let (token, devices) = try server.connectedDevices(2)
        let writer = devices[0], reader = devices[1]
        let ids = try writer.addSeeds()
        try await writer.sync()
        try writer.list.addNote(to: ids[0], body: "Remember the axolotl paragraph")
        try writer.list.addNote(to: ids[2], body: "Compare with the capybara speech", quote: "a quoted wombat")
        try writer.list.delete(ids[1])
        try await writer.sync()

        let transport = InstrumentedTransport(server: server, token: token)
        let engine = reader.engine(transport, pageSize: 4)
        _ = try await offloaded { try engine.run() }
        #expect(transport.pulls.count > 2)
        #expect(try reader.list.search("axolotl").map(\.id) == [ids[0]])
        #expect(try reader.list.search("capybara").map(\.id) == [ids[2]])
        #expect(try reader.list.search("wombat").map(\.id) == [ids[2]])
        #expect(try reader.list.search("Hannity").isEmpty, "the article deleted in a later page left the index")
        #expect(try reader.list.search("Biden").map(\.id) == writer.list.search("Biden").map(\.id))
        #expect(
            try reader.list.store.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM search_queue") } == 0,
            "a completed pull leaves nothing to index")
        await server.destroy()
    }

    /// A pull cut off between pages has committed pages whose search entries
    /// wait in the queue: a search made before the next sync still sees them.
    @Test func searchSeesEveryAppliedPageOfAPullThatWasCutOff() async throws {
        let server = try await TestServer.start()
        let (token, devices) = try server.connectedDevices(2)
        let writer = devices[0], reader = devices[1]
        let ids = try writer.addSeeds()
        try await writer.sync()
        _ = try await reader.sync()
        try writer.list.addNote(to: ids[0], body: "First pulled note about narwhals")
        for n in 0..<6 { try writer.list.addNote(to: ids[1], body: "Later note \(n) about walruses") }
        try await writer.sync()

        // The first page holds the first note's four registers, and no more.
        let cut = InstrumentedTransport(server: server, token: token)
        cut.failAfterPulls = 1
        let engine = reader.engine(cut, pageSize: 4)
        await #expect(throws: SyncError.self) { _ = try await offloaded { try engine.run() } }
        #expect(
            try reader.list.store.read { try String.fetchAll($0, sql: "SELECT part FROM search_queue") } == ["notes"],
            "the applied page queued its article's notes; its body stayed in the index")
        #expect(try reader.list.search("narwhals").map(\.id) == [ids[0]])
        #expect(try reader.list.store.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM search_queue") } == 0)

        _ = try await reader.sync()
        #expect(try reader.list.search("walruses").map(\.id) == [ids[1]])
        #expect(try reader.snapshot() == writer.snapshot())
        await server.destroy()
    }

    @Test func pushingTheSameBatchTwiceChangesNothing() async throws {
        let server = try await TestServer.start()
        let token = try server.addUser("alice")
        let device = try TestDevice()
        _ = try device.addSeeds()
        let batch = try #require(try device.list.store.pendingBatch(limit: 1000))
        let request = PushRequest(node: device.list.store.node, changes: batch.changes)
        let transport = CurlSyncTransport(serverURL: server.url, token: token)

        let first = try await offloaded { try transport.push(request) }
        let afterFirst = try await offloaded { try transport.pull(after: 0, limit: 1000, node: NodeID("ffff")!) }
        // The response was "lost": the client sends the same batch again.
        let second = try await offloaded { try transport.push(request) }
        let afterSecond = try await offloaded { try transport.pull(after: 0, limit: 1000, node: NodeID("ffff")!) }

        #expect(first.accepted == batch.changes.count && first.ignored == 0)
        #expect(second.accepted == 0 && second.ignored == batch.changes.count)
        #expect(afterSecond.changes == afterFirst.changes && afterSecond.latest == afterFirst.latest)
        await server.destroy()
    }

    @Test func anInterruptedPullResumesFromItsLastAppliedPage() async throws {
        let server = try await TestServer.start()
        let (token, devices) = try server.connectedDevices(2)
        let writer = devices[0], reader = devices[1]
        _ = try writer.addSeeds()
        try await writer.sync()

        let cut = InstrumentedTransport(server: server, token: token)
        cut.failAfterPulls = 2
        let engine = reader.engine(cut, pageSize: 5)
        await #expect(throws: SyncError.self) { _ = try await offloaded { try engine.run() } }
        let cursor = try reader.list.store.syncState().cursor
        #expect(cursor > 0, "the pages applied before the cut are kept with their cursor")
        let appliedRegisters = try reader.list.store.registers().count
        #expect(appliedRegisters == 10)

        let resume = InstrumentedTransport(server: server, token: token)
        let resumed = reader.engine(resume, pageSize: 5)
        _ = try await offloaded { try resumed.run() }
        #expect(resume.pulls.first == cursor, "the next sync starts where the last applied page ended")
        #expect(try reader.snapshot() == writer.snapshot())
        await server.destroy()
    }

    @Test func aNewServerEpochTriggersAFullDuplicateFreeResync() async throws {
        let first = try await TestServer.start()
        let token = try first.addUser("alice")
        let laptop = try TestDevice(), phone = try TestDevice()
        try laptop.connect(to: first, token: token)
        let ids = try laptop.addSeeds()
        try await laptop.sync()
        try phone.connect(to: first, token: token)
        try await phone.sync()
        try phone.list.addNote(to: ids[0], body: "written on the phone")
        try await phone.sync()
        try await laptop.sync()
        let before = try laptop.snapshot()
        await first.destroy()

        // The server's database is replaced by a new, empty one, at the same address.
        let second = try await TestServer.start()
        try second.store.addUser(name: "alice", tokenHash: AccessToken.hash(token))
        #expect(second.store.epoch != first.store.epoch)
        try laptop.repoint(to: second)
        try phone.repoint(to: second)

        let laptopSync = try await laptop.sync()
        #expect(laptopSync.resynchronised)
        let phoneSync = try await phone.sync()
        #expect(phoneSync.resynchronised)
        try await laptop.sync()

        #expect(try laptop.snapshot() == before)
        #expect(try phone.snapshot() == before)
        #expect(try laptop.list.list().count == 3, "no duplicates")
        // The new server holds every register once, in its merged form.
        let registers = try laptop.list.store.registers().count
        let onServer = try await offloaded { try CurlSyncTransport(serverURL: second.url, token: token).pull(after: 0, limit: 1000, node: NodeID("ffff")!) }
        #expect(onServer.changes.count == registers, "each register once on the new server: nothing duplicated")
        await second.destroy()
    }

    @Test func aServerThatLostChangesIsResyncedToo() async throws {
        let server = try await TestServer.start()
        let token = try server.addUser("alice")
        let laptop = try TestDevice()
        try laptop.connect(to: server, token: token)
        _ = try laptop.addSeeds()
        try await laptop.sync()
        // Pretend this device had seen far more than the server now has.
        try await laptop.list.store.database.write { try MetaKey.cursor.write("999999", $0) }
        let registers = try laptop.list.store.registers().count
        let summary = try await laptop.sync()
        #expect(summary.resynchronised)
        #expect(summary.pushed == registers, "everything is sent again")
        #expect(try laptop.list.store.syncState().cursor < 999999)
        #expect(try laptop.list.list().count == 3)
        await server.destroy()
    }
}
