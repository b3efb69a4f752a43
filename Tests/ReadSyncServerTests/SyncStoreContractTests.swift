import Foundation
import ReadSyncCore
import ReadSyncTestSupport
import Testing

@testable import ReadSyncServer

/// The rules every server store follows, run against each of them: the
/// merge, the numbering and paging of the feed, what a pusher gets back,
/// refusals, users.
struct SyncStoreContractTests {
    enum StoreUnderTest: String, CaseIterable, Sendable {
        case memory, sqlite, postgres

        /// A new, empty store, and how to dispose of it.
        /// `clock` tells the store when devices are seen.
        func make(clock: @escaping @Sendable () -> Date = Date.init) throws -> (store: any SteppedSyncStore, dispose: () -> Void) {
            switch self {
            case .memory:
                return (MemorySyncStore(clock: clock), {})
            case .sqlite:
                let directory = FileManager.default.temporaryDirectory.appendingPathComponent("readsync-contract-\(UUID().uuidString)")
                let store = try SQLiteSyncStore(directory: directory, clock: clock)
                return (
                    store,
                    {
                        try? store.close()
                        try? FileManager.default.removeItem(at: directory)
                    }
                )
            case .postgres:
                let (store, dispose) = try TestPostgres.makeStore(clock: clock)
                return (store, dispose)
            }
        }

        /// A new store with one user, alice.
        func withAlice(clock: @escaping @Sendable () -> Date = Date.init) throws -> (store: any SteppedSyncStore, user: UserID, dispose: () -> Void) {
            let (store, dispose) = try make(clock: clock)
            return (store, try store.addUserNow(name: "alice", tokenHash: "h"), dispose)
        }
    }

    static let a = NodeID("aaaa")!, b = NodeID("bbbb")!, pusher = NodeID("cccc")!

    static func change(
        _ value: String, _ node: NodeID, at physical: Int64, after previous: Change? = nil,
        field: String = "title", entity: String = "0123456789abcdef"
    ) -> Change {
        let timestamp = HLCTimestamp(physical: physical, counter: 0, node: node)
        let register = previous.map { $0.register.overwritten(with: .text(value), at: timestamp) } ?? .initial(.text(value), at: timestamp)
        return Change(key: RegisterKey(kind: .article, entity: entity, field: field), register: register)
    }

    func everything(_ store: any SteppedSyncStore, _ user: UserID, excluding origin: NodeID? = nil) throws -> ChangePage {
        try store.changesNow(for: user, after: 0, limit: 1000, excludingOrigin: origin)
    }

    @Test(arguments: StoreUnderTest.allCases)
    func concurrentVersionsAreKeptUntilAWriteThatSawThemAll(_ kind: StoreUnderTest) async throws {
        let (store, user, dispose) = try kind.withAlice()
        defer { dispose() }
        let fromA = Self.change("from A", Self.a, at: 100)
        let fromB = Self.change("from B", Self.b, at: 200)
        #expect(try store.pushNow([fromA], from: Self.a, for: user).counts == [1, 0])
        #expect(try await store.push([fromB], from: Self.b, for: user).counts == [1, 0])
        #expect(try store.pushNow([fromA, fromB], from: Self.pusher, for: user).counts == [0, 2], "re-push is a no-op")

        // Both concurrent versions are pulled, so every device can see the conflict.
        var page = try everything(store, user)
        #expect(page.changes == [fromA, fromB] && page.latest == 2)
        let stored = try #require(try store.registers(for: user)[fromA.key])
        #expect(stored == Register.merge(fromA.register, fromB.register).merged)
        #expect(stored.value == .text("from B") && stored.timestamp == fromB.timestamp, "the later timestamp wins, whatever the arrival order")

        // A later write that saw both replaces them.
        let merged = Register.merge(fromA.register, fromB.register).merged
        let resolved = Change(key: fromA.key, register: merged.overwritten(with: .text("resolved"), at: HLCTimestamp(physical: 300, counter: 0, node: Self.a)))
        #expect(try store.pushNow([resolved], from: Self.a, for: user).accepted == 1)
        page = try everything(store, user)
        #expect(page.changes == [resolved] && page.next == 3)
        #expect(try store.registers(for: user)[fromA.key] == resolved.register)

        // A device does not get back what it pushed, but its cursor still moves.
        page = try everything(store, user, excluding: Self.a)
        #expect(page.changes.isEmpty && page.next == 3 && !page.more)
        #expect(try everything(store, user, excluding: Self.b).changes == [resolved])
    }

