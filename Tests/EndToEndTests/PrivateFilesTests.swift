import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Homes and data folders hold libraries and tokens: the real binary makes
/// them private whatever the umask, tightens ones an earlier version left
/// readable (saying so in one line, and keeping everything in them), and
/// prints a token only where the user asked for one.
@Suite(.serialized) struct PrivateFilesTests {
    static func mode(_ path: String) throws -> UInt32 {
        guard let permissions = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int else { throw POSIXError(.ENOENT) }
        return UInt32(permissions) & 0o7777
    }

    @Test func aHomeIsPrivateWhateverTheUmaskAndAnOlderOneIsTightenedWithANotice() throws {
        let device = Device()
        // umask 000 would make files 0666 and folders 0777.
        let added = try ReadSyncBinary.run(["client", "--home", device.home, "add", try ReadSyncBinary.seed("001")], umask: "000")
        #expect(added.status == 0, "\(added.stderr)")
        #expect(try Self.mode(device.home) == 0o700)
        #expect(try Self.mode(device.database) == 0o600)

        // As an earlier version left it.
        #expect(chmod(device.home, 0o755) == 0)
        #expect(chmod(device.database, 0o644) == 0)
        let listed = try device.client("list")
        #expect(listed.status == 0)
        #expect(listed.stdout.contains(String(added.lastLine.prefix(8))), "the library is intact")
        #expect(
            listed.stderr.split(separator: "\n") == [
                "Note: tightened permissions of \(device.home) (was 0755, now 0700): it holds your library and your server token.",
                "Note: tightened permissions of \(device.database) (was 0644, now 0600): it holds your library and your server token.",
            ])
        #expect(try Self.mode(device.home) == 0o700)
        #expect(try Self.mode(device.database) == 0o600)
        #expect(try device.client("list").stderr.isEmpty, "nothing more to say once tightened")
    }

    @Test func aDataFolderIsPrivateWhateverTheUmaskAndAnOlderOneIsTightenedWithANotice() throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("readsync-e2e-private-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: data) }
        let database = (data as NSString).appendingPathComponent("server.sqlite")
        let created = try ReadSyncBinary.run(["user", "add", "alice", "--data", data], umask: "000")
        #expect(created.status == 0, "\(created.stderr)")
        #expect(try Self.mode(data) == 0o700)
        #expect(try Self.mode(database) == 0o600)

        #expect(chmod(data, 0o755) == 0)
        #expect(chmod(database, 0o644) == 0)
        let server = try ServerProcess(data: data)
        defer { server.terminate() }
        #expect(server.waitForLog("tightened permissions of \(data) (was 0755, now 0700): it holds every user's library", seconds: 10), "\(server.log)")
        #expect(server.log.contains("tightened permissions of \(database) (was 0644, now 0600)"))
        #expect(try Self.mode(data) == 0o700)
        #expect(try Self.mode(database) == 0o600)

        // The user is still there, and a sync writes through the WAL.
        let device = Device()
        #expect(try device.client("init", "--server", server.url, "--token", created.lastLine).status == 0)
        try device.client("add", try ReadSyncBinary.seed("000"))
        let synced = try device.client("sync")
        #expect(synced.status == 0, "\(synced.stderr)")
        #expect(try Self.mode(database + "-wal") == 0o600)
        #expect(try Self.mode(database + "-shm") == 0o600)
        #expect(try Self.mode((data as NSString).appendingPathComponent("serve.lock")) == 0o600)

        let backup = (data as NSString).appendingPathComponent("backup.sqlite")
        let backedUp = try ReadSyncBinary.run(["backup", "--data", data, "--out", backup], umask: "000")
        #expect(backedUp.status == 0, "\(backedUp.stderr)")
        #expect(try Self.mode(backup) == 0o600)
    }

    /// The token appears where the user asked for it (`user add`, `user
    /// token`), and nowhere else: not in `init`, `status`, sync messages or
    /// errors, nor in the server's log.
    @Test func theTokenIsShownOnlyWhereAskedFor() throws {
        let server = try ServerProcess()
        defer {
            server.terminate()
            server.removeData()
        }
        let token = try server.addUser("alice")
        #expect(token.count == 64)
        let device = Device()
        var outputs: [ReadSyncBinary.Result] = []
        // From standard input: an argument would show in the process list while init runs.
        outputs.append(try device.client("init", "--server", server.url, "--token", "-", stdin: token + "\n"))
        outputs.append(try device.client("add", try ReadSyncBinary.seed("002")))
        outputs.append(try device.client("sync"))
        outputs.append(try device.client("status"))
        outputs.append(try device.client("status", "--json"))
        #expect(outputs.allSatisfy { $0.status == 0 })
        let newToken = try ReadSyncBinary.run(["user", "token", "alice"] + server.storeOptions)
        #expect(newToken.status == 0)
        #expect(newToken.lastLine.count == 64 && newToken.lastLine != token, "asked for: printed")
        let refused = try device.client("sync")  // with the replaced token
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("refused this device's token"))
        outputs.append(refused)
        for output in outputs {
            #expect(!output.stdout.contains(token) && !output.stderr.contains(token), "\(output.stdout)\(output.stderr)")
        }
        #expect(!server.log.contains(token))
        #expect(!server.log.contains(newToken.lastLine))
    }
}
