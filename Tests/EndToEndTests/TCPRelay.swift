import Foundation
import ReadSyncTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// A TCP forwarder on 127.0.0.1 and a kernel-chosen port, in front of a
/// server process. Devices talk to the relay, so the server behind it can be
/// restarted on a new port without the devices noticing (a restart on the
/// old port would race with parallel tests), and the relay can cut a
/// connection in the middle of a response, as a dying network does.
final class TCPRelay: @unchecked Sendable {
    // @unchecked: the settings are guarded by `lock`; `listener` is set in
    // init; each connection's descriptors belong to the threads serving it.
    private let lock = NSLock()
    private var upstream: Int
    private var cutAfter: Int?
    private var listener: LoopbackListener?

    var port: Int { listener!.port }
    var url: String { "http://127.0.0.1:\(port)" }

    init(to upstreamPort: Int) throws {
        upstream = upstreamPort
        listener = try LoopbackListener { [self] client in
            let (target, limit) = lock.withLock { (upstream, cutAfter) }
            Thread { Self.serve(client, upstreamPort: target, cutAfter: limit) }.start()
        }
    }

    /// Forwards new connections to another port from now on.
    func retarget(to upstreamPort: Int) { lock.withLock { upstream = upstreamPort } }

    /// New connections are cut (both directions closed) once the server has
    /// sent `bytes` bytes of its answer; nil forwards everything.
    func cutResponses(after bytes: Int?) { lock.withLock { cutAfter = bytes } }

    func stop() { listener?.stop() }

    /// Pumps both directions until either side is done (or the cut), then
    /// closes both descriptors once, after both pumps stopped using them.
    private static func serve(_ client: Int32, upstreamPort: Int, cutAfter: Int?) {
        guard let server = try? Socket.connect(port: upstreamPort) else {
            close(client)
            return
        }
        let requestDone = DispatchSemaphore(value: 0)
        Thread {
            pump(from: client, to: server, limit: nil)
            shutdown(server, Int32(SHUT_WR))
            requestDone.signal()
        }.start()
        pump(from: server, to: client, limit: cutAfter)
        shutdown(client, Int32(SHUT_RDWR))
        shutdown(server, Int32(SHUT_RDWR))
        requestDone.wait()
        close(client)
        close(server)
    }

    private static func pump(from source: Int32, to destination: Int32, limit: Int?) {
        var buffer = [UInt8](repeating: 0, count: 16_384)
        var forwarded = 0
        while limit.map({ forwarded < $0 }) ?? true {
            let wanted = min(buffer.count, limit.map { $0 - forwarded } ?? buffer.count)
            let count = read(source, &buffer, wanted)
            guard count > 0 else { return }
            var offset = 0
            while offset < count {
                let written = buffer.withUnsafeBytes { send(destination, $0.baseAddress! + offset, count - offset, Int32(MSG_NOSIGNAL)) }
                guard written > 0 else { return }
                offset += written
            }
            forwarded += count
        }
    }
}
