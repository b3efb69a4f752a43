import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import ReadSyncArticles
import ReadSyncCore
import ReadSyncTestSupport
import Testing

@testable import ReadSyncServer

/// Signing in to the web reader and what a session allows, on a real port
/// (HummingbirdTesting's live server: the peer is 127.0.0.1, as behind the
/// TLS proxy).
struct WebSessionTests {
    static let alicePassword = "alice's long password", bobPassword = "bob's long password"

    /// A server over a fresh SQLite store with alice and bob, each with a web
    /// password; `fetchPolicy` says where it may fetch saved pages from.
    static func app(fetchPolicy: AddressPolicy = .publicOnly) throws -> (store: SQLiteSyncStore, folder: URL, app: some ApplicationProtocol) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("readsync-web-\(UUID().uuidString)")
        let store = try SQLiteSyncStore(directory: folder)
        for (name, password) in [("alice", alicePassword), ("bob", bobPassword)] {
            try store.addUser(name: name, tokenHash: AccessToken.hash(AccessToken.generate()))
            try store.setWebPassword(name: name, hash: try WebPassword.hash(password))
        }
        return (store, folder, Application(router: SyncServer.router(store: store, fetchPolicy: fetchPolicy)))
    }

    /// Posts the sign-in form (with a CSRF token the form and its cookie share); the answer.
    static func signIn(
        _ client: some TestClientProtocol, _ name: String, _ password: String,
        headers: HTTPFields = [:]
    ) async throws -> TestResponse {
        var headers = headers
        headers[.contentType] = "application/x-www-form-urlencoded"
        headers[.cookie] = "readsync_signin=token123"
        let form = "csrf=token123&next=%2F&name=\(name)&password=" + password.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        return try await client.execute(uri: "/signin", method: .post, headers: headers, body: ByteBuffer(string: form))
    }

    /// The session cookie (`readsync_session=…`) a sign-in set.
    static func sessionCookie(_ answer: TestResponse) throws -> String {
        let cookie = answer.headers[values: .setCookie].first { $0.hasPrefix("readsync_session=") }
        return try #require(cookie?.split(separator: ";").first.map(String.init))
    }

    /// HummingbirdTesting's live test, its server serving from the test
    /// servers' own threads rather than the shared pool (see `TestServer`).
    static func live(_ app: some ApplicationProtocol, _ test: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        try await TestServer.onServerThreads { try await app.test(.live, test) }
    }

    static func get(_ client: some TestClientProtocol, _ path: String, cookie: String) async throws -> TestResponse {
        try await client.execute(uri: path, method: .get, headers: [.cookie: cookie])
    }

    @Test func aSignInIsAnHttpOnlyLaxCookieSecureBehindTLS() async throws {
        let (store, folder, app) = try Self.app()
        defer {
            try? store.close()
            try? FileManager.default.removeItem(at: folder)
        }
        try await Self.live(app) { client in
            let plain = try await Self.signIn(client, "alice", Self.alicePassword)
            #expect(plain.status == .seeOther && plain.headers[.location] == "/")
            let attributes = try #require(plain.headers[values: .setCookie].first { $0.hasPrefix("readsync_session=") })
            #expect(attributes.contains("HttpOnly") && attributes.contains("SameSite=Lax") && attributes.contains("Path=/"))
            #expect(attributes.contains("Max-Age=\(WebSession.lifetime)"))
            #expect(!attributes.contains("Secure"), "served over plain HTTP")

            let proxied = try await Self.signIn(client, "alice", Self.alicePassword, headers: [HTTPField.Name("X-Forwarded-Proto")!: "https"])
            #expect(try #require(proxied.headers[values: .setCookie].first { $0.hasPrefix("readsync_session=") }).contains("Secure"))

            let page = try await Self.get(client, "/", cookie: try Self.sessionCookie(plain))
            #expect(page.status == .ok && String(buffer: page.body).contains("Unread"))
            #expect(page.headers[HTTPField.Name("Content-Security-Policy")!]?.contains("script-src 'self'") == true)
        }
    }

    @Test func aWrongPasswordOrAnUnknownNameIsRefusedAndGuessesAreLimited() async throws {
        let (store, folder, app) = try Self.app()
        defer {
            try? store.close()
            try? FileManager.default.removeItem(at: folder)
        }
        try await Self.live(app) { client in
            let unknown = try await Self.signIn(client, "nobody", Self.alicePassword)
            #expect(unknown.status == .unauthorized && unknown.headers[values: .setCookie].allSatisfy { !$0.hasPrefix("readsync_session=") })
            let wrong = try await Self.signIn(client, "alice", Self.bobPassword)
            #expect(wrong.status == .unauthorized && String(buffer: wrong.body).contains("Wrong user name or password"))
            for _ in 0..<8 { _ = try await Self.signIn(client, "alice", "guess number x") }
            // Ten failures from this address: even the right password waits.
            let limited = try await Self.signIn(client, "alice", Self.alicePassword)
            #expect(limited.status == .tooManyRequests && limited.headers[.retryAfter] != nil)
        }
    }

    @Test func aPasswordChangeEndsEverySessionAndACookieCannotBeMadeUp() async throws {
        let (store, folder, app) = try Self.app()
        defer {
            try? store.close()
            try? FileManager.default.removeItem(at: folder)
        }
        try await Self.live(app) { client in
            let cookie = try Self.sessionCookie(try await Self.signIn(client, "alice", Self.alicePassword))
            #expect(try await Self.get(client, "/", cookie: cookie).status == .ok)

            // Another user's name in a signed cookie, an expiry moved, an expired session: no session.
            let parts = cookie.dropFirst("readsync_session=".count).split(separator: ".")
            let asBob = "readsync_session=\(Base64URL.encode(Data("bob".utf8))).\(parts[1]).\(parts[2])"
            let later = "readsync_session=\(parts[0]).\(Int64(parts[1])! + 1000).\(parts[2])"
            let hash = try #require(try await store.webPassword(ofUserNamed: "alice")).hash
            let expired =
                "readsync_session="
                + WebSession.cookieValue(
                    name: "alice", passwordHash: hash,
                    now: Int64(Date().timeIntervalSince1970) - WebSession.lifetime - 1)
            for forged in [asBob, later, expired, "readsync_session=garbage"] {
                let answer = try await Self.get(client, "/", cookie: forged)
                #expect(answer.status == .seeOther && answer.headers[.location] == "/signin?next=%2F", "\(forged)")
            }

            try store.setWebPassword(name: "alice", hash: try WebPassword.hash("alice's new password"))
            let after = try await Self.get(client, "/?view=all", cookie: cookie)
            #expect(after.status == .seeOther && after.headers[.location] == "/signin?next=%2F%3Fview%3Dall", "signed out by the change")
        }
    }

    @Test func oneUserNeverSeesAnothersArticlesAndAFormNeedsItsToken() async throws {
        let (store, folder, app) = try Self.app()
        defer {
            try? store.close()
            try? FileManager.default.removeItem(at: folder)
        }
        // Bob saves a page (as the server would for him).
        let bob = try #require(try await store.webPassword(ofUserNamed: "bob")).user
        let url = try #require(CanonicalURL("https://example.org/bobs-page"))
        let id = Identity.articleID(for: url)
        let replica = ServerReplica(store: store, notifier: ChangeNotifier(), wallClock: SystemWallClock())
        try await replica.edit(bob, article: id) { edit in edit.save(id, url: url, draft: nil, now: "2026-12-02T08:00:00.000Z") }

        try await Self.live(app) { client in
            let alice = try Self.sessionCookie(try await Self.signIn(client, "alice", Self.alicePassword))
            let bobs = try Self.sessionCookie(try await Self.signIn(client, "bob", Self.bobPassword))
            #expect(try await Self.get(client, "/articles/\(id)", cookie: bobs).status == .ok)
            #expect(try await Self.get(client, "/articles/\(id)", cookie: alice).status == .notFound)
            #expect(!String(buffer: try await Self.get(client, "/?view=all", cookie: alice).body).contains("bobs-page"))

            // A post needs the session's token: without it, or with alice's token on bob's session, refused.
            let page = String(buffer: try await Self.get(client, "/articles/\(id)", cookie: bobs).body)
            let token = try #require(page.firstMatch(of: /name="csrf" value="([^"]+)"/)?.1).description
            let aliceToken = try #require(
                String(buffer: try await Self.get(client, "/", cookie: alice).body)
                    .firstMatch(of: /name="csrf" value="([^"]+)"/)?.1
            ).description
            func post(_ form: String, cookie: String) async throws -> TestResponse {
                try await client.execute(
                    uri: "/articles/\(id)", method: .post,
                    headers: [.cookie: cookie, .contentType: "application/x-www-form-urlencoded"], body: ByteBuffer(string: form))
            }
            #expect(try await post("action=favorite", cookie: bobs).status == .forbidden)
            #expect(try await post("action=favorite&csrf=\(aliceToken)", cookie: bobs).status == .forbidden)
            #expect(try await post("action=favorite&csrf=\(token)", cookie: alice).status == .forbidden)
            #expect(try await store.library(of: bob).articles.first?.favorite == false, "nothing refused was written")
            let done = try await post("action=favorite&csrf=\(token)", cookie: bobs)
            #expect(done.status == .seeOther && done.headers[.location] == "/articles/\(id)")
            #expect(try await store.library(of: bob).articles.first?.favorite == true)
        }
    }

    /// Every button of the reader is a write of the server's replica, with
    /// the meaning of the device command of the same name, seen in the
    /// merged library after each.
    @Test func everyButtonWritesTheLibrary() async throws {
        let page = try TestHTTPServer(routes: [
            "/story": .html(
                """
                <html><head><title>A saved story</title></head><body><article><h1>A saved story</h1>
                <p>The first paragraph of a story saved from the web reader, long enough to be an article's text.</p>
                <p>A second paragraph, so that the extraction keeps a body worth reading and counts its words.</p>
                </article></body></html>
                """)
        ])
        defer { page.stop() }
        let (store, folder, app) = try Self.app(fetchPolicy: .any)
        defer {
            try? store.close()
            try? FileManager.default.removeItem(at: folder)
        }
        let alice = try #require(try await store.webPassword(ofUserNamed: "alice")).user
        try await Self.live(app) { client in
            let cookie = try Self.sessionCookie(try await Self.signIn(client, "alice", Self.alicePassword))
            let token = try #require(
                String(buffer: try await Self.get(client, "/", cookie: cookie).body)
                    .firstMatch(of: /name="csrf" value="([^"]+)"/)?.1
            ).description
            func post(_ path: String, _ form: String) async throws -> TestResponse {
                try await client.execute(
                    uri: path, method: .post, headers: [.cookie: cookie, .contentType: "application/x-www-form-urlencoded"],
                    body: ByteBuffer(string: form + "&csrf=" + token))
            }
            func article() async throws -> LibraryView.Article? { try await store.library(of: alice).articles.first }

            // Save a page: fetched by the server and read as a device would.
            let saved = try await post("/save", "url=" + page.url("/story").addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)
            #expect(saved.status == .seeOther)
            let story = try #require(try await article())
            #expect(saved.headers[.location] == "/articles/\(story.id)" && story.title == "A saved story" && (story.wordCount ?? 0) > 20)
            let id = story.id

            #expect(try await post("/articles/\(id)", "action=archive").status == .seeOther)
            #expect(try await article()?.archived == true)
            _ = try await post("/articles/\(id)", "action=tag&tags=Later,%20long%20reads")
            #expect(try await article()?.tags == ["later", "long reads"])
            _ = try await post("/articles/\(id)", "action=untag&tag=later")
            #expect(try await article()?.tags == ["long reads"])

            // Progress goes forward only, and never to read by scrolling.
            #expect(try await post("/articles/\(id)/progress", "progress=0.4").status == .noContent)
            _ = try await post("/articles/\(id)/progress", "progress=0.2")
            let reading = try await article()
            #expect(reading?.progress == 0.4 && reading?.status == .reading)
            _ = try await post("/articles/\(id)/progress", "progress=1")
            let nearlyDone = try await article()
            #expect(nearlyDone?.progress == 0.99 && nearlyDone?.status == .reading)
            #expect(try await post("/articles/\(id)/progress", "progress=2").status == .badRequest)

            // A note with only a passage (a highlight), edited, then deleted.
            let added = try await post("/articles/\(id)/notes", "quote=The%20first%20paragraph&body=")
            let note = try #require(try await article()?.notes.first)
            #expect(added.headers[.location] == "/articles/\(id)#note-\(note.id)" && note.quote == "The first paragraph" && note.body.isEmpty)
            _ = try await post("/notes/\(note.id)", "action=edit&body=Worth%20a%20second%20read")
            #expect(try await article()?.notes.first?.body == "Worth a second read")
            #expect(try await post("/notes/\(note.id)", "action=edit&body=%20").status == .badRequest)
            _ = try await post("/notes/\(note.id)", "action=delete")
            #expect(try await article()?.notes.isEmpty == true)

            // Delete: in the trash (listed there, the page says so), then back.
            _ = try await post("/articles/\(id)", "action=delete")
            #expect(try await article() == nil)
            #expect(String(buffer: try await Self.get(client, "/?view=trash", cookie: cookie).body).contains("A saved story"))
            #expect(String(buffer: try await Self.get(client, "/articles/\(id)", cookie: cookie).body).contains("This article is in the trash"))
            _ = try await post("/articles/\(id)", "action=restore")
            #expect(try await article()?.tags == ["long reads"], "back with its tags")
            #expect(try await post("/articles/\(id)", "action=explode").status == .badRequest)
            #expect(try await post("/save", "url=ftp%3A%2F%2Fexample.org").status == .badRequest)
        }
    }
}