    /// One push may carry a field twice (an old client's, or a device that
    /// wrote it again while offline): the later version sees the earlier one
    /// the same push stored, as it would across two pushes.
    @Test(arguments: StoreUnderTest.allCases)
    func aPushThatCarriesAFieldTwiceKeepsOnlyTheLaterVersion(_ kind: StoreUnderTest) throws {
        let (store, user, dispose) = try kind.withAlice()
        defer { dispose() }
        let first = Self.change("first", Self.a, at: 100)
        let url = Self.change("https://example.org/", Self.a, at: 100, field: "url")
        let second = Self.change("second", Self.a, at: 200, after: first)
        let other = Self.change("other article", Self.a, at: 200, entity: "fedcba9876543210")
        #expect(try store.pushNow([first, url, second, other], from: Self.a, for: user).counts == [4, 0])
        #expect(try everything(store, user).changes == [url, second, other])
        #expect(try store.registers(for: user)[first.key] == second.register)
        // And again after another entity's.
        let third = Self.change("third", Self.a, at: 300, after: second)
        let fourth = Self.change("fourth", Self.a, at: 400, after: third)
        #expect(try store.pushNow([third, other, fourth], from: Self.a, for: user).counts == [2, 1])
        #expect(try everything(store, user).changes == [url, other, fourth])
    }

    /// A write concurrent with the stored versions (it has not seen all of
    /// them) replaces the ones it has seen, and only those.
    @Test(arguments: StoreUnderTest.allCases)
    func aConcurrentWriteReplacesOnlyTheVersionsItHasSeen(_ kind: StoreUnderTest) throws {
        let (store, user, dispose) = try kind.withAlice()
        defer { dispose() }
        let firstFromA = Self.change("A 1", Self.a, at: 100)
        let fromB = Self.change("B", Self.b, at: 200)
        let secondFromA = Self.change("A 2", Self.a, at: 300, after: firstFromA)  // has seen A 1, not B
        _ = try store.pushNow([firstFromA], from: Self.a, for: user)
        _ = try store.pushNow([fromB], from: Self.b, for: user)
        #expect(try store.pushNow([secondFromA], from: Self.a, for: user).accepted == 1)
        #expect(try everything(store, user).changes == [fromB, secondFromA], "A 1 is superseded by A 2; B is concurrent with A 2 and stays")
    }

    /// A change that has seen a stored version but carries an earlier
    /// timestamp would lose to what it replaces: refused, nothing stored.
    @Test(arguments: StoreUnderTest.allCases)
    func aCausallyLaterChangeWithAnEarlierTimestampIsRefused(_ kind: StoreUnderTest) async throws {
        let (store, user, dispose) = try kind.withAlice()
        defer { dispose() }
        let first = Self.change("first", Self.a, at: 500)
        _ = try store.pushNow([first], from: Self.a, for: user)
        let backwards = Self.change("second", Self.a, at: 100, after: first)
        await #expect(throws: ServerMerge.Refusal.self) { try await store.push([backwards], from: Self.a, for: user) }
        let page = try everything(store, user)
        #expect(page.changes == [first] && page.latest == 1)
    }

