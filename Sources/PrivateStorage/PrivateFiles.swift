import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Folders only this account may enter (0700) and files only it may read
/// (0600), whatever the umask: a device home holds the whole library and
/// the server token, a server's data folder every user's library and the
/// hashes of their tokens.
///
/// Only the folder and the main database file are created here. SQLite gives
/// the `-wal`, `-shm` and `-journal` files it creates later the permission
/// bits of the main database file (`findCreateFileMode` and `robust_open` in
/// its `os_unix.c` set them with `fchmod`, past the umask), so a 0600
/// database keeps them 0600 too. That is why this does not set a
/// process-wide umask: it would not be needed for SQLite's files, and it
/// would also narrow the files a user asks for, such as `client export --out`.
public enum PrivateFiles {
    /// Makes `folder` (0700) if it is missing, else tightens it; then
    /// tightens those of `files` (names inside it) that exist. Returns what
    /// was found readable by others and tightened (or could not be).
    public static func prepare(folder: URL, files: [String]) throws -> [PermissionChange] {
        var isDirectory: ObjCBool = false
        var changes: [PermissionChange] = []
        if FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw PrivateFileError(path: folder.path, reason: "it is a file, not a folder") }
            changes += tighten([folder.path])
        } else {
            try makeDirectory(folder)
        }
        return changes + tighten(files.map { folder.appendingPathComponent($0).path })
    }

    /// Creates `folder` 0700 (its missing parents as the umask makes them).
    public static func makeDirectory(_ folder: URL) throws {
        let parent = folder.deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true)
        } catch {
            throw PrivateFileError(path: folder.path, reason: "its parent folder cannot be created")
        }
        if mkdir(folder.path, 0o700) != 0 {
            // Made by another process just now: it is checked like any existing one next time.
            guard errno == EEXIST else {
                throw PrivateFileError(path: folder.path, reason: "the folder cannot be created (\(String(cString: strerror(errno))))")
            }
            return
        }
        // mkdir's mode passes through the umask, which might take the
        // owner's own bits away too; chmod's does not.
        chmod(folder.path, 0o700)
    }

    /// Creates an empty file 0600 at `path` unless one exists; true if it made it.
    @discardableResult
    public static func makeFile(_ path: String) throws -> Bool {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            if errno == EEXIST { return false }
            throw PrivateFileError(path: path, reason: String(cString: strerror(errno)))
        }
        fchmod(fd, 0o600)
        close(fd)
        return true
    }

    /// Takes the group's and others' bits off each existing path that has
    /// any (0755 → 0700, 0644 → 0600; the owner's bits stay as they were, so
    /// nothing the owner could do before stops working). A chmod that fails
    /// (a file of another account) is reported, not thrown: the library
    /// or store still opens as it did.
    public static func tighten(_ paths: [String]) -> [PermissionChange] {
        paths.compactMap { path in
            // Through a symbolic link to what it names, as chmod goes. (Foundation's
            // attributes, not `struct stat`: which C module Swift thinks declares
            // that struct varies from build to build, and MemberImportVisibility cares.)
            let target = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: target),
                let permissions = attributes[.posixPermissions] as? Int
            else { return nil }  // not there: nothing to tighten
            let mode = UInt32(permissions) & 0o7777
            guard mode & 0o077 != 0 else { return nil }
            let tightened = mode & ~0o077
            guard chmod(path, mode_t(tightened)) == 0 else {
                return PermissionChange(path: path, before: mode, after: nil, failure: String(cString: strerror(errno)))
            }
            return PermissionChange(path: path, before: mode, after: tightened)
        }
    }
}

/// A private folder or file that cannot be made or used.
public struct PrivateFileError: Error, CustomStringConvertible {
    public let path: String
    public let reason: String

    public var description: String { "cannot use \(path): \(reason)" }
}
