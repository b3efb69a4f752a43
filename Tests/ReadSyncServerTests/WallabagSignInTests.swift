import Foundation
import Hummingbird
import HummingbirdTesting
import ReadSyncCore
import Testing

@testable import ReadSyncServer

/// How wallabag apps sign in (`POST /oauth/v2/token`) and learn what server
/// this is, as `shared/WALLABAG-API.md` lists it: the routes driven in
/// process over a real SQLite store.
@Suite struct WallabagSignInTests {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("readsync-wallabag-\(UUID().uuidString)")
    let store: SQLiteSyncStore
    let credentials = WallabagCredentials.generate()

    init() throws {
        store = try SQLiteSyncStore(directory: folder)
        try store.addUser(name: "alice", tokenHash: AccessToken.hash(AccessToken.generate()))
        try store.setWallabagCredentials(name: "alice", credentials.hashes)
    }

    func close() {
        try? store.close()
        try? FileManager.default.removeItem(at: folder)
    }

    var app: some ApplicationProtocol { Application(router: SyncServer.router(store: store)) }

    func passwordGrant(password: String? = nil, secret: String? = nil, user: String = "alice") -> [String: String] {
        [
            "grant_type": "password", "client_id": credentials.clientID, "client_secret": secret ?? credentials.clientSecret,
            "username": user, "password": password ?? credentials.password,
        ]
    }