    /// A page holds no more than `SyncProtocol.maxPageTextBytes` of text past
    /// its first version, so that large articles still come in answers a
    /// device takes; the pages still read the whole feed.
    @Test(arguments: StoreUnderTest.allCases)
    func pagesOfLargeTextsStopAtTheirSizeAndStillReadEverything(_ kind: StoreUnderTest) throws {
        let (store, user, dispose) = try kind.withAlice()
        defer { dispose() }
        let body = String(repeating: "words ", count: (ChangeValidation.maxTextBytes - 1_000) / 6)
        let pushed = (0..<12).map { Self.change("\($0) " + body, Self.a, at: 1_000 + Int64($0), field: "content", entity: String(format: "%016x", $0)) }
        for change in pushed { #expect(try store.pushNow([change], from: Self.a, for: user).accepted == 1) }
        var cursor: Int64 = 0, seen: [Change] = [], pages = 0
        while true {
            let page = try store.changesNow(for: user, after: cursor, limit: 1_000, excludingOrigin: nil)
            #expect(!page.changes.isEmpty)
            #expect(page.changes.dropFirst().map { $0.value.text?.utf8.count ?? 0 }.reduce(0, +) <= SyncProtocol.maxPageTextBytes)
            seen += page.changes
            cursor = page.next
            pages += 1
            if !page.more { break }
        }
        #expect(seen == pushed && cursor == 12)
        #expect(pages == 2, "eight versions of 4 MiB fill a page of 32 MiB")
    }

    /// Paging in any page size reads every current version exactly once, in
    /// sequence order, with no holes: `next` and `more` tell where to go on.
    @Test(arguments: StoreUnderTest.allCases)
    func pagesOfAnySizeReadTheFeedWithoutHolesOrRepeats(_ kind: StoreUnderTest) throws {
        let (store, user, dispose) = try kind.withAlice()
        defer { dispose() }
        var pushed: [Change] = []
        for index in 0..<23 {
            let node = index % 3 == 0 ? Self.b : Self.a
            pushed.append(Self.change("v\(index)", node, at: 1_000 + Int64(index), field: "title", entity: String(format: "%016x", index)))
        }
        #expect(try store.pushNow(Array(pushed[0..<10]), from: Self.a, for: user).accepted == 10)
        #expect(try store.pushNow(Array(pushed[10...]), from: Self.b, for: user).accepted == 13)
        // Two overwrites: their fields move to the end of the feed.
        let overwrites = [3, 12].map { Self.change("again \($0)", Self.a, at: 2_000 + Int64($0), after: pushed[$0], entity: pushed[$0].entity) }
        #expect(try store.pushNow(overwrites, from: Self.a, for: user).accepted == 2)
        #expect(
            try store.pushNow(
                [Self.change("same clock as again 12", Self.a, at: 2_012, after: pushed[12], entity: pushed[12].entity)],
                from: Self.a, for: user
            ).ignored == 1, "a version with a vector already seen is ignored")
        let expected = pushed.enumerated().filter { ![3, 12].contains($0.offset) }.map(\.element) + overwrites
        for limit in [1, 2, 5, 7, 100] {
            var cursor: Int64 = 0, seen: [Change] = []
            while true {
                let page = try store.changesNow(for: user, after: cursor, limit: limit, excludingOrigin: nil)
                #expect(page.changes.count <= limit && page.latest == 25)
                seen += page.changes
                #expect(page.next >= cursor)
                cursor = page.next
                if !page.more { break }
            }
            #expect(seen == expected, "page size \(limit)")
            #expect(cursor == 25)
        }
        // What one device pushed is left out for it, and its cursor still reaches the end.
        let forB = try store.changesNow(for: user, after: 0, limit: 4, excludingOrigin: Self.b)
        #expect(forB.changes == Array(expected.prefix(4)) && forB.more)
    }

    @Test(arguments: StoreUnderTest.allCases)
    func usersSeeOnlyTheirOwnData(_ kind: StoreUnderTest) throws {
        let (store, dispose) = try kind.make()
        defer { dispose() }
        let alice = try store.addUserNow(name: "alice", tokenHash: "ha")
        let bob = try store.addUserNow(name: "bob", tokenHash: "hb")
        let hers = Self.change("hers", Self.a, at: 100)
        let his = Self.change("his", Self.b, at: 100)  // the same field of the same article id
        _ = try store.pushNow([hers], from: Self.a, for: alice)
        _ = try store.pushNow([his], from: Self.b, for: bob)
        #expect(try everything(store, alice).changes == [hers])
        #expect(try everything(store, bob).changes == [his])
        #expect(try store.registers(for: bob) == [his.key: his.register])
    }

