import Foundation
import Synchronization
import Testing
import ReadSyncCore
@testable import ReadSyncServer

/// Collecting deleted articles (`Tombstone`) and retiring devices
/// (`Retirement`), run against every store like the rest of the contract.
extension SyncStoreContractTests {
    /// A clock a test sets: when the store sees devices.
    final class TestClock: Sendable {
        private let time = Mutex(Date(timeIntervalSince1970: 1_800_000_000))
        var now: Date { time.withLock { $0 } }
        func advance(days: Double) { time.withLock { $0 += days * CollectionPolicy.days } }
        var read: @Sendable () -> Date { { self.now } }
    }

    static let article = "0123456789abcdef"
    static let note = "5c1d0d4e-0000-4000-8000-000000000001"

    /// An article with a body, a read-state, a tag and a note, written by `a`
    /// at `physical`, then deleted by it: the changes, in order.
    static func deletedArticleWithFamily(at physical: Int64) -> (family: [Change], delete: Change) {
        func write(_ kind: EntityKind, _ entity: String, _ field: String, _ value: FieldValue, _ offset: Int64) -> Change {
            Change(key: RegisterKey(kind: kind, entity: entity, field: field),
                   register: .initial(value, at: HLCTimestamp(physical: physical + offset, counter: 0, node: a)))
        }
        let live = write(.article, article, "deleted", .bool(false), 0)
        let family = [
            write(.article, article, "url", .text("https://example.com/a"), 0), write(.article, article, "title", .text("A"), 0),
            write(.article, article, "added_at", .text("2027-01-15T08:00:00Z"), 0), write(.article, article, "content", .text("the body"), 0),
            live, write(.readState, article, "progress", .double(0.5), 1), write(.tag, article + "/alpha", "present", .bool(true), 1),
            write(.note, note, "article_id", .text(article), 1), write(.note, note, "body", .text("a note"), 1),
        ]
        let delete = Change(key: live.key, register: live.register.overwritten(with: .bool(true), at: HLCTimestamp(physical: physical + 2, counter: 0, node: a)))
        return (family, delete)
    }

    static let now = CollectionPolicy(retireAfter: 30 * CollectionPolicy.days, keepTrash: 0)

    /// Once every device has pulled past a delete (and past everything else
    /// written to the article), its body, read-state, tags and notes are
    /// purged and its tombstone (address, title, added-at, deleted) stays;
    /// a pull brings the collection to the devices in sequence order.
    @Test(arguments: StoreUnderTest.allCases)
    func aDeletedArticleIsCollectedOnceEveryDeviceHasPulledPastIt(_ kind: StoreUnderTest) throws {
        let clock = TestClock()
        let (store, user, dispose) = try kind.withAlice(clock: clock.read)
        defer { dispose() }
        let (family, delete) = Self.deletedArticleWithFamily(at: 1_000)
        _ = try store.pushNow(family, from: Self.a, for: user)
        let beforeDelete = try everything(store, user, excluding: Self.b).next
        store.recordSighting(of: Self.b, for: user, name: "b", pulled: beforeDelete)
        _ = try store.pushNow([delete], from: Self.a, for: user)
        store.recordSighting(of: Self.a, for: user, name: "a", pulled: try everything(store, user, excluding: Self.a).next)

        #expect(try store.collectGarbage(now: clock.now, policy: Self.now).articles == 0, "b has not pulled the delete")
        #expect(try store.collectGarbage(now: clock.now, policy: CollectionPolicy(retireAfter: 30 * CollectionPolicy.days, keepTrash: 1_000_000 * CollectionPolicy.days))
            .articles == 0)
        store.recordSighting(of: Self.b, for: user, name: "b", pulled: try everything(store, user, excluding: Self.b).next)
        let report = try store.collectGarbage(now: clock.now, policy: Self.now)
        #expect(report.articles == 1 && report.versions == 5, "content, progress, the tag and both note fields")

        let kept = try store.registers(for: user)
        #expect(Set(kept.keys.map(\.field)) == Tombstone.articleFields && kept.keys.allSatisfy { $0.kind == .article })
        #expect(kept[delete.key] == delete.register)
        let page = try everything(store, user)
        #expect(page.collected == [Self.article] && page.next == page.latest && page.changes.count == 4)
        let fromThen = try store.changesNow(for: user, after: page.latest, limit: 10, excludingOrigin: Self.b)
        #expect(fromThen.collected.isEmpty && fromThen.changes.isEmpty)
        #expect(try store.collectGarbage(now: clock.now, policy: Self.now).articles == 0, "nothing left to purge")

