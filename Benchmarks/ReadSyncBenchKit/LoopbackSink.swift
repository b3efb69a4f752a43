import Foundation
import ReadSyncArticles
import ReadSyncClient

#if canImport(Glibc)
import Glibc
#endif

/// The physical limit for moving bytes: a minimal HTTP/1.1 server on
/// 127.0.0.1 (a port the kernel picks) that reads each request body and
/// answers an empty 200, timed from a libcurl POST of the same size.
final class LoopbackSink: @unchecked Sendable {
    // @unchecked: `listener` is set once in init; the accept thread only reads it.
    private let listener: Int32
    let port: Int

    init() throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard listener >= 0 else { throw POSIXError(.EMFILE) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(listener, 4) == 0 else {
            close(listener)
            throw POSIXError(.EADDRNOTAVAIL)
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        self.listener = listener
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread { Self.serve(listener) }.start()
    }

    deinit {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    /// Seconds to POST `bytes` bytes and get the answer, over one connection
    /// (a first small request opens it, untimed).
    func transferSeconds(bytes: Int) throws -> Double {
        let client = CurlHTTPClient(limits: HTTPLimits(totalTimeoutSeconds: 600))
        let url = "http://127.0.0.1:\(port)/sink"
        _ = try client.perform(HTTPRequest(method: "POST", url: url, body: [0]))
        let body = [UInt8](repeating: UInt8(ascii: "x"), count: bytes)
        return try Measure.seconds { _ = try client.perform(HTTPRequest(method: "POST", url: url, body: body)) }
    }

    private static func serve(_ listener: Int32) {
        while true {
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else { return }
            Thread { answer(connection) }.start()
        }
    }

    /// Answers requests on one connection until it closes.
    private static func answer(_ connection: Int32) {
        defer { close(connection) }
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var pending: [UInt8] = []
        while true {
            // Headers, then Content-Length bytes of body.
            var headerEnd: Int?
            while headerEnd == nil {
                let count = read(connection, &buffer, buffer.count)
                guard count > 0 else { return }
                pending += buffer[0..<count]
                headerEnd = pending.firstRange(of: Array("\r\n\r\n".utf8))?.upperBound
            }
            let header = String(decoding: pending[..<headerEnd!], as: UTF8.self).lowercased()
            let length =
                header.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
            var remaining = length - (pending.count - headerEnd!)
            pending = []
            while remaining > 0 {
                let count = read(connection, &buffer, min(buffer.count, remaining))
                guard count > 0 else { return }
                remaining -= count
            }
            let reply = Array("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".utf8)
            guard write(connection, reply, reply.count) == reply.count else { return }
        }
    }
}