    @Test(arguments: StoreUnderTest.allCases)
    func usersAreManagedByNameAndATokenWorksUntilReplacedOrRevoked(_ kind: StoreUnderTest) async throws {
        let (store, dispose) = try kind.make()
        defer { dispose() }
        let alice = try store.addUserNow(name: "alice", tokenHash: "one")
        #expect(try await store.user(forTokenHash: "one") == alice)
        #expect(throws: UserError.exists("alice")) { try store.addUser(name: "alice", tokenHash: "two") }
        #expect(try await store.user(forTokenHash: "two") == nil)

        try store.replaceToken(name: "alice", tokenHash: "three")
        #expect(try await store.user(forTokenHash: "three") == alice, "the new token works")
        #expect(try await store.user(forTokenHash: "one") == nil, "the old one stops")
        // Signing in with a name and the token as password (OPDS): both must match.
        let carol = try store.addUserNow(name: "carol", tokenHash: "carols")
        #expect(try await store.user(named: "alice", secretHash: "three") == alice)
        #expect(try await store.user(named: "carol", secretHash: "carols") == carol)
        #expect(try await store.user(named: "carol", secretHash: "three") == nil, "alice's token is not carol's password")
        #expect(try await store.user(named: "alice", secretHash: "one") == nil)

        // wallabag apps' credentials: set, found by client id, replaced, taken away.
        let first = WallabagCredentialHashes(clientID: "readsync_one", secretHash: "s1", passwordHash: "p1")
        try store.setWallabagCredentials(name: "alice", first)
        #expect(try await store.wallabagAccount(clientID: "readsync_one") == WallabagAccount(user: alice, name: "alice", credentials: first))
        let second = WallabagCredentialHashes(clientID: "readsync_two", secretHash: "s2", passwordHash: "p2")
        try store.setWallabagCredentials(name: "alice", second)
        #expect(try await store.wallabagAccount(clientID: "readsync_one") == nil, "the old client id stops")
        #expect(try await store.wallabagAccount(clientID: "readsync_two")?.credentials == second)
        #expect(try await store.user(named: "alice", secretHash: "p2") == alice, "the wallabag password signs in e-readers too")
        #expect(try await store.user(named: "alice", secretHash: "p1") == nil)
        #expect(try await store.user(named: "carol", secretHash: "p2") == nil)
        try store.setWallabagCredentials(name: "carol", first)
        try store.setWallabagCredentials(name: "carol", nil)
        #expect(try await store.wallabagAccount(clientID: "readsync_one") == nil)
        #expect(throws: UserError.unknown("bob")) { try store.setWallabagCredentials(name: "bob", first) }

        // The web reader's password: set, replaced, taken away; never for a revoked user.
        #expect(try await store.webPassword(ofUserNamed: "alice") == nil)
        try store.setWebPassword(name: "alice", hash: "$2b$first")
        try store.setWebPassword(name: "alice", hash: "$2b$second")
        #expect(try await store.webPassword(ofUserNamed: "alice").map { [String(describing: $0.user), $0.hash] } == [String(describing: alice), "$2b$second"])
        try store.setWebPassword(name: "carol", hash: "$2b$carol")
        try store.setWebPassword(name: "carol", hash: nil)
        #expect(try await store.webPassword(ofUserNamed: "carol") == nil)
        #expect(throws: UserError.unknown("bob")) { try store.setWebPassword(name: "bob", hash: "x") }

        try store.revoke(name: "alice")
        #expect(try await store.webPassword(ofUserNamed: "alice") == nil, "a revoked user signs in nowhere")
        #expect(try await store.user(forTokenHash: "three") == nil)
        #expect(try await store.user(named: "alice", secretHash: "three") == nil)
        #expect(try await store.user(named: "alice", secretHash: "p2") == nil)
        #expect(try await store.wallabagAccount(clientID: "readsync_two") == nil, "a revoked user signs in nowhere")
        #expect(throws: UserError.unknown("bob")) { try store.revoke(name: "bob") }
        #expect(throws: UserError.unknown("bob")) { try store.replaceToken(name: "bob", tokenHash: "x") }
        #expect(try store.users().map(\.name) == ["alice", "carol"] && store.users().map(\.active) == [false, true])
    }

