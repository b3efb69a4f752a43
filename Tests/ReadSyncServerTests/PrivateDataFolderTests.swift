import Foundation
import PrivateStorage
import ReadSyncCore
import Testing

@testable import ReadSyncServer

#if canImport(Glibc)
import Glibc
#endif

/// The embedded store's data folder holds every user's library: only the
/// server's account may read it, whatever the umask; an older folder left
/// readable is tightened when the store opens; backups are private too.
struct PrivateDataFolderTests {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("readsync-private-\(UUID().uuidString)")

    static func mode(_ path: String) throws -> UInt32 {
        guard let permissions = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int else { throw POSIXError(.ENOENT) }
        return UInt32(permissions) & 0o7777
    }

    /// The usual umask, under which files are made 0644 and folders 0755
    /// (every test process has it already; the same value set beside other
    /// tests changes nothing for them).
    static func usualUmask() { umask(0o022) }

    @Test func aNewDataFolderAndItsDatabaseFilesAreTheServersOnly() throws {
        Self.usualUmask()
        defer { try? FileManager.default.removeItem(at: directory) }
        let lock = try DataFolderLock(directory: directory)
        defer { lock.release() }
        let store = try SQLiteSyncStore(directory: directory)
        defer { try? store.close() }
        try store.addUser(name: "alice", tokenHash: "h")
        let database = directory.appendingPathComponent("server.sqlite").path
        #expect(try Self.mode(directory.path) == 0o700)
        #expect(try Self.mode(database) == 0o600)
        #expect(try Self.mode(database + "-wal") == 0o600)
        #expect(try Self.mode(database + "-shm") == 0o600)
        #expect(try Self.mode(directory.appendingPathComponent("serve.lock").path) == 0o600)
        #expect(store.permissionChanges.isEmpty)
    }

    @Test func anOlderReadableDataFolderIsTightenedAndKeepsItsUsers() async throws {
        Self.usualUmask()
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = directory.appendingPathComponent("server.sqlite").path
        do {
            let store = try SQLiteSyncStore(directory: directory)
            try store.addUser(name: "alice", tokenHash: "h")
            try store.close()
        }
        // As an earlier version left it.
        #expect(chmod(directory.path, 0o755) == 0)
        #expect(chmod(database, 0o644) == 0)

        let store = try SQLiteSyncStore(directory: directory)
        defer { try? store.close() }
        #expect(
            store.permissionChanges == [
                PermissionChange(path: directory.path, before: 0o755, after: 0o700),
                PermissionChange(path: database, before: 0o644, after: 0o600),
            ])
        #expect(try Self.mode(directory.path) == 0o700)
        #expect(try Self.mode(database) == 0o600)
        #expect(try await store.user(forTokenHash: "h") != nil, "the users are still there")
        #expect(try Self.mode(database + "-wal") == 0o600)
    }

    /// serve.lock holds only a process id, so opening says nothing of it; it is 0600 all the same.
    @Test func aLockFileLeftReadableIsMadeTheServersOnly() throws {
        Self.usualUmask()
        defer { try? FileManager.default.removeItem(at: directory) }
        let lockFile = directory.appendingPathComponent("serve.lock").path
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        #expect(FileManager.default.createFile(atPath: lockFile, contents: Data("123\n".utf8), attributes: [.posixPermissions: 0o644]))
        let lock = try DataFolderLock(directory: directory)
        defer { lock.release() }
        #expect(try Self.mode(lockFile) == 0o600)
    }

    @Test func aBackupIsTheServersOnly() throws {
        Self.usualUmask()
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try SQLiteSyncStore(directory: directory)
        try store.addUser(name: "alice", tokenHash: "h")
        let copy = directory.appendingPathComponent("copy.sqlite")
        try ServerBackup.write(dataDirectory: directory, to: copy)
        try store.close()
        #expect(try Self.mode(copy.path) == 0o600)
        // Still never overwrites.
        #expect(throws: ServerBackup.Failure.self) { try ServerBackup.write(dataDirectory: directory, to: copy) }
    }
}
