import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ReadSyncArticles
import ReadSyncClient
import ReadSyncCore
import ReadSyncTestSupport
import Testing

@testable import ReadSyncServer

/// Every refusal is a 4xx with a JSON error body, the server keeps serving,
/// and nothing stored changes. Route-level answers are driven in process
/// (HummingbirdTesting); what needs a real socket (idle timeouts, libcurl's
/// gzip) runs on a real port.
@Suite struct ProtocolAnswerTests {
    struct Case: Sendable, CustomStringConvertible {
        let name: String
        var method = "POST"
        var path = "/v1/push"
        var headers: [String: String] = [:]
        var body: [UInt8]? = nil
        var authorized = true
        let status: Int
        let code: String
        var description: String { name }
    }

    static let node = "aaaa"
    static let article = "0123456789abcdef"

    static func stamp(_ timestamp: String?) -> String {
        let hex = String(UInt64(SystemWallClock().nowMilliseconds()), radix: 16)
        return timestamp ?? String(repeating: "0", count: 16 - hex.count) + hex + ".00000000.\(node)"
    }

    /// An entity with one changed field, as protocol 2 sends it.
    static func change(
        kind: String = "article", entity: String = article, field: String = "title", value: String = "\"t\"",
        timestamp: String? = nil, vector: String? = nil
    ) -> String {
        #"{"kind":"\#(kind)","entity":"\#(entity)","fields":[{"field":"\#(field)","value":\#(value),"timestamp":"\#(stamp(timestamp))","vector":\#(vector ?? #"{"\#(node)":1}"#)}]}"#
    }

