import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A real, small file system for one test: a tmpfs mounted on a fresh
/// folder, which a filler file can fill to the last page (so SQLite meets a
/// real ENOSPC) or which can be remounted read-only. Mounting needs root; a
/// mount that fails throws, so the test fails saying why instead of passing
/// without having tried.
final class SmallDisk {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    let path: String
    private var filler: String { (path as NSString).appendingPathComponent("filler") }

    init(megabytes: Int) throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("readsync-disk-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        let mount = try Self.run("/usr/bin/mount", "-t", "tmpfs", "-o", "size=\(megabytes)m,mode=0755", "tmpfs", path)
        guard mount.status == 0 else {
            try? FileManager.default.removeItem(atPath: path)
            throw Failure(description: "cannot mount a \(megabytes) MiB tmpfs on \(path) (\(mount.output)); these tests fill a real disk and must run as root")
        }
    }

    /// Unmounts the tmpfs (everything on it goes) and removes its folder.
    func unmount() {
        // Lazy: a process a failed test left behind may still hold a file open.
        _ = try? Self.run("/usr/bin/umount", "-l", path)
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Bytes free for an unprivileged writer.
    var freeBytes: Int {
        var disk = statvfs()
        guard statvfs(path, &disk) == 0 else { return -1 }
        return Int(disk.f_bavail) * Int(disk.f_frsize)
    }

    /// Writes a filler file until the disk answers ENOSPC, then gives
    /// `leaving` bytes of it back; returns its size.
    @discardableResult
    func fill(leaving: Int = 0) throws -> Int {
        let fd = open(filler, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        guard fd >= 0 else { throw Failure(description: "cannot create \(filler): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let chunk = [UInt8](repeating: 0x2E, count: 1_048_576)
        var total = 0
        while true {
            let written = chunk.withUnsafeBytes { write(fd, $0.baseAddress!, $0.count) }
            if written > 0 {
                total += written
                continue
            }
            if written < 0 && errno == EINTR { continue }
            guard written < 0 && errno == ENOSPC else {
                throw Failure(description: "filling \(path) stopped with \(String(cString: strerror(errno))), not ENOSPC")
            }
            total -= min(leaving, total)
            guard ftruncate(fd, off_t(total)) == 0 else { throw Failure(description: "cannot shorten \(filler): \(String(cString: strerror(errno)))") }
            return total
        }
    }

    /// Removes the filler: the space is back.
    func free() throws {
        try FileManager.default.removeItem(atPath: filler)
    }

    /// Remounts the tmpfs read-only (`ro`) or read-write again.
    func remount(readOnly: Bool) throws {
        let result = try Self.run("/usr/bin/mount", "-o", readOnly ? "remount,ro" : "remount,rw", path)
        guard result.status == 0 else { throw Failure(description: "cannot remount \(path) \(readOnly ? "read-only" : "read-write"): \(result.output)") }
    }

    private static func run(_ executable: String, _ arguments: String...) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, output.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
