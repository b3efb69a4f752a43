import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Tells when a library's database files are written, by any process
/// (another `readsync client` command on the same home): inotify on the
/// home folder, so a watching sync sleeps in `poll` instead of waking on a
/// timer. SQLite writes a commit to the `-wal` file (or, without WAL, to the
/// database file), and each write is an event.
final class LibraryWatcher: @unchecked Sendable {
    // @unchecked: the descriptors are set once; `wake` may be called from
    // any thread (a write to a pipe), the rest from the watching thread only.
    private let inotify: Int32
    private let wakePipe: (read: Int32, write: Int32)
    private let databaseName: String

    init(home: ClientHome) throws {
        databaseName = home.databaseURL.lastPathComponent
        inotify = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
        guard inotify >= 0 else { throw HomeError.unavailable(path: home.directory.path, reason: "it cannot be watched (\(String(cString: strerror(errno))))") }
        let mask = UInt32(IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE)
        guard inotify_add_watch(inotify, home.directory.path, mask) >= 0 else {
            let reason = String(cString: strerror(errno))
            close(inotify)
            throw HomeError.unavailable(path: home.directory.path, reason: "it cannot be watched (\(reason))")
        }
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else {
            close(inotify)
            throw HomeError.unavailable(path: home.directory.path, reason: "a pipe cannot be made (\(String(cString: strerror(errno))))")
        }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        wakePipe = (fds[0], fds[1])
    }

    deinit {
        close(inotify)
        close(wakePipe.read)
        close(wakePipe.write)
    }

    /// Blocks until the database files are written (true) or `wake` is
    /// called (false).
    func waitForWrite() -> Bool {
        while true {
            var fds = [pollfd(fd: inotify, events: Int16(POLLIN), revents: 0), pollfd(fd: wakePipe.read, events: Int16(POLLIN), revents: 0)]
            let ready = poll(&fds, 2, -1)
            if ready < 0 {
                if errno == EINTR { continue }
                return false
            }
            if fds[1].revents != 0 { return false }
            if fds[0].revents != 0, drainEvents() { return true }
        }
    }

    /// Ends a `waitForWrite` in progress, and every later one.
    func wake() {
        var byte: UInt8 = 1
        _ = write(wakePipe.write, &byte, 1)
    }

    /// Reads the pending events; whether one concerns the database's files.
    private func drainEvents() -> Bool {
        var touched = false
        let size = 64 * 1024
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: MemoryLayout<inotify_event>.alignment)
        defer { buffer.deallocate() }
        while true {
            let count = read(inotify, buffer, size)
            guard count > 0 else { return touched }
            var offset = 0
            while offset + MemoryLayout<inotify_event>.size <= count {
                let event = buffer.load(fromByteOffset: offset, as: inotify_event.self)
                if event.len > 0 {
                    let name = String(cString: buffer.advanced(by: offset + MemoryLayout<inotify_event>.size).assumingMemoryBound(to: CChar.self))
                    if name.hasPrefix(databaseName) { touched = true }
                }
                offset += MemoryLayout<inotify_event>.size + Int(event.len)
            }
        }
    }
}
