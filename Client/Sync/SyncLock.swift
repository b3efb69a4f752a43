import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// An exclusive lock on a library's `sync.lock` file (`flock`), held for
/// one sync: the operating system releases it if the process dies.
struct SyncLock {
    private let descriptor: Int32

    /// Waits until no other process syncs the library in `directory`.
    init(directory: URL) throws {
        let path = directory.appendingPathComponent("sync.lock").path
        descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw HomeError.unavailable(path: directory.path, reason: "its sync lock \(path) cannot be opened (\(String(cString: strerror(errno))))")
        }
        // 0600 whatever the umask, and for a lock file an earlier version made 0644.
        _ = fchmod(descriptor, 0o600)
        while flock(descriptor, LOCK_EX) != 0 {
            guard errno == EINTR else {
                let reason = String(cString: strerror(errno))
                close(descriptor)
                throw HomeError.unavailable(path: directory.path, reason: "its sync lock cannot be taken (\(reason))")
            }
        }
    }

    func release() {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
