import Foundation
import ReadSyncCore
import Synchronization
import Testing

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
            Change(
                key: RegisterKey(kind: kind, entity: entity, field: field),
                register: .initial(value, at: HLCTimestamp(physical: physical + offset, counter: 0, node: a)))
        }
        let live = write(.article, article, "deleted", .bool(false), 0)
        let family = [
            write(.article, article, "url", .text("https://example.com/a"), 0), write(.article, article, "title", .text("A"), 0),
            write(.article, article, "added_at", .text("2027-01-15T08:00:00Z"), 0), write(.article, article, "content", .text("the body"), 0),
            live, write(.readState, article, "progress", .double(0.5), 1), write(.tag, article + "/alpha", "present", .bool(true), 1),
            write(.note, note, "article_id", .text(article), 1), write(.note, note, "body", .text("a note"), 1),
        ]
        let delete = Change(
            key: live.key, register: live.register.overwritten(with: .bool(true), at: HLCTimestamp(physical: physical + 2, counter: 0, node: a)))
        return (family, delete)
    }

    static let now = CollectionPolicy(retireAfter: 30 * CollectionPolicy.days, keepTrash: 0)

    /// Once every device has pulled past a delete (and past everything else
    /// written to the article), the server writes null over its body,
    /// read-state, tags and notes' texts, with clocks that have seen what
    /// they replace; its tombstone (address, title, added-at, deleted, and
    /// each note's article) keeps its values. The purge is a write like any
    /// other: pulls bring it, a stale copy sent again changes nothing, and an
    /// edit it never saw merges with it.
    @Test(arguments: StoreUnderTest.allCases)
    func aDeletedArticleIsCollectedOnceEveryDeviceHasPulledPastIt(_ kind: StoreUnderTest) async throws {
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
        let aLongTrash = CollectionPolicy(retireAfter: 30 * CollectionPolicy.days, keepTrash: 1_000_000 * CollectionPolicy.days)
        store.recordSighting(of: Self.b, for: user, name: "b", pulled: try everything(store, user, excluding: Self.b).next)
        #expect(try store.collectGarbage(now: clock.now, policy: aLongTrash).articles == 0, "not in the trash long enough")
        let report = try store.collectGarbage(now: clock.now, policy: Self.now)
        #expect(report.articles == 1 && report.fields == 4, "content, progress, the tag and the note's body")

        let state = try store.registers(for: user)
        for change in family + [delete] {
            let register = try #require(state[change.key])
            if Tombstone.isPurged(kind: change.kind, field: change.field) {
                #expect(
                    register.value == .null && register.timestamp > change.timestamp && change.vector.compare(register.vector) == .before,
                    "\(change.key) purged by a write that saw it")
                #expect(register.timestamp.node.rawValue.hasPrefix("gc-"))
            } else {
                #expect(register == (change.key == delete.key ? delete.register : change.register), "\(change.key) kept")
            }
        }
        // A device that pulled before gets the purges like any write.
        let purges = try store.changesNow(for: user, after: beforeDelete + 1, limit: 100, excludingOrigin: Self.b)
        #expect(purges.changes.count == 4 && purges.changes.allSatisfy { $0.value == .null })
        #expect(try store.collectGarbage(now: clock.now, policy: Self.now).articles == 0, "nothing left to purge")

        // A stale copy sent again (a device back after months) changes nothing.
        let content = family.first { $0.field == "content" }!
        #expect(try store.pushNow([content], from: Self.b, for: user).ignored == 1)
        // An edit the purge never saw, made later, wins over it.
        let note = family.first { $0.kind == .note && $0.field == "body" }!
        let late = Change(key: note.key, register: note.register.overwritten(with: .text("late"), at: HLCTimestamp(physical: 5_000, counter: 0, node: Self.b)))
        #expect(try store.pushNow([late], from: Self.b, for: user).accepted == 1)
        #expect(try store.registers(for: user)[note.key]?.value == .text("late"))

        // Once every device has it, it stays in the trash for `keepTrash`
        // from the first round that saw it, then goes too.
        let latest = try everything(store, user).latest
        for node in [Self.a, Self.b] { store.recordSighting(of: node, for: user, name: nil, pulled: latest) }
        let aDay = CollectionPolicy(retireAfter: 30 * CollectionPolicy.days, keepTrash: CollectionPolicy.days)
        #expect(try store.collectGarbage(now: clock.now, policy: aDay).articles == 0)
        clock.advance(days: 0.5)
        #expect(try store.collectGarbage(now: clock.now, policy: aDay).articles == 0)
        clock.advance(days: 0.6)
        for node in [Self.a, Self.b] { store.recordSighting(of: node, for: user, name: nil, pulled: latest) }
        let last = try store.collectGarbage(now: clock.now, policy: aDay)
        #expect(last.articles == 1 && last.fields == 1)
        #expect(try store.registers(for: user)[note.key]?.value == .null)

        // An edit that loses to a purge (concurrent, earlier) is a listed
        // conflict where it meets it, and its text is collected in turn.
        let tag = family.first { $0.kind == .tag }!
        let lost = Change(key: tag.key, register: tag.register.overwritten(with: .bool(false), at: HLCTimestamp(physical: 1_001, counter: 0, node: Self.b)))
        #expect(try store.pushNow([lost], from: Self.b, for: user).accepted == 1)
        #expect(try store.registers(for: user)[tag.key]?.value == .null, "the purge is later")
        let tagEntity = EntitiesRequest.Address(kind: .tag, entity: tag.entity)
        #expect(try await store.versions(of: [tagEntity], for: user).map(\.value).contains(.bool(false)))
        for node in [Self.a, Self.b] { store.recordSighting(of: node, for: user, name: nil, pulled: try everything(store, user).latest) }
        #expect(try store.collectGarbage(now: clock.now, policy: Self.now).fields == 1)
        #expect(try await store.versions(of: [tagEntity], for: user).map(\.value) == [.null], "one purge, having seen both")
    }

    /// The server's own writes (the wallabag API) enter the feed as a
    /// device's do and reach every device, but the server is no device: it
    /// is not listed and, never pulling, does not hold back the collection.
    @Test(arguments: StoreUnderTest.allCases)
    func theServersOwnWritesReachTheDevicesWithoutHoldingBackCollection(_ kind: StoreUnderTest) async throws {
        let clock = TestClock()
        let (store, user, dispose) = try kind.withAlice(clock: clock.read)
        defer { dispose() }
        try store.addUser(name: "bob", tokenHash: "hb")
        let (family, _) = Self.deletedArticleWithFamily(at: 1_000)
        _ = try store.pushNow(family, from: Self.a, for: user)
        let live = family.first { $0.field == "deleted" }!
        let server = NodeID("5e4e4e4e4e4e4e4e")!
        let delete = Change(key: live.key, register: live.register.overwritten(with: .bool(true), at: HLCTimestamp(physical: 1_500, counter: 0, node: server)))
        let outcome = try await store.pushAsServer([delete], from: server, for: user)
        #expect(outcome.accepted == 1 && outcome.pushToken == nil)
        #expect(try await store.pushAsServer([delete], from: server, for: user).ignored == 1, "sent again: nothing new")

        #expect(try everything(store, user, excluding: Self.a).changes == [delete], "the device pulls the server's write")
        #expect(try store.devices(ofUserNamed: "alice").map(\.node) == [Self.a.rawValue], "the server is not a device")
        store.recordSighting(of: Self.a, for: user, name: "a", pulled: try everything(store, user, excluding: Self.a).next)
        #expect(try store.collectGarbage(now: clock.now, policy: Self.now).articles == 1, "once the only device has it")
        #expect(try everything(store, user).latest > 0 && store.registers(for: user)[delete.key]?.value == .bool(true))
    }

    /// Views that list a library read it without the articles' bodies
    /// (most of its bytes), and a body where they show one.
    @Test(arguments: StoreUnderTest.allCases)
    func aLibraryIsReadWithoutItsBodiesAndABodyOnItsOwn(_ kind: StoreUnderTest) async throws {
        let (store, user, dispose) = try kind.withAlice()
        defer { dispose() }
        let (family, _) = Self.deletedArticleWithFamily(at: 1_000)
        _ = try store.pushNow(family, from: Self.a, for: user)
        let whole = try await store.state(for: user).registers, listed = try await store.state(for: user, bodies: false).registers
        let content = family.first { $0.field == "content" }!
        #expect(whole[content.key]?.value == .text("the body") && listed[content.key] == nil)
        #expect(listed.count == whole.count - 1, "only the body is left out")
        #expect(try await store.bodies(of: [Self.article, "fedcba9876543210"], for: user) == [Self.article: "the body"])
    }

    /// A device unseen for longer than `retireAfter` is retired: the
    /// collection goes on without it, and its pulls say so until the server
    /// notes one (the HTTP server notes every pull), which brings it back.
    @Test(arguments: StoreUnderTest.allCases)
    func aDeviceAwayTooLongIsRetiredAndToldWhenItReturns(_ kind: StoreUnderTest) throws {
        let clock = TestClock()
        let (store, user, dispose) = try kind.withAlice(clock: clock.read)
        defer { dispose() }
        let (family, delete) = Self.deletedArticleWithFamily(at: 1_000)
        _ = try store.pushNow([Self.change("b", Self.b, at: 500, entity: "fedcba9876543210")], from: Self.b, for: user)
        store.recordSighting(of: Self.b, for: user, name: "b", pulled: 1)
        _ = try store.pushNow(family + [delete], from: Self.a, for: user)
        clock.advance(days: 40)
        store.recordSighting(of: Self.a, for: user, name: "a", pulled: try everything(store, user, excluding: Self.a).next)

        let report = try store.collectGarbage(now: clock.now, policy: Self.now)
        #expect(report.retiredDevices == 1 && report.articles == 1)
        #expect(try store.devices(ofUserNamed: "alice").map { $0.retiredAt != nil } == [false, true], "a, then b")

        #expect(try store.changesNow(for: user, after: 1, limit: 10, excludingOrigin: Self.b).retired)
        #expect(try !store.changesNow(for: user, after: 1, limit: 10, excludingOrigin: Self.a).retired)
        store.recordSighting(of: Self.b, for: user, name: nil, pulled: 1)
        #expect(try store.collectGarbage(now: clock.now, policy: Self.now).retiredDevices == 0, "seen again")
        #expect(try store.devices(ofUserNamed: "alice").allSatisfy { $0.retiredAt == nil })
        let everythingAgain = try store.changesNow(for: user, after: 0, limit: 1000, excludingOrigin: Self.b)
        #expect(!everythingAgain.retired && everythingAgain.changes.contains { $0.key == delete.key })
        #expect(everythingAgain.changes.contains { $0.value == .null && $0.timestamp.node.rawValue.hasPrefix("gc-") }, "the purges, as writes")
    }
}
