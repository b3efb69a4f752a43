import Foundation
import ReadSyncCore
import ReadSyncTestSupport
import Synchronization
import Testing

@testable import ReadSyncServer

/// Several servers on one PostgreSQL database behave as one server.
struct ManyServersTests {
    /// Twelve devices push at once, each through one of three servers (a
    /// store with a connection pool of its own each), while a thirteenth
    /// pulls in a loop through them in turn, moving its cursor as a device
    /// does. Commits land in whatever order the servers finish them; the
    /// puller must still end up holding every change, none skipped by a
    /// cursor that moved past a number committed late.
    @Test func theFeedHasNoHolesWhateverOrderTheServersCommitIn() async throws {
        let (servers, dispose) = try TestPostgres.makeServers(3)
        defer { dispose() }
        let user = try servers[0].addUserNow(name: "alice", tokenHash: "h")
        let (devices, batches, batchSize) = (12, 15, 4)

        let pushing = Atomic<Bool>(true)
        let pushed = Task {
            defer { pushing.store(false, ordering: .sequentiallyConsistent) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for device in 0..<devices {
                    group.addTask {
                        let node = NodeID(String(format: "d%03x", device))!
                        for batch in 0..<batches {
                            let changes = (0..<batchSize).map { index in
                                let timestamp = HLCTimestamp(physical: Int64(1_000 + batch), counter: 0, node: node)
                                return Change(
                                    key: RegisterKey(kind: .article, entity: String(format: "%04x%04x%04x0000", device, batch, index), field: "title"),
                                    register: .initial(.text("t"), at: timestamp))
                            }
                            let outcome = try await servers[(device + batch) % servers.count].push(changes, from: node, for: user)
                            #expect(outcome.accepted == batchSize)
                        }
                    }
                }
                try await group.waitForAll()
            }
        }

        var held: Set<String> = []
        var cursor: Int64 = 0
        var pulls = 0
        while true {
            // Once the pushes are done, one last round.
            let finished = !pushing.load(ordering: .sequentiallyConsistent)
            let page = try await servers[pulls % servers.count].changes(for: user, after: cursor, limit: 7, excludingOrigin: NodeID("beef")!)
            pulls += 1
            for change in page.changes { held.insert(change.entity) }
            cursor = page.next
            if page.more { continue }
            if finished { break }
            try await Task.sleep(for: .milliseconds(1))
        }
        try await pushed.value  // every push was taken
        #expect(held.count == devices * batches * batchSize, "the puller holds \(held.count) of \(devices * batches * batchSize) changes after \(pulls) pulls")
        #expect(cursor == Int64(devices * batches * batchSize))
    }