    /// Each commit of a push is a point of the user's history a device can
    /// show later; a store that cannot find the point a device shows (its
    /// data was restored from an older copy) starts a new lineage, and the
    /// user's epoch changes for every device.
    @Test(arguments: StoreUnderTest.allCases)
    func aDeviceShowingHistoryTheStoreLostStartsANewLineage(_ kind: StoreUnderTest) throws {
        let (store, user, dispose) = try kind.withAlice()
        defer { dispose() }
        let first = try store.pushNow([Self.change("one", Self.a, at: 100)], from: Self.a, for: user)
        let epoch = first.epoch
        let pushed = try #require(first.checkpoint)
        #expect(pushed.seq == 1)
        #expect(try store.pushNow([Self.change("one", Self.a, at: 100)], from: Self.a, for: user).checkpoint == nil, "nothing accepted, no commit")
        let second = try store.pushNow([Self.change("two", Self.b, at: 200, field: "author")], from: Self.b, for: user)
        let page = try everything(store, user)
        #expect(page.epoch == epoch && page.next == 2 && page.checkpoint == second.checkpoint, "a page ends at a point of the history")

        // Points the store has, in this epoch or another: nothing changes.
        for known in [
            KnownHistory(epoch: epoch, checkpoint: pushed), KnownHistory(epoch: epoch, checkpoint: page.checkpoint),
            KnownHistory(epoch: "another", checkpoint: HistoryCheckpoint(seq: 9, token: "0123456789abcdef")), .nothing,
        ] {
            #expect(try store.changesNow(for: user, after: 0, limit: 10, excludingOrigin: nil, known: known).epoch == epoch)
        }
        // A point beyond the history, and one the history has with another token.
        let beyond = KnownHistory(epoch: epoch, checkpoint: HistoryCheckpoint(seq: 3, token: pushed.token))
        let renewed = try store.changesNow(for: user, after: 0, limit: 10, excludingOrigin: nil, known: beyond).epoch
        #expect(renewed != epoch)
        let rewritten = KnownHistory(epoch: renewed, checkpoint: HistoryCheckpoint(seq: 2, token: pushed.token))
        let again = try store.pushNow([Self.change("three", Self.a, at: 300, field: "site")], from: Self.a, for: user, known: rewritten, chain: nil)
        #expect(again.epoch != renewed && again.epoch != epoch && again.counts == [1, 0], "the push is stored all the same")
        #expect(try everything(store, user).epoch == again.epoch, "every device is told")
    }

    /// A device's pushes form a chain of tokens; a push or pull under the
    /// same node id that does not follow the chain the store recorded comes
    /// from a second device (a cloned home), and is refused.
    @Test(arguments: StoreUnderTest.allCases)
    func aSecondDeviceUnderOneNodeIDIsRefused(_ kind: StoreUnderTest) throws {
        let (store, user, dispose) = try kind.withAlice()
        defer { dispose() }
        let (t1, t2, t3) = ("1111111111111111", "2222222222222222", "3333333333333333")
        let first = Self.change("one", Self.a, at: 100)
        #expect(try store.pushNow([first], from: Self.a, for: user, known: .nothing, chain: PushChain(previous: nil, token: t1)).pushToken == t1)
        let retried = try store.pushNow([first], from: Self.a, for: user, known: .nothing, chain: PushChain(previous: nil, token: t1))
        #expect(retried.counts == [0, 1] && retried.pushToken == t1, "the same push again, its answer lost")
        #expect(
            try store.pushNow([], from: Self.a, for: user, known: .nothing, chain: PushChain(previous: t1, token: t2)).pushToken == t2,
            "an empty push moves the chain on too")
        let second = Self.change("two", Self.a, at: 200, field: "author")
        #expect(try store.pushNow([second], from: Self.a, for: user, known: .nothing, chain: PushChain(previous: t2, token: t2)).pushToken == t2)

        // The copy still has t1 as its last push.
        let copied = Self.change("from the copy", Self.a, at: 300, field: "site")
        #expect(throws: PushRefusal.nodeInUse(Self.a)) {
            try store.pushNow([copied], from: Self.a, for: user, known: .nothing, chain: PushChain(previous: t1, token: t3))
        }
        #expect(throws: PushRefusal.nodeInUse(Self.a)) {
            try store.changesNow(for: user, after: 0, limit: 10, excludingOrigin: Self.a, known: KnownHistory(lastPush: t1))
        }
        for known in [KnownHistory(lastPush: t2), KnownHistory(lastPush: t1, pendingPush: t2)] {
            #expect(try store.changesNow(for: user, after: 0, limit: 10, excludingOrigin: Self.a, known: known).latest == 2)
        }
        #expect(
            try store.changesNow(for: user, after: 0, limit: 10, excludingOrigin: Self.b, known: .nothing).changes.count == 2,
            "another node's pulls are not concerned")
        #expect(try store.registers(for: user)[copied.key] == nil, "the refused push stored nothing")
    }
}

extension PushOutcome {
    /// Accepted and ignored, the counts a push answers with.
    var counts: [Int] { [accepted, ignored] }
}
