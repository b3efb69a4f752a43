import Foundation
import Testing

/// `readsync user wallabag NAME`: credentials for wallabag apps, shown once
/// as `key: value` lines, that sign in at a real server until replaced or
/// revoked.
struct WallabagCredentialsTests {
    static func credentials(_ output: String) -> [String: String] {
        Dictionary(
            output.split(separator: "\n").compactMap { line in
                let parts = line.split(separator: ":", maxSplits: 1)
                return parts.count == 2 ? (String(parts[0]), parts[1].trimmingCharacters(in: .whitespaces)) : nil
            }, uniquingKeysWith: { first, _ in first })
    }

    static func signIn(_ server: ServerProcess, _ credentials: [String: String]) throws -> Int {
        let fields = [
            "grant_type": "password", "client_id": credentials["client_id"] ?? "", "client_secret": credentials["client_secret"] ?? "",
            "username": credentials["username"] ?? "", "password": credentials["password"] ?? "",
        ]
        let body = String(decoding: try JSONSerialization.data(withJSONObject: fields), as: UTF8.self)
        return try PlainHTTP.request(port: server.port, "POST", "/oauth/v2/token", contentType: "application/json", body: body).status
    }

    @Test func shownOnceSignInUntilReplacedOrRevoked() throws {
        let server = try ServerProcess()
        defer {
            server.terminate()
            server.removeData()
        }
        _ = try server.addUser("alice")

        let made = try ReadSyncBinary.run(["user", "wallabag", "alice"] + server.storeOptions)
        #expect(made.status == 0, "\(made.stderr)")
        let first = Self.credentials(made.stdout)
        #expect(made.lines.map { String($0.prefix { $0 != ":" }) } == ["client_id", "client_secret", "username", "password"])
        #expect(first["username"] == "alice" && first["client_secret"]?.count == 64 && (first["password"]?.count ?? 0) >= 20)
        #expect(try Self.signIn(server, first) == 200)

        let replaced = Self.credentials(try ReadSyncBinary.run(["user", "wallabag", "alice"] + server.storeOptions).stdout)
        #expect(replaced["client_id"] != first["client_id"] && replaced["password"] != first["password"])
        #expect(try Self.signIn(server, first) == 401, "the old ones stop")
        #expect(try Self.signIn(server, replaced) == 200)

        let revoked = try ReadSyncBinary.run(["user", "wallabag", "alice", "--revoke"] + server.storeOptions)
        #expect(revoked.status == 0 && !revoked.stdout.contains(replaced["password"]!))
        #expect(try Self.signIn(server, replaced) == 401)

        let nobody = try ReadSyncBinary.run(["user", "wallabag", "bob"] + server.storeOptions)
        #expect(nobody.status == 1 && nobody.stderr == "Error: no user named 'bob' (see `readsync user list`)\n" && nobody.stdout.isEmpty)
    }
}
