import Foundation
import ReadSyncServer
import Testing

/// `readsync user password NAME`: the password for the web reader, read
/// from a pipe or made with `--generate`, kept as a bcrypt hash.
struct WebPasswordTests {
    let data = FileManager.default.temporaryDirectory.appendingPathComponent("readsync-web-password-\(UUID().uuidString)").path

    func user(_ arguments: String..., stdin: String? = nil) throws -> ReadSyncBinary.Result {
        try ReadSyncBinary.run(["user"] + arguments + ["--data", data], stdin: stdin)
    }

    /// What the store keeps for `name`, read as the server will.
    func stored(_ name: String) async throws -> String? {
        let store = try SQLiteSyncStore(directory: URL(fileURLWithPath: data))
        defer { try? store.close() }
        return try await store.webPassword(ofUserNamed: name)?.hash
    }

    @Test func aPasswordFromAPipeOrGeneratedIsKeptAsABcryptHash() async throws {
        defer { try? FileManager.default.removeItem(atPath: data) }
        #expect(try user("add", "alice").status == 0)
        #expect(try await stored("alice") == nil, "none until one is set")

        let set = try user("password", "alice", stdin: "correct horse battery\n")
        #expect(set.status == 0 && !set.stdout.contains("correct horse"), "\(set.stderr)")
        let hash = try #require(try await stored("alice"))
        #expect(hash.hasPrefix("$2") && !hash.contains("correct horse"), "a bcrypt hash, not the password")
        #expect(WebPassword.verify("correct horse battery", hash: hash) && !WebPassword.verify("correct horse batter", hash: hash))

        let generated = try user("password", "alice", "--generate")
        let password = try #require(generated.lines.last)
        #expect(generated.status == 0 && password.count >= WebPassword.minimumCharacters)
        let replaced = try #require(try await stored("alice"))
        #expect(WebPassword.verify(password, hash: replaced) && !WebPassword.verify("correct horse battery", hash: replaced), "replaced")

        // Refusals: one line, a non-zero exit, nothing changed.
        for (input, reason) in [("short\n", "too short"), (String(repeating: "x", count: 73) + "\n", "too long"), ("", "no password")] {
            let refused = try user("password", "alice", stdin: input)
            #expect(refused.status != 0 && refused.stderr.contains(reason) && refused.stderr.split(separator: "\n").count == 1, "\(refused.stderr)")
        }
        #expect(try await stored("alice") == replaced)
        let unknown = try user("password", "bob", "--generate")
        #expect(unknown.status != 0 && unknown.stderr.contains("no user named 'bob'"), "\(unknown.stderr)")
    }
}