        // An edit that comes later (with its note whole, as devices send it)
        // lands on the tombstone, after the collection.
        let late = Change(key: RegisterKey(kind: .note, entity: Self.note, field: "body"),
                          register: .initial(.text("late"), at: HLCTimestamp(physical: 5_000, counter: 0, node: Self.b)))
        let itsArticle = family.first { $0.kind == .note && $0.field == "article_id" }!
        _ = try store.pushNow([itsArticle, late], from: Self.b, for: user)
        let again = try everything(store, user)
        #expect(again.collected == [Self.article] && again.changes.suffix(2) == [itsArticle, late])

        // Once every device has it, it stays in the trash for `keepTrash`
        // from the first round that saw it, then goes too.
        for node in [Self.a, Self.b] { store.recordSighting(of: node, for: user, name: nil, pulled: again.latest) }
        let aDay = CollectionPolicy(retireAfter: 30 * CollectionPolicy.days, keepTrash: CollectionPolicy.days)
        #expect(try store.collectGarbage(now: clock.now, policy: aDay).articles == 0)
        clock.advance(days: 0.5)
        #expect(try store.collectGarbage(now: clock.now, policy: aDay).articles == 0)
        clock.advance(days: 0.6)
        for node in [Self.a, Self.b] { store.recordSighting(of: node, for: user, name: nil, pulled: again.latest) }
        let last = try store.collectGarbage(now: clock.now, policy: aDay)
        #expect(last.articles == 1 && last.versions == 2)
        #expect(try store.registers(for: user)[late.key] == nil)
    }

    /// A push from a device whose cursor is below a collection waits until
    /// it has pulled: what it says about a collected article must meet the
    /// device's purge first (the pull leaves out the device's own pushes).
    @Test(arguments: StoreUnderTest.allCases)
    func aPushFromBeforeACollectionWaitsUntilTheDeviceHasPulledIt(_ kind: StoreUnderTest) throws {
        let clock = TestClock()
        let (store, user, dispose) = try kind.withAlice(clock: clock.read)
        defer { dispose() }
        let (family, delete) = Self.deletedArticleWithFamily(at: 1_000)
        let pushed = try store.pushNow(family + [delete], from: Self.a, for: user)
        let cursor = try everything(store, user, excluding: Self.a).next
        store.recordSighting(of: Self.a, for: user, name: nil, pulled: cursor)
        #expect(try store.collectGarbage(now: clock.now, policy: Self.now).articles == 1)
        let collection = try everything(store, user).latest

        let edit = Self.change("elsewhere", Self.a, at: 9_000, entity: "fedcba9876543210")
        let before = KnownHistory(epoch: pushed.epoch, checkpoint: pushed.checkpoint, cursor: cursor)
        #expect(throws: PushRefusal.pullFirst(Self.a)) { try store.pushNow([edit], from: Self.a, for: user, known: before, chain: nil) }
        #expect(try store.registers(for: user)[edit.key] == nil)
        let after = KnownHistory(epoch: pushed.epoch, checkpoint: pushed.checkpoint, cursor: collection)
        #expect(try store.pushNow([edit], from: Self.a, for: user, known: after, chain: nil).accepted == 1)
        #expect(try store.pushNow([edit], from: Self.a, for: user, known: KnownHistory(epoch: "another", cursor: 0), chain: nil).ignored == 1,
                "a device of another epoch starts again anyway")
    }

    /// A device unseen for longer than `retireAfter` is retired: the
    /// collection goes on without it, and it is refused until it pulls from
    /// zero, which brings it back.
    @Test(arguments: StoreUnderTest.allCases)
    func aDeviceAwayTooLongIsRetiredAndComesBackByPullingEverything(_ kind: StoreUnderTest) throws {
        let clock = TestClock()
        let (store, user, dispose) = try kind.withAlice(clock: clock.read)
        defer { dispose() }
        let (family, delete) = Self.deletedArticleWithFamily(at: 1_000)
        let pushedByB = try store.pushNow([Self.change("b", Self.b, at: 500, entity: "fedcba9876543210")], from: Self.b, for: user)
        let bKnows = KnownHistory(epoch: pushedByB.epoch, checkpoint: pushedByB.checkpoint)
        store.recordSighting(of: Self.b, for: user, name: "b", pulled: 1)
        _ = try store.pushNow(family + [delete], from: Self.a, for: user)
        clock.advance(days: 40)
        store.recordSighting(of: Self.a, for: user, name: "a", pulled: try everything(store, user, excluding: Self.a).next)

        let report = try store.collectGarbage(now: clock.now, policy: Self.now)
        #expect(report.retiredDevices == 1 && report.articles == 1)
        #expect(try store.devices(ofUserNamed: "alice").map { $0.retiredAt != nil } == [false, true], "a, then b")

        let offline = Self.change("offline", Self.b, at: 900, field: "author", entity: "fedcba9876543210")
        #expect(throws: PushRefusal.deviceRetired(Self.b)) { try store.pushNow([offline], from: Self.b, for: user, known: bKnows, chain: nil) }
        #expect(throws: PushRefusal.deviceRetired(Self.b)) { try store.changesNow(for: user, after: 1, limit: 10, excludingOrigin: Self.b, known: bKnows) }
        let everythingAgain = try store.changesNow(for: user, after: 0, limit: 1000, excludingOrigin: Self.b, known: KnownHistory(epoch: bKnows.epoch))
        #expect(everythingAgain.collected == [Self.article])
        #expect(try store.devices(ofUserNamed: "alice").allSatisfy { $0.retiredAt == nil })
        #expect(try store.pushNow([offline], from: Self.b, for: user, known: KnownHistory(epoch: bKnows.epoch, checkpoint: everythingAgain.checkpoint),
                                  chain: nil).accepted == 1)
        #expect(try store.collectGarbage(now: clock.now, policy: Self.now).retiredDevices == 0, "seen again")
    }

    /// The history below every device's pulls is collected too: a device
    /// showing a checkpoint from there is not taken for one that saw a lost
    /// history (a store restored from an older copy has a lower floor).
    @Test(arguments: StoreUnderTest.allCases)
    func historyNoDeviceNeedsIsCollectedAndAnOlderCheckpointIsNotLost(_ kind: StoreUnderTest) throws {
        let clock = TestClock()
        let (store, user, dispose) = try kind.withAlice(clock: clock.read)
        defer { dispose() }
        var checkpoints: [HistoryCheckpoint] = []
        for index in 0..<5 {
            checkpoints.append(try #require(try store.pushNow([Self.change("v\(index)", Self.a, at: 100 + Int64(index), field: "title\(index)")],
                                                              from: Self.a, for: user).checkpoint))
        }
        store.recordSighting(of: Self.a, for: user, name: "a", pulled: 5)
        let epoch = try everything(store, user).epoch
        #expect(try store.collectGarbage(now: clock.now, policy: Self.now).historyCommits == 4, "the commits of 1…4; 5 holds the horizon")

        let old = KnownHistory(epoch: epoch, checkpoint: checkpoints[1])
        #expect(try store.changesNow(for: user, after: 2, limit: 10, excludingOrigin: Self.b, known: old).epoch == epoch, "not lost: no new lineage")
        let fromZero = try store.changesNow(for: user, after: 0, limit: 2, excludingOrigin: Self.b, known: .nothing)
        #expect(fromZero.checkpoint == nil, "no commit names a point below the floor")
        let current = KnownHistory(epoch: epoch, checkpoint: checkpoints[4])
        #expect(try store.changesNow(for: user, after: 5, limit: 10, excludingOrigin: Self.b, known: current).checkpoint == checkpoints[4])
    }

    /// A device the store does not know (forgotten, or from before devices
    /// were kept) whose checkpoint predates a collection is taken for a
    /// retired one; its pull from zero makes it known, page after page.
    @Test(arguments: StoreUnderTest.allCases)
    func anUnknownDeviceFromBeforeACollectionPullsEverythingFirst(_ kind: StoreUnderTest) throws {
        let clock = TestClock()
        let (store, user, dispose) = try kind.withAlice(clock: clock.read)
        defer { dispose() }
        let (family, delete) = Self.deletedArticleWithFamily(at: 1_000)
        let pushed = try store.pushNow(family + [delete], from: Self.a, for: user)
        store.recordSighting(of: Self.a, for: user, name: nil, pulled: try everything(store, user, excluding: Self.a).next)
        #expect(try store.collectGarbage(now: clock.now, policy: Self.now).articles == 1)

        let stranger = NodeID("dddd")!
        let old = KnownHistory(epoch: pushed.epoch, checkpoint: pushed.checkpoint, cursor: pushed.checkpoint!.seq)
        #expect(throws: PushRefusal.deviceRetired(stranger)) { try store.pushNow([], from: stranger, for: user, known: old, chain: nil) }
        #expect(throws: PushRefusal.deviceRetired(stranger)) {
            try store.changesNow(for: user, after: pushed.checkpoint!.seq, limit: 10, excludingOrigin: stranger, known: old)
        }
        var page = try store.changesNow(for: user, after: 0, limit: 2, excludingOrigin: stranger, known: old)
        var collected = page.collected
        while page.more {
            page = try store.changesNow(for: user, after: page.next, limit: 2, excludingOrigin: stranger, known: old)
            collected += page.collected
        }
        #expect(collected == [Self.article])
        #expect(try store.devices(ofUserNamed: "alice").map(\.node).sorted() == [Self.a.rawValue, stranger.rawValue])
        let caughtUp = KnownHistory(epoch: pushed.epoch, checkpoint: page.checkpoint, cursor: page.next)
        #expect(try store.pushNow([Self.change("x", stranger, at: 9_000, entity: "fedcba9876543210")], from: stranger, for: user, known: caughtUp,
                                  chain: nil).accepted == 1)
    }
}
