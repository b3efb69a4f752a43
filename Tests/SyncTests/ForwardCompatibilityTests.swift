import Foundation
import ReadSyncCore
import ReadSyncServer
import ReadSyncTestSupport
import Testing

@testable import ReadSyncClient

/// A field or an entity kind introduced by a newer version (here: pushed
/// raw, as such a device would) is kept by the server and by every device of
/// this version, and passed on, never dropped. (`SchemaMigrationTests` shows
/// both materialising once a version knows them.)
@Suite struct ForwardCompatibilityTests {
    @Test func aFieldThisVersionDoesNotKnowIsKeptAndPassedOn() async throws {
        try await expectKeptAndPassedOn { articleID, newer, now in
            [Change(key: RegisterKey(kind: .article, entity: articleID, field: "reading_time"), register: .initial(.int(7), at: now))]
        }
    }

    /// A kind a newer version introduced (here `highlight`): every field of
    /// its entities is unknown here, and each is kept with its clock.
    @Test func anEntityOfAKindThisVersionDoesNotKnowIsKeptAndPassedOn() async throws {
        try await expectKeptAndPassedOn { articleID, newer, now in
            let highlight = RegisterKey(kind: EntityKind(rawValue: "highlight")!, entity: "h-1", field: "text")
            let on = RegisterKey(kind: highlight.kind, entity: "h-1", field: "article_id")
            return [
                Change(key: highlight, register: .initial(.text("a sentence worth keeping"), at: now)),
                Change(key: on, register: .initial(.text(articleID), at: now)),
            ]
        }
    }

    /// A newer version's device pushes what `written` makes; a device of this
    /// version pulls it, keeps it and, when the server's database is
    /// replaced, sends it to the new one.
    private func expectKeptAndPassedOn(_ written: (_ articleID: String, _ newer: NodeID, _ now: HLCTimestamp) -> [Change]) async throws {
        let first = try await TestServer.start()
        let token = try first.addUser("alice")
        let writer = try TestDevice(), reader = try TestDevice()
        try writer.connect(to: first, token: token)
        try reader.connect(to: first, token: token)
        let id = try writer.addSeeds()[0]
        try await writer.sync()

        let newer = NodeID("0123abcd0123abcd")!
        let changes = written(id, newer, HLCTimestamp(physical: SystemWallClock().nowMilliseconds(), counter: 0, node: newer))
        let answer = try await offloaded { try CurlSyncTransport(serverURL: first.url, token: token).push(PushRequest(node: newer, changes: changes)) }
        #expect(answer.accepted == changes.count)

        let pulled = try await reader.sync()
        #expect(pulled.pulled >= changes.count)
        let kept = try reader.list.store.registers()
        for change in changes { #expect(kept[change.key] == change.register, "\(change.key) kept with its clock") }
        #expect(try reader.list.show(id).title == (try writer.list.show(id).title), "and the article is whole")

        // The server's database is replaced: the reader sends everything it
        // has to the new one, what it does not know included.
        await first.destroy()
        let second = try await TestServer.start()
        try second.store.addUser(name: "alice", tokenHash: AccessToken.hash(token))
        try reader.repoint(to: second)
        #expect(try await reader.sync().resynchronised)
        let onServer = try await offloaded { try CurlSyncTransport(serverURL: second.url, token: token).pull(after: 0, limit: 1000, node: NodeID("ffff")!) }
        for change in changes { #expect(onServer.changes.contains(change), "\(change.key) passed on") }
        await second.destroy()
    }
}