    static func push(_ entities: [String], protocol version: Int = SyncProtocol.version, pull: String? = nil) -> [UInt8] {
        Array(#"{"protocol":\#(version),"node":"\#(node)","entities":[\#(entities.joined(separator: ","))]\#(pull.map { ",\"pull\":" + $0 } ?? "")}"#.utf8)
    }

    /// A push as a client of protocol 1 sent it: every field a change of its own.
    static let protocolOnePush = Array(
        #"""
        {"protocol":1,"node":"\#(node)","changes":[{"kind":"article","entity":"\#(article)","field":"title","value":"t","timestamp":"\#(stamp(nil))","vector":{"\#(node)":1}}]}
        """#.utf8)

    static let cases: [Case] = {
        let future = String(UInt64(SystemWallClock().nowMilliseconds() + 3_600_000), radix: 16)
        return [
            Case(name: "no Authorization header", authorized: false, status: 401, code: "unauthorized"),
            Case(name: "Basic instead of Bearer", headers: ["Authorization": "Basic YWxpY2U6cHc="], authorized: false, status: 401, code: "unauthorized"),
            Case(
                name: "unknown token", headers: ["Authorization": "Bearer " + String(repeating: "ab", count: 32)], authorized: false, status: 401,
                code: "unauthorized"),
            Case(
                name: "token of the wrong shape", headers: ["Authorization": "Bearer '; DROP TABLE users; --"], authorized: false, status: 401,
                code: "unauthorized"),
            Case(name: "pull without a token", method: "GET", path: "/v1/changes", authorized: false, status: 401, code: "unauthorized"),
            Case(name: "invalid JSON", body: Array("{not json".utf8), status: 400, code: "bad_request"),
            Case(name: "empty body", body: [], status: 400, code: "bad_request"),
            Case(name: "invalid UTF-8", body: [0x7B, 0x22, 0xFF, 0xFE, 0x22, 0x7D], status: 400, code: "bad_request"),
            Case(name: "missing fields", body: Array("{}".utf8), status: 400, code: "bad_request"),
            Case(name: "wrong types", body: Array(#"{"protocol":"one","node":5,"entities":{}}"#.utf8), status: 400, code: "bad_request"),
            Case(
                name: "a field of the wrong type",
                body: Array(#"{"protocol":2,"node":"aaaa","entities":[{"kind":"article","entity":"0123456789abcdef","fields":{}}]}"#.utf8), status: 400,
                code: "bad_request"),
            Case(name: "malformed entity kind", body: push([change(kind: "Bookmark; DROP")]), status: 400, code: "bad_request"),
            Case(name: "entity kind of 65 characters", body: push([change(kind: String(repeating: "k", count: 65))]), status: 400, code: "bad_request"),
            Case(
                name: "id of a newer kind with a control character", body: push([change(kind: "highlight", entity: "a\\u0007b")]), status: 400,
                code: "bad_request"),
            Case(name: "malformed field name", body: push([change(field: "Colour; DROP")]), status: 400, code: "bad_request"),
            Case(name: "field name of 65 characters", body: push([change(field: String(repeating: "f", count: 65))]), status: 400, code: "bad_request"),
            Case(name: "id with path separators", body: push([change(entity: "../../etc/passwd")]), status: 400, code: "bad_request"),
            Case(name: "id with SQL", body: push([change(entity: "x'; DELETE FROM registers; --")]), status: 400, code: "bad_request"),
            Case(name: "a word count too large for any integer", body: push([change(field: "word_count", value: "1e300")]), status: 400, code: "bad_request"),
            Case(
                name: "a number beyond any double (1e999)", body: push([change(kind: "read_state", field: "progress", value: "1e999")]), status: 400,
                code: "bad_request"),
            Case(
                name: "a 5 MB title", body: push([change(value: "\"" + String(repeating: "x", count: 5 * 1_048_576) + "\"")]), status: 400, code: "bad_request"),
            Case(name: "a timestamp in the year 10000", body: push([change(timestamp: "00000e7791f70000.00000000.\(node)")]), status: 422, code: "clock_skew"),
            Case(name: "progress outside 0…1", body: push([change(kind: "read_state", field: "progress", value: "5")]), status: 400, code: "bad_request"),
            Case(name: "a tombstone that is text", body: push([change(field: "deleted", value: "\"yes\"")]), status: 400, code: "bad_request"),
            Case(
                name: "an unknown read status", body: push([change(kind: "read_state", field: "status", value: "\"skimmed\"")]), status: 400,
                code: "bad_request"),
            Case(
                name: "a vector counter at the top of its range", body: push([change(vector: #"{"aaaa":18446744073709551615}"#)]), status: 400,
                code: "bad_request"),
            Case(name: "malformed timestamp", body: push([change(timestamp: "yesterday")]), status: 400, code: "bad_request"),
            Case(name: "a pull within a push without its limit", body: push([change()], pull: #"{"after":0}"#), status: 400, code: "bad_request"),
            Case(
                name: "a pull within a push from a negative cursor", body: push([change()], pull: #"{"after":-1,"limit":10}"#), status: 400, code: "bad_request"
            ),
            Case(name: "a pull within a push of no changes", body: push([change()], pull: #"{"after":0,"limit":0}"#), status: 400, code: "bad_request"),
            Case(
                name: "a pull within a push of a page too large", body: push([change()], pull: #"{"after":0,"limit":\#(SyncProtocol.maxPageSize + 1)}"#),
                status: 413, code: "too_large"),
            Case(name: "vector without the writer", body: push([change(vector: #"{"bbbb":1}"#)]), status: 400, code: "bad_request"),
            Case(
                name: "deeply nested value", body: push([change(value: String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000))]),
                status: 400, code: "bad_request"),
            Case(name: "another protocol version in the body", body: push([change()], protocol: 3), status: 400, code: "unsupported_protocol"),
            Case(name: "a protocol 1 client's push", body: protocolOnePush, status: 400, code: "unsupported_protocol"),
            Case(
                name: "another protocol version in the header", headers: ["X-ReadSync-Protocol": "1"], body: push([change()]), status: 400,
                code: "unsupported_protocol"),
            Case(
                name: "a timestamp an hour ahead",
                body: push([change(timestamp: String(repeating: "0", count: 16 - future.count) + future + ".00000000.\(node)")]), status: 422,
                code: "clock_skew"),
            Case(
                name: "more changes than a batch may hold", body: push(Array(repeating: change(), count: SyncProtocol.maxBatchChanges + 1)), status: 413,
                code: "too_large"),
            Case(name: "a batch of a million tiny changes", body: push(Array(repeating: change(), count: 1_000_000)), status: 413, code: "too_large"),
            Case(name: "a 200 MB body", body: [UInt8](repeating: 0x20, count: 200 * 1_048_576), status: 413, code: "too_large"),
            Case(name: "a body over 16 MiB", body: [UInt8](repeating: 0x20, count: SyncProtocol.maxRequestBytes + 1), status: 413, code: "too_large"),
            Case(
                name: "a gzip bomb", headers: ["Content-Encoding": "gzip"],
                body: Gzip.compress([UInt8](repeating: 0x20, count: SyncProtocol.maxRequestBytes + 1)), status: 413, code: "too_large"),
            Case(name: "corrupt gzip", headers: ["Content-Encoding": "gzip"], body: Array("this is not gzip".utf8), status: 400, code: "bad_request"),
            Case(
                name: "an unsupported Content-Encoding", headers: ["Content-Encoding": "br"], body: Array("{}".utf8), status: 415, code: "unsupported_encoding"),
            Case(name: "page size over the limit", method: "GET", path: "/v1/changes?limit=5000", status: 413, code: "too_large"),
            Case(name: "negative cursor", method: "GET", path: "/v1/changes?after=-1", status: 400, code: "bad_request"),
            Case(name: "enormous cursor", method: "GET", path: "/v1/changes?after=99999999999999999999999", status: 400, code: "bad_request"),
            Case(name: "page size zero", method: "GET", path: "/v1/changes?limit=0", status: 400, code: "bad_request"),
            Case(name: "a digest prefix that is not hex", method: "GET", path: "/v1/digest?prefix=zz%27", status: 400, code: "bad_request"),
            Case(
                name: "entities of a kind with SQL", path: "/v1/entities", body: Array(#"{"protocol":2,"entities":[{"kind":"a'; DROP","entity":"x"}]}"#.utf8),
                status: 400, code: "bad_request"),
            Case(name: "a history checkpoint without its token", method: "GET", path: "/v1/changes?checkpoint=12", status: 400, code: "bad_request"),
            Case(name: "a push token with SQL", method: "GET", path: "/v1/changes?pushed=x%27%3B%20DROP%20TABLE%20devices", status: 400, code: "bad_request"),
            Case(
                name: "a push chain of the wrong shape", body: Array(#"{"protocol":2,"node":"aaaa","entities":[],"chain":{"token":"NOT HEX"}}"#.utf8),
                status: 400, code: "bad_request"),
            Case(name: "page size not a number", method: "GET", path: "/v1/changes?limit=ten", status: 400, code: "bad_request"),
            Case(name: "node that is not a node id", method: "GET", path: "/v1/changes?node=../x", status: 400, code: "bad_request"),
            Case(name: "wrong method", method: "GET", path: "/v1/push", status: 404, code: "not_found"),
            Case(name: "unknown path", method: "GET", path: "/v2/everything", status: 404, code: "not_found"),
        ]
    }()

    /// A fresh SQLite store with users "alice" and "mallory" (revoked), and
    /// the router a server would build over it, driven in process.
    static func routes() throws -> (store: SQLiteSyncStore, folder: URL, app: some ApplicationProtocol, token: String, revoked: String) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("readsync-answers-\(UUID().uuidString)")
        let store = try SQLiteSyncStore(directory: folder)
        let token = AccessToken.generate(), revoked = AccessToken.generate()
        try store.addUser(name: "alice", tokenHash: AccessToken.hash(token))
        try store.addUser(name: "mallory", tokenHash: AccessToken.hash(revoked))
        try store.revoke(name: "mallory")
        return (store, folder, Application(router: SyncServer.router(store: store)), token, revoked)
    }

    /// Everything alice's account holds, as a device that never pushed pulls it.
    static func everything(_ client: some TestClientProtocol, token: String) async throws -> PullResponse {
        try await client.execute(uri: "/v1/changes?after=0&limit=1000&node=ffff", method: .get, headers: [.authorization: "Bearer \(token)"]) { response in
            #expect(response.status == .ok)
            return try JSONDecoder().decode(PullResponse.self, from: Data(response.body.readableBytesView))
        }
    }

    @Test func everyRefusalIsA4xxWithAJSONErrorAndChangesNothing() async throws {
        let (store, folder, app, token, revoked) = try Self.routes()
        defer {
            try? store.close()
            try? FileManager.default.removeItem(at: folder)
        }
        let cases =
            Self.cases + [
                Case(
                    name: "revoked token", headers: ["Authorization": "Bearer \(revoked)"], body: Self.push([Self.change()]),
                    authorized: false, status: 401, code: "unauthorized")
            ]
        try await app.test(.router) { client in
            let stateBefore = try await Self.everything(client, token: token)
            for test in cases {
                var headers = HTTPFields()
                for (name, value) in test.headers { headers[HTTPField.Name(name)!] = value }
                if test.authorized { headers[.authorization] = "Bearer \(token)" }
                headers[.contentType] = "application/json"
                let body = test.method == "POST" ? ByteBuffer(bytes: test.body ?? Self.push([Self.change()])) : nil
                try await client.execute(uri: test.path, method: HTTPTypes.HTTPRequest.Method(test.method)!, headers: headers, body: body) { response in
                    #expect(response.status.code == test.status, "\(test): status \(response.status)")
                    #expect(response.headers[.contentType]?.hasPrefix("application/json") == true, "\(test): not JSON")
                    let error = try? JSONDecoder().decode(ErrorResponse.self, from: Data(response.body.readableBytesView))
                    #expect(error?.error.code.rawValue == test.code, "\(test): body \(String(buffer: response.body).prefix(200))")
                    #expect(error.map { !$0.error.message.isEmpty } == true)
                }
                // A good request still works after it.
                let good = ByteBuffer(bytes: try WireCoding.encode(PushRequest(node: NodeID(Self.node)!, changes: [])))
                try await client.execute(
                    uri: "/v1/push", method: .post, headers: [.authorization: "Bearer \(token)", .contentType: "application/json"], body: good
                ) {
                    #expect($0.status == .ok, "after \(test)")
                }
            }
            let stateAfter = try await Self.everything(client, token: token)
            #expect(
                stateAfter
                    == PullResponse(
                        epoch: stateBefore.epoch, changes: stateBefore.changes, next: stateBefore.next, more: false,
                        latest: stateBefore.latest, serverTime: stateAfter.serverTime, changesPerRequest: SyncProtocol.maxBatchChanges))
        }
    }

    @Test func stalledAndSlowClientsAreCutOffWhileOthersAreServed() async throws {
        let server = try await TestServer.start(idleTimeout: .seconds(1))
        let token = try server.addUser("alice")
        let before = try await offloaded { try CurlSyncTransport(serverURL: server.url, token: token).pull(after: 0, limit: 1000, node: NodeID("ffff")!) }
        // Slow-loris: half a header, or a header promising a body that never comes.
        let halfHeader = "POST /v1/push HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le"
        let halfBody =
            "POST /v1/push HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(token)\r\n"
            + "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{\"protocol\":2,\"node\":\"aaaa\",\"entities\":[" + Self.change()
        let stalled = try (0..<40).map { index in
            let fd = try Socket.connect(port: server.port)
            Socket.send(fd, index.isMultiple(of: 2) ? halfHeader : halfBody)
            return fd
        }
        // Everyone else is served meanwhile…
        let pushed = try await offloaded { try CurlSyncTransport(serverURL: server.url, token: token).push(PushRequest(node: NodeID(Self.node)!, changes: [])) }
        #expect(pushed.accepted == 0)
        // …and each stalled connection is closed after the idle timeout (1 s;
        // a minute's margin, as the full test run loads both cores for minutes).
        let deadline = Date().addingTimeInterval(60)
        let closed = try await offloaded { stalled.map { Socket.waitForClose($0, until: deadline) } }
        for socket in stalled { close(socket) }
        #expect(closed.allSatisfy { $0 }, "\(closed.filter { !$0 }.count) of \(stalled.count) stalled connections still open")
        let after = try await offloaded { try CurlSyncTransport(serverURL: server.url, token: token).pull(after: 0, limit: 1000, node: NodeID("ffff")!) }
        #expect(after.changes == before.changes && after.latest == before.latest, "the half-sent change was never stored")
        await server.destroy()
    }

    @Test func gzipBothWaysWhenItPays() async throws {
        let server = try await TestServer.start()
        let token = try server.addUser("alice")
        let http = CurlHTTPClient()
        let changes = (0..<50).map { n in Self.change(field: "content", value: "\"" + String(repeating: "word \(n) ", count: 300) + "\"") }
        let headers = [
            (name: "Authorization", value: "Bearer \(token)"), (name: "Content-Encoding", value: "gzip"), (name: "Content-Type", value: "application/json"),
        ]
        let pushed = try await offloaded {
            try http.perform(
                ReadSyncArticles.HTTPRequest(method: "POST", url: server.url + "/v1/push", headers: headers, body: Gzip.compress(Self.push(changes))))
        }
        #expect(pushed.status == 200, "\(String(decoding: pushed.body, as: UTF8.self))")
        #expect(
            try JSONDecoder().decode(PushResponse.self, from: Data(pushed.body)).accepted == 1, "fifty changes with one timestamp are one write: stored once")

        let pulled = try await offloaded {
            try http.perform(ReadSyncArticles.HTTPRequest(url: server.url + "/v1/changes", headers: [(name: "Authorization", value: "Bearer \(token)")]))
        }
        #expect(pulled.status == 200)
        #expect(pulled.headers["content-encoding"] == "gzip", "a large page is sent gzipped (libcurl decoded it)")
        #expect(try JSONDecoder().decode(PullResponse.self, from: Data(pulled.body)).changes.count == 1)
        await server.destroy()
    }

    /// A client of protocol 1 is told which versions meet, not that its JSON is bad.
    @Test func aClientOfTheFirstProtocolIsToldBothVersions() async throws {
        let (store, folder, app, token, _) = try Self.routes()
        defer {
            try? store.close()
            try? FileManager.default.removeItem(at: folder)
        }
        try await app.test(.router) { client in
            try await client.execute(
                uri: "/v1/push", method: .post, headers: [.authorization: "Bearer \(token)", .contentType: "application/json"],
                body: ByteBuffer(bytes: Self.protocolOnePush)
            ) { answer in
                let error = try JSONDecoder().decode(ErrorResponse.self, from: Data(answer.body.readableBytesView))
                #expect(answer.status == .badRequest && error.error.code.rawValue == "unsupported_protocol")
                #expect(error.error.message.contains("protocol 2") && error.error.message.contains("speaks 1"), "\(error.error.message)")
            }
        }
    }

    @Test func healthAndTheOpenAPIDocument() async throws {
        let (store, folder, app, _, _) = try Self.routes()
        defer {
            try? store.close()
            try? FileManager.default.removeItem(at: folder)
        }
        try await app.test(.router) { client in
            try await client.execute(uri: "/health", method: .get) { health in
                #expect(health.status == .ok)
                let answer = try JSONDecoder().decode(HealthResponse.self, from: Data(health.body.readableBytesView))
                #expect(answer == HealthResponse(epoch: store.epoch))
                #expect(health.headers[HTTPField.Name("X-ReadSync-Protocol")!] == String(SyncProtocol.version))
            }
            try await client.execute(uri: "/v1/openapi.yaml", method: .get) { document in
                #expect(document.status == .ok)
                let inRepository = try String(contentsOf: RepositoryPaths.root.appendingPathComponent("docs/openapi.yaml"), encoding: .utf8)
                #expect(String(buffer: document.body) == inRepository, "the served document is Server/HTTP/openapi.yaml (docs/openapi.yaml)")
            }
        }
    }
}
