import Foundation
import PrivateStorage
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The embedded store is for one process: `readsync serve` holds an
/// exclusive lock (`flock`) on `serve.lock` in its data folder, with its
/// process id written in it, for as long as it serves. A second `serve` on
/// the same folder is refused, naming the first; the operating system
/// releases the lock when a server dies. (`user` and `backup` commands open
/// the database beside a running server on purpose: they take no lock.)
final class DataFolderLock: Sendable {
    private let descriptor: Mutex<Int32?>

    /// Takes the lock on `directory`, or throws `DataFolderInUse`.
    init(directory: URL) throws {
        // 0700 when new (an existing folder is tightened by the store, which opens next).
        if !FileManager.default.fileExists(atPath: directory.path) { try PrivateFiles.makeDirectory(directory) }
        let path = directory.appendingPathComponent("serve.lock").path
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path]) }
        // 0600 whatever the umask, and for a lock file an earlier version made 0644.
        _ = fchmod(fd, 0o600)
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EINTR else {
                let holder = (try? String(contentsOfFile: path, encoding: .utf8)).flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
                close(fd)
                throw DataFolderInUse(folder: directory.path, process: holder)
            }
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        descriptor = Mutex(fd)
    }

    /// Gives the folder up (at the end of `serve`); later calls do nothing.
    func release() {
        guard
            let fd = descriptor.withLock({ held in
                defer { held = nil }
                return held
            })
        else { return }
        flock(fd, LOCK_UN)
        close(fd)
    }

    deinit { release() }
}

/// Another `readsync serve` runs on the data folder.
public struct DataFolderInUse: Error, Equatable, CustomStringConvertible {
    public let folder: String
    /// The process serving it, as it wrote itself in the lock file.
    public let process: Int32?

    public var description: String {
        let who = process.map { "another readsync serve (process \($0))" } ?? "another readsync serve"
        return "the data folder \(folder) is in use by \(who); stop that one first, or give this one another --data"
    }
}
