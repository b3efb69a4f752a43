import Foundation
import PrivateStorage
import ReadSyncArticles
import ReadSyncCore
import Testing

@testable import ReadSyncClient

#if canImport(Glibc)
import Glibc
#endif

/// A home holds the whole library and the server token: only its owner may
/// read it, whatever the umask, and an older home left readable is
/// tightened when opened, without touching what it holds.
struct PrivateHomeTests {
    let temporary = TemporaryHome()

    static func mode(_ path: String) throws -> UInt32 {
        guard let permissions = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int else { throw POSIXError(.ENOENT) }
        return UInt32(permissions) & 0o7777
    }

    /// The usual umask, under which files are made 0644 and folders 0755.
    /// (Every test process runs with it already; set it anyway, so that
    /// the test means what it says. Setting the same value is harmless to
    /// tests running beside it.)
    static func usualUmask() { umask(0o022) }

    @Test func aNewHomeAndItsDatabaseFilesAreTheOwnersOnly() throws {
        Self.usualUmask()
        let list = try temporary.open()
        try list.configureServer(url: "http://127.0.0.1:9", token: "secret-token")
        _ = try list.add(ArticleDraft(url: nil, title: "Private", content: "Nobody else reads this."))
        // With the library open, SQLite's -wal and -shm files exist.
        let database = temporary.home.databaseURL.path
        #expect(try Self.mode(temporary.home.directory.path) == 0o700)
        #expect(try Self.mode(database) == 0o600)
        #expect(try Self.mode(database + "-wal") == 0o600)
        #expect(try Self.mode(database + "-shm") == 0o600)
        #expect(list.store.permissionChanges.isEmpty, "nothing to tighten in a home made just now")
    }

    @Test func anOlderReadableHomeIsTightenedAndKeepsItsLibrary() throws {
        Self.usualUmask()
        let id: String
        do {
            let list = try temporary.open()
            try list.configureServer(url: "http://127.0.0.1:9", token: "secret-token")
            id = try list.add(ArticleDraft(url: nil, title: "Kept", content: "Still here after the permissions change.")).id
        }
        // As an earlier version left it: folder 0755, database 0644.
        let folder = temporary.home.directory.path, database = temporary.home.databaseURL.path
        #expect(chmod(folder, 0o755) == 0)
        #expect(chmod(database, 0o644) == 0)

        let reopened = try temporary.open()
        #expect(
            reopened.store.permissionChanges == [
                PermissionChange(path: folder, before: 0o755, after: 0o700),
                PermissionChange(path: database, before: 0o644, after: 0o600),
            ])
        #expect(reopened.store.permissionChanges.first?.description == "tightened permissions of \(folder) (was 0755, now 0700)")
        #expect(try Self.mode(folder) == 0o700)
        #expect(try Self.mode(database) == 0o600)
        #expect(try reopened.show(id).title == "Kept")
        // SQLite made the -wal and -shm of the reopened library like the database.
        #expect(try Self.mode(database + "-wal") == 0o600)
        #expect(try Self.mode(database + "-shm") == 0o600)

        // Once tight, opening again says nothing.
        #expect(try temporary.open().store.permissionChanges.isEmpty)
    }

    /// The server URL is shown by `status` and in every sync message: a
    /// password or token in it would be too.
    @Test func aServerURLWithCredentialsIsRefused() throws {
        let list = try temporary.open()
        #expect(throws: ServerSettingsError.credentialsInServerURL) {
            try list.configureServer(url: "https://alice:secret-token@sync.example", token: "secret-token")
        }
        #expect(throws: ServerSettingsError.credentialsInServerURL) {
            try list.configureServer(url: "https://secret-token@sync.example", token: "secret-token")
        }
        #expect(try list.status().server == nil, "nothing was stored")
    }

    @Test func aSyncLockLeftReadableIsMadeTheOwnersOnly() throws {
        Self.usualUmask()
        _ = try temporary.open()
        let lockFile = temporary.home.directory.appendingPathComponent("sync.lock").path
        #expect(FileManager.default.createFile(atPath: lockFile, contents: nil, attributes: [.posixPermissions: 0o644]))
        let lock = try SyncLock(directory: temporary.home.directory)
        lock.release()
        #expect(try Self.mode(lockFile) == 0o600)
    }

    @Test func onlyTheOthersBitsAreTaken() throws {
        Self.usualUmask()
        _ = try temporary.open()
        let database = temporary.home.databaseURL.path
        // Group-writable, and the owner without write: the owner's bits stay as they were.
        #expect(chmod(database, 0o464) == 0)
        let changes = PrivateFiles.tighten([database])
        #expect(changes == [PermissionChange(path: database, before: 0o464, after: 0o400)])
        #expect(try Self.mode(database) == 0o400)
        #expect(chmod(database, 0o600) == 0)
    }
}