    /// Six devices write one field over and over, each new version having
    /// seen only its own previous one (concurrent with the others'), and send
    /// each as two requests through two different servers at once: the new
    /// version alone, and with the previous one again (a retry after a lost
    /// answer). Whatever order the servers take them in, the field ends
    /// with exactly one version per device, its latest: none a later write
    /// has seen is kept, and none is lost. (A server that merged against
    /// versions read before taking the user's lock would keep superseded ones.)
    @Test func aFieldWrittenConcurrentlyThroughSeveralServersKeepsOnlyWhatNoWriteHasSeen() async throws {
        let (servers, dispose) = try TestPostgres.makeServers(3)
        defer { dispose() }
        let user = try servers[0].addUserNow(name: "alice", tokenHash: "h")
        let key = RegisterKey(kind: .article, entity: "0123456789abcdef", field: "title")
        let (devices, rounds) = (6, 12)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for device in 0..<devices {
                group.addTask {
                    let node = NodeID(String(format: "d%03x", device))!
                    var previous: Change?
                    for round in 0..<rounds {
                        let timestamp = HLCTimestamp(physical: Int64(1_000 + round), counter: 0, node: node)
                        let register =
                            previous.map { $0.register.overwritten(with: .text("\(device)-\(round)"), at: timestamp) }
                            ?? .initial(.text("\(device)-\(round)"), at: timestamp)
                        let change = Change(key: key, register: register)
                        let resent = (previous.map { [$0] } ?? []) + [change]
                        async let alone = servers[(device + round) % 3].push([change], from: node, for: user)
                        async let again = servers[(device + round + 1) % 3].push(resent, from: node, for: user)
                        _ = try await (alone, again)
                        previous = change
                    }
                }
            }
            try await group.waitForAll()
        }
        let versions = try #require(try servers[2].storedVersions(for: user)[key])
        #expect(versions.count == devices, "one version per device, not \(versions.count)")
        #expect(Set(versions.compactMap { $0.value.text }) == Set((0..<devices).map { "\($0)-\(rounds - 1)" }))
        for (index, version) in versions.enumerated() {
            for (other, newer) in versions.enumerated() where other != index {
                #expect(version.vector.compare(newer.vector) != .before, "a superseded version was kept")
            }
        }
    }

    /// Servers started at the same moment on a new database create its
    /// tables once (the migrations take turns) and agree on its epoch.
    @Test func serversStartingTogetherMigrateOnceAndShareOneEpoch() throws {
        let schema = "test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let url = try TestPostgres.url()
        let opened = Mutex<[Result<PostgresSyncStore, any Error>]>([])
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            let store = Result { try PostgresSyncStore(url: url, schema: schema, maximumConnections: 2) }
            opened.withLock { $0.append(store) }
        }
        let stores = try opened.withLock { $0 }.map { try $0.get() }
        defer {
            for store in stores.dropFirst() { try? store.close() }
            try? stores[0].closeAndDropSchema()
        }
        #expect(Set(stores.map(\.epoch)).count == 1)
        try stores[0].addUser(name: "alice", tokenHash: "h")
        #expect(try stores[3].users().map(\.name) == ["alice"])
    }

    /// One database, one service: the same epoch everywhere, a user and a
    /// token made through one server work through the others, and so does
    /// what a device is known by.
    @Test func serversOnOneDatabaseShareEpochUsersTokensAndDevices() async throws {
        let (servers, dispose) = try TestPostgres.makeServers(3)
        defer { dispose() }
        #expect(Set(servers.map(\.epoch)).count == 1)
        try servers[0].addUser(name: "alice", tokenHash: "alice-hash")
        for server in servers { #expect(try await server.user(forTokenHash: "alice-hash") != nil) }
        #expect(throws: UserError.exists("alice")) { try servers[2].addUser(name: "alice", tokenHash: "other") }

        let user = try #require(try await servers[1].user(forTokenHash: "alice-hash"))
        let node = NodeID("aaaa")!
        let change = Change(
            key: RegisterKey(kind: .article, entity: "0123456789abcdef", field: "title"),
            register: .initial(.text("t"), at: HLCTimestamp(physical: 1_000, counter: 0, node: node)))
        let first = try await servers[0].push([change], from: node, for: user, known: .nothing, chain: PushChain(previous: nil, token: "aa"))
        // A second device under the same node id, through another server, is refused there too.
        await #expect(throws: PushRefusal.nodeInUse(node)) {
            _ = try await servers[1].push(
                [change], from: node, for: user, known: KnownHistory(epoch: first.epoch), chain: PushChain(previous: nil, token: "bb"))
        }
        try servers[1].revoke(name: "alice")
        for server in servers { #expect(try await server.user(forTokenHash: "alice-hash") == nil) }

        // A device seen pulling through one server (written when it closes)
        // is listed by another.
        servers[2].recordSighting(of: node, for: user, name: "laptop", pulled: 1)
        try servers[2].close()
        let device = try #require(try servers[0].devices(ofUserNamed: "alice").first)
        #expect(device.node == "aaaa" && device.name == "laptop" && device.pulled == 1)
    }
}
