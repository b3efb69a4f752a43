import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Plain blocking IPv4 loopback sockets, for tests that need to misbehave
/// below HTTP or stand in for a server.
public enum Socket {
    /// A listening socket on `host` (127.0.0.1, or another loopback address
    /// such as 127.0.0.2) and the port the kernel chose.
    public static func listen(host: String = "127.0.0.1") throws -> (Int32, Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = loopback(port: 0, host: host)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ready = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && Glibc.listen(fd, 64) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard ready else {
            close(fd)
            throw POSIXError(.EADDRINUSE)
        }
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }

    public static func connect(port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = loopback(port: port)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard connected else {
            close(fd)
            throw POSIXError(.ECONNREFUSED)
        }
        return fd
    }

    /// A port the kernel just handed out and released.
    public static func freePort() throws -> Int {
        let (fd, port) = try listen()
        close(fd)
        return port
    }

    private static func loopback(port: Int, host: String = "127.0.0.1") -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr(host)
        return address
    }

    /// Sends all of `text`; false if the peer is gone.
    @discardableResult
    public static func send(_ fd: Int32, _ text: String) -> Bool {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
            guard written > 0 else { return false }
            offset += written
        }
        return true
    }

    /// Reads until the peer closes the connection; false if it is still
    /// open at `deadline`.
    public static func waitForClose(_ fd: Int32, until deadline: Date) -> Bool {
        var timeout = timeval(tv_sec: 0, tv_usec: 100_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var buffer = [UInt8](repeating: 0, count: 4096)
        while Date() < deadline {
            let count = read(fd, &buffer, buffer.count)
            if count == 0 { return true }
            if count < 0 && errno != EAGAIN && errno != EINTR { return true }  // reset: closed too
        }
        return false
    }
}

/// A listening loopback socket whose own thread accepts connections and
/// hands each to `serve` (on that thread; spawn one to serve in parallel).
/// `serve` owns the connection and must close it.
///
/// Only the accept thread closes the listener, once, and only after `stop`
/// is done with it: a second `close`, or a `shutdown`/`accept` after the
/// close, could hit a socket someone else opened since (descriptor numbers
/// are reused at once), and NIO traps when its socket vanishes underneath it.
public final class LoopbackListener: @unchecked Sendable {
    // @unchecked: `stopping` is guarded by `lock`; `listener` is immutable.
    private let listener: Int32
    public let port: Int
    private let lock = NSLock()
    private var stopping = false

    public init(host: String = "127.0.0.1", serve: @escaping @Sendable (Int32) -> Void) throws {
        (listener, port) = try Socket.listen(host: host)
        Thread { [self] in acceptLoop(serve) }.start()
    }

    /// Wakes the accept thread, which then closes the listener.
    public func stop() {
        lock.withLock {
            guard !stopping else { return }
            stopping = true
            shutdown(listener, Int32(SHUT_RDWR))
        }
    }

    private func acceptLoop(_ serve: (Int32) -> Void) {
        while true {
            let connection = accept(listener, nil, nil)
            if connection < 0 {
                if lock.withLock({ stopping }) {
                    close(listener)
                    return
                }
                usleep(1_000)  // EINTR, a connection reset before accept, …
                continue
            }
            serve(connection)
        }
    }
}