    /// The fields as KOReader and the extension send them.
    static func json(_ fields: [String: String]) throws -> ByteBuffer { ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: fields)) }

    /// The fields as the Android app sends them.
    static func form(_ fields: [String: String]) -> ByteBuffer {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return ByteBuffer(string: fields.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: allowed)!)" }.joined(separator: "&"))
    }

    static func object(_ response: TestResponse) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any])
    }

    @Test func aPasswordGrantAsJSONOrAFormGivesTokensAndTheRefreshTokenGivesMore() async throws {
        defer { close() }
        try await app.test(.router) { client in
            let json = try await client.execute(
                uri: "/oauth/v2/token", method: .post, headers: [.contentType: "application/json"],
                body: try Self.json(passwordGrant()))
            #expect(json.status == .ok, "KOReader takes only 200")
            let tokens = try Self.object(json)
            #expect(tokens["token_type"] as? String == "bearer" && tokens["expires_in"] as? Int == 3600 && tokens["scope"] is NSNull)
            let refresh = try #require(tokens["refresh_token"] as? String)
            #expect((tokens["access_token"] as? String)?.isEmpty == false && tokens["access_token"] as? String != refresh)

            let form = try await client.execute(
                uri: "/oauth/v2/token", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                body: Self.form(passwordGrant()))
            #expect(form.status == .ok)

            let again = try await client.execute(
                uri: "/oauth/v2/token", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                body: Self.form([
                    "grant_type": "refresh_token", "refresh_token": refresh,
                    "client_id": credentials.clientID, "client_secret": credentials.clientSecret,
                ]))
            #expect(again.status == .ok)
            #expect(try Self.object(again)["access_token"] is String)

            // An access token is not a refresh token.
            let access = try #require(tokens["access_token"] as? String)
            let wrongKind = try await client.execute(
                uri: "/oauth/v2/token", method: .post, headers: [.contentType: "application/json"],
                body: try Self.json(["grant_type": "refresh_token", "refresh_token": access]))
            let wrongKindError = try Self.object(wrongKind)["error"] as? String
            #expect(wrongKind.status == .badRequest && wrongKindError == "invalid_grant")
        }
    }

    @Test func wrongCredentialsAreOAuthErrorsAndNewCredentialsVoidTheOldTokens() async throws {
        defer { close() }
        try await app.test(.router) { client in
            func grant(_ fields: [String: String]) async throws -> (HTTPResponse.Status, [String: Any]) {
                let answer = try await client.execute(
                    uri: "/oauth/v2/token", method: .post, headers: [.contentType: "application/json"], body: try Self.json(fields))
                return (answer.status, try Self.object(answer))
            }
            let (status, tokens) = try await grant(passwordGrant())
            #expect(status == .ok)
            let refresh = try #require(tokens["refresh_token"] as? String)

            let wrongPassword = try await grant(passwordGrant(password: "not-it"))
            #expect(wrongPassword.0 == .badRequest && wrongPassword.1["error"] as? String == "invalid_grant")
            #expect(wrongPassword.1["error_description"] as? String == "Invalid username and password combination")
            let wrongSecret = try await grant(passwordGrant(secret: "0"))
            #expect(wrongSecret.0 == .unauthorized && wrongSecret.1["error"] as? String == "invalid_client")
            let otherUser = try await grant(passwordGrant(user: "bob"))
            #expect(otherUser.0 == .badRequest && otherUser.1["error"] as? String == "invalid_grant")
            let noGrant = try await grant(["grant_type": "client_credentials"])
            #expect(noGrant.0 == .badRequest && noGrant.1["error"] as? String == "unsupported_grant_type")
            let notJSON = try await client.execute(
                uri: "/oauth/v2/token", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: "{nope"))
            let notJSONError = try Self.object(notJSON)["error"] as? String
            #expect(notJSON.status == .badRequest && notJSONError == "invalid_request")

            // `readsync user wallabag alice` again: the old refresh token stops.
            let renewed = WallabagCredentials.generate()
            try store.setWallabagCredentials(name: "alice", renewed.hashes)
            let stale = try await grant(["grant_type": "refresh_token", "refresh_token": refresh])
            #expect(stale.0 == .badRequest && stale.1["error"] as? String == "invalid_grant")
        }
    }

    @Test func repeatedFailuresAreRefusedForAWhileEvenWithTheRightPassword() async throws {
        defer { close() }
        try await app.test(.router) { client in
            for _ in 0..<10 {
                let answer = try await client.execute(
                    uri: "/oauth/v2/token", method: .post, headers: [.contentType: "application/json"],
                    body: try Self.json(passwordGrant(password: "guess")))
                #expect(answer.status == .badRequest)
            }
            let blocked = try await client.execute(
                uri: "/oauth/v2/token", method: .post, headers: [.contentType: "application/json"],
                body: try Self.json(passwordGrant()))
            #expect(blocked.status == .tooManyRequests)
            #expect(Int(blocked.headers[.retryAfter] ?? "") ?? 0 > 0)
            #expect(try JSONDecoder().decode(ErrorResponse.self, from: Data(blocked.body.readableBytesView)).error.code.rawValue == "too_many_attempts")
        }
    }

    /// The OPDS catalog takes the wallabag password too, so guessing it
    /// there counts against the same limit as guessing it here.
    @Test func guessesThroughTheCatalogCountAgainstTheSameLimit() async throws {
        defer { close() }
        @Sendable func basic(_ password: String) -> HTTPFields {
            [.authorization: "Basic " + Data("alice:\(password)".utf8).base64EncodedString()]
        }
        try await app.test(.router) { client in
            #expect(try await client.execute(uri: "/opds", method: .get, headers: basic(credentials.password)).status == .ok)
            for guess in 0..<6 {
                #expect(try await client.execute(uri: "/opds", method: .get, headers: basic("guess-\(guess)")).status == .unauthorized)
            }
            for _ in 0..<4 {
                _ = try await client.execute(
                    uri: "/oauth/v2/token", method: .post, headers: [.contentType: "application/json"],
                    body: try Self.json(passwordGrant(password: "guess")))
            }
            let blocked = try await client.execute(uri: "/opds", method: .get, headers: basic(credentials.password))
            #expect(blocked.status == .tooManyRequests, "ten failures in all, wherever they were made")
            #expect(
                try await client.execute(
                    uri: "/oauth/v2/token", method: .post, headers: [.contentType: "application/json"],
                    body: try Self.json(passwordGrant())
                ).status == .tooManyRequests)
        }
    }

    @Test func writesToWhatIsNotThereAreWallabagsNotFoundAndNeedASignIn() async throws {
        defer { close() }
        try await app.test(.router) { client in
            let signedIn = try await client.execute(
                uri: "/oauth/v2/token", method: .post, headers: [.contentType: "application/json"],
                body: try Self.json(passwordGrant()))
            let token = try #require(try Self.object(signedIn)["access_token"] as? String)
            for (method, path) in [
                (HTTPRequest.Method.patch, "/api/entries/12.json"), (.delete, "/api/entries/12.json"),
                (.post, "/api/entries/12/tags.json"), (.put, "/api/annotations/7.json"), (.delete, "/api/annotations/7"),
            ] {
                let answer = try await client.execute(
                    uri: path, method: method, headers: [.authorization: "Bearer \(token)", .contentType: "application/json"],
                    body: ByteBuffer(string: #"{"archive": 1, "tags": "a", "text": "t"}"#))
                #expect(answer.status == .notFound, "\(method) \(path)")
                let object = try Self.object(answer)
                #expect(object["code"] as? Int == 404 && (object["message"] as? String)?.hasSuffix("not found") == true, "\(object)")
            }
            let anonymous = try await client.execute(uri: "/api/entries/12.json", method: .patch)
            #expect(anonymous.status == .unauthorized, "signed in first, as every API call")
        }
    }

    @Test func versionAndInfoAsTheAppsReadThem() async throws {
        defer { close() }
        try await app.test(.router) { client in
            for path in ["/api/version", "/api/version.json"] {
                let version = try await client.execute(uri: path, method: .get)
                #expect(version.status == .ok && String(buffer: version.body) == #""2.6.10""#)
                #expect(String(buffer: version.body).dropFirst().dropLast() > "2.4.0", "the Android app compares it as text")
            }
            let info = try await client.execute(uri: "/api/info.json", method: .get)
            let object = try Self.object(info)
            #expect(object["appname"] as? String == "wallabag" && object["version"] as? String == "2.6.10" && object["allowed_registration"] as? Bool == false)

            // The browser extension's preflight.
            let preflight = try await client.execute(
                uri: "/api/entries.json", method: .options,
                headers: [.origin: "moz-extension://wallabagger", .accessControlRequestMethod: "GET"])
            #expect(preflight.headers[.accessControlAllowOrigin] == "*")
            #expect(preflight.headers[.accessControlAllowHeaders]?.contains("authorization") == true)
        }
    }
}
