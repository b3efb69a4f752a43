import Foundation
import Testing
@testable import ReadSyncClient
import ReadSyncCore
import ReadSyncServer
import ReadSyncTestSupport

/// A field written by a newer version (here: pushed raw, as such a device
/// would) is kept by the server and by every device of this version, and
/// passed on, never dropped. (`SchemaMigrationTests` shows it materialising
/// once a version knows it.)
@Suite struct ForwardCompatibilityTests {
    @Test func aFieldThisVersionDoesNotKnowIsKeptAndPassedOn() async throws {
        let first = try await TestServer.start()
        let token = try first.addUser("alice")
        let writer = try TestDevice(), reader = try TestDevice()
        try writer.connect(to: first, token: token)
        try reader.connect(to: first, token: token)
        let id = try writer.addSeeds()[0]
        try await writer.sync()

        let newer = NodeID("0123abcd0123abcd")!
        let key = RegisterKey(kind: .article, entity: id, field: "reading_time")
        let written = Change(key: key, register: .initial(.int(7), at: HLCTimestamp(physical: SystemWallClock().nowMilliseconds(), counter: 0, node: newer)))
        let answer = try await offloaded { try CurlSyncTransport(serverURL: first.url, token: token).push(PushRequest(node: newer, changes: [written])) }
        #expect(answer.accepted == 1)

        let pulled = try await reader.sync()
        #expect(pulled.pulled >= 1)
        #expect(try reader.list.store.registers()[key] == written.register, "kept with its clock")
        #expect(try reader.list.show(id).title == (try writer.list.show(id).title), "and the article is whole")

        // The server's database is replaced: the reader sends everything it
        // has to the new one, the unknown field included.
        await first.destroy()
        let second = try await TestServer.start()
        try second.store.addUser(name: "alice", tokenHash: AccessToken.hash(token))
        try reader.repoint(to: second)
        #expect(try await reader.sync().resynchronised)
        let onServer = try await offloaded { try CurlSyncTransport(serverURL: second.url, token: token).pull(after: 0, limit: 1000, node: NodeID("ffff")!) }
        #expect(onServer.changes.contains(written), "passed on")
        await second.destroy()
    }
}
