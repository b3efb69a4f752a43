import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import Logging
import PostgresNIO
import ReadSyncCore
import ReadSyncTestSupport
import Synchronization
import Testing

@testable import ReadSyncServer

/// What the person running a server asks it, and how it answers when its
/// storage fails: the routes driven in process (HummingbirdTesting), over
/// real stores.
@Suite struct OperatorRoutesTests {
    static func store() throws -> (SQLiteSyncStore, URL) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("readsync-operator-\(UUID().uuidString)")
        return (try SQLiteSyncStore(directory: folder), folder)
    }

    /// A push of one new article title by a device of its own, as a client sends it.
    static func push(title: String, node: NodeID = NodeID.random(), after earlier: Int64 = 0) throws -> ByteBuffer {
        let now = Int64(Date().timeIntervalSince1970 * 1000) + earlier
        let register = Register.initial(.text(title), at: HLCTimestamp(physical: now, counter: 0, node: node))
        let change = Change(key: RegisterKey(kind: .article, entity: String(repeating: "ab", count: 8), field: "title"), register: register)
        return ByteBuffer(bytes: try WireCoding.encode(PushRequest(node: node, changes: [change])))
    }

    static func bearer(_ token: String) -> HTTPFields {
        [.authorization: "Bearer \(token)", .contentType: "application/json"]
    }

    /// Log lines a handler collects, as the server would write them in JSON.
    final class CollectedLines: Sendable {
        let lines = Mutex<[String]>([])
        var all: [String] { lines.withLock { $0 } }
        var logger: Logger {
            Logger(label: "readsync.test") { [self] label in
                JSONLogHandler(label: label, logLevel: .info) { line in self.lines.withLock { $0.append(line) } }
            }
        }
    }

    @Test func healthReadyAndMetricsAnswerWithoutAToken() async throws {
        let (store, folder) = try Self.store()
        defer {
            try? store.close()
            try? FileManager.default.removeItem(at: folder)
        }
        let token = AccessToken.generate()
        try store.addUser(name: "alice", tokenHash: AccessToken.hash(token))
        let app = Application(router: SyncServer.router(store: store))
        try await app.test(.router) { client in
            try await client.execute(uri: "/health", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/ready", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == #"{"ready":true}"#)
            }
            try await client.execute(uri: "/v1/push", method: .post, headers: Self.bearer(token), body: try Self.push(title: "First")) {
                #expect($0.status == .ok)
            }
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true)
                let text = String(buffer: response.body)
                // The process's figures (tests share it): present and counted.
                #expect(text.contains("# TYPE readsync_pushes_total counter"))
                #expect(Self.value(of: "readsync_changes_accepted_total", in: text) ?? 0 >= 1)
                #expect(Self.value(of: "readsync_database_bytes", in: text) ?? 0 > 0)
                #expect(text.contains(#"http_route="/v1/push""#) && text.contains(#"http_response_status_code="200""#), "\(text.prefix(2000))")
            }
        }
    }

    /// A full disk (SQLite's SQLITE_FULL, here by the database's page limit:
    /// the same error a full file system gives) is answered 507 with a JSON
    /// error; what was stored before stays, and the push goes through once
    /// there is room again.
    @Test func aFullDiskIsAnswered507AndNothingStoredIsLost() async throws {
        let (store, folder) = try Self.store()
        defer {
            try? store.close()
            try? FileManager.default.removeItem(at: folder)
        }
        let token = AccessToken.generate()
        try store.addUser(name: "alice", tokenHash: AccessToken.hash(token))
        let app = Application(router: SyncServer.router(store: store))
        try await app.test(.router) { client in
            try await client.execute(uri: "/v1/push", method: .post, headers: Self.bearer(token), body: try Self.push(title: "Kept")) {
                #expect($0.status == .ok)
            }
            let pages = try await store.database.write { db in try Int.fetchOne(db, sql: "PRAGMA page_count")! }
            try await store.database.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA max_page_count = \(pages)") }
            let big = String(repeating: "a long title that needs pages ", count: 2000)
            try await client.execute(uri: "/v1/push", method: .post, headers: Self.bearer(token), body: try Self.push(title: big)) { response in
                #expect(response.status.code == 507)
                let error = try JSONDecoder().decode(ErrorResponse.self, from: Data(response.body.readableBytesView))
                #expect(error.error.code.rawValue == "disk_full")
                #expect(error.error.message.contains("disk is full") && error.error.message.contains("nothing of this request was stored"))
            }
            try await store.database.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA max_page_count = 1073741823") }
            let user = try #require(try await store.user(forTokenHash: AccessToken.hash(token)))
            let before = try store.changesNow(for: user, after: 0, limit: 100, excludingOrigin: nil)
            #expect(before.changes.map(\.value) == [.text("Kept")])
            try await client.execute(uri: "/v1/push", method: .post, headers: Self.bearer(token), body: try Self.push(title: big, after: 1)) {
                #expect($0.status == .ok)
            }
        }
    }

    /// One line per request: its id, route, status, duration and user, and
    /// never the token it carried.
    @Test func eachRequestIsOneLogLineWithoutItsToken() async throws {
        let (store, folder) = try Self.store()
        defer {
            try? store.close()
            try? FileManager.default.removeItem(at: folder)
        }
        let token = AccessToken.generate()
        try store.addUser(name: "alice", tokenHash: AccessToken.hash(token))
        let collected = CollectedLines()
        let app = Application(router: SyncServer.router(store: store), logger: collected.logger)
        try await app.test(.router) { client in
            try await client.execute(uri: "/v1/push", method: .post, headers: Self.bearer(token), body: try Self.push(title: "Logged")) {
                #expect($0.status == .ok)
            }
            // Another token: its first character changed (to "0", or "1" when it was "0").
            let wrong = (token.first == "0" ? "1" : "0") + token.dropFirst()
            try await client.execute(uri: "/v1/changes?after=0", method: .get, headers: Self.bearer(wrong)) {
                #expect($0.status == .unauthorized)
            }
        }
        let requests = try collected.all.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: String] }
            .filter { $0["message"] == "request" }
        #expect(requests.count == 2, "\(collected.all)")
        let push = try #require(requests.first)
        #expect(push["rs.route"] == "/v1/push" && push["rs.method"] == "POST" && push["rs.status"] == "200")
        #expect(push["rs.user"] != nil && push["hb.request.id"] != nil && Double(push["rs.duration_ms"] ?? "") != nil)
        let refused = try #require(requests.last)
        #expect(refused["rs.route"] == "/v1/changes" && refused["rs.status"] == "401" && refused["rs.user"] == nil)
        #expect(!collected.all.joined().contains(token.dropFirst()), "a token reached the log")
    }

    /// `/ready` fails while PostgreSQL refuses connections, and recovers
    /// with it; `/health` (the process is alive) answers all along.
    @Test func readyFailsWhilePostgreSQLIsUnreachable() async throws {
        let url = try PostgresURL(try await TestPostgres.makeDatabase())
        let store = try ServerDatabase.postgres(url).open(logger: Logger(label: "readsync.test"))
        defer { try? store.close() }
        let admin = try await PostgresConnection.connect(
            configuration: .init(host: url.host, port: url.port, username: url.user, password: nil, database: "postgres", tls: .disable),
            id: 1, logger: Logger(label: "readsync.test"))
        @Sendable func run(_ sql: String) async throws { try await admin.query(PostgresQuery(unsafeSQL: sql), logger: Logger(label: "readsync.test")) }
        let app = Application(router: SyncServer.router(store: store))
        try await app.test(.router) { client in
            try await client.execute(uri: "/ready", method: .get) { #expect($0.status == .ok) }
            try await run("ALTER DATABASE \(url.database) ALLOW_CONNECTIONS false")
            try await run("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '\(url.database)'")
            try await client.execute(uri: "/ready", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                let error = try JSONDecoder().decode(ErrorResponse.self, from: Data(response.body.readableBytesView))
                #expect(error.error.code.rawValue == "not_ready" && error.error.message.contains("PostgreSQL does not answer"), "\(error.error.message)")
            }
            try await client.execute(uri: "/health", method: .get) { #expect($0.status == .ok) }
            try await run("ALTER DATABASE \(url.database) ALLOW_CONNECTIONS true")
            // Ready again once the pool's next attempt to connect succeeds
            // (it waits longer after each failure).
            var ready = false
            for _ in 0..<60 where !ready {
                ready = try await client.execute(uri: "/ready", method: .get) { $0.status == .ok }
                if !ready { try await Task.sleep(for: .seconds(1)) }
            }
            #expect(ready, "/ready never recovered once PostgreSQL accepted connections again")
        }
        try await admin.close()
    }

    /// The value of an unlabelled sample in Prometheus text.
    static func value(of name: String, in text: String) -> Double? {
        text.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Double($0.split(separator: " ")[1]) }
    }
}
