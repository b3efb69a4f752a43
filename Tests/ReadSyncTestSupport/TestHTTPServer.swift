import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A real HTTP/1.1 server on 127.0.0.1 (or another loopback address) and a
/// kernel-chosen port, for tests that fetch URLs with the real libcurl
/// client. Each route answers with a fixed response; one connection at a
/// time, `Connection: close`.
public final class TestHTTPServer: @unchecked Sendable {
    // @unchecked: `routes` and `listener` are written in init and only read
    // afterwards; `served` is guarded by `lock`.
    public struct Response: Sendable {
        public var status = 200
        public var headers: [String: String] = ["Content-Type": "text/html; charset=utf-8"]
        public var body: [UInt8] = []
        /// Seconds to wait before answering (for timeout tests).
        public var delay: Double = 0

        public init(status: Int = 200, headers: [String: String] = ["Content-Type": "text/html; charset=utf-8"], body: [UInt8] = [], delay: Double = 0) {
            self.status = status
            self.headers = headers
            self.body = body
            self.delay = delay
        }

        public static func html(_ text: String) -> Response { Response(body: Array(text.utf8)) }
        public static func redirect(to location: String) -> Response {
            Response(status: 302, headers: ["Location": location, "Content-Type": "text/plain"])
        }
    }

    private var routes: [String: Response]
    private let host: String
    private let lock = NSLock()
    private var served: [String] = []
    private var listener: LoopbackListener?

    /// Paths requested so far, query strings included.
    public var requests: [String] { lock.withLock { served } }

    public var port: Int { listener!.port }

    /// Listens on `host`, a loopback address.
    public init(routes: [String: Response], host: String = "127.0.0.1") throws {
        self.routes = routes
        self.host = host
        listener = try LoopbackListener(host: host) { [self] connection in
            handle(connection)
            close(connection)
        }
    }

    public func url(_ path: String) -> String { "http://\(host):\(port)\(path)" }

    public func stop() { listener?.stop() }

    private func handle(_ connection: Int32) {
        var request: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !request.containsHeaderEnd {
            let count = read(connection, &buffer, buffer.count)
            guard count > 0 else { return }
            request.append(contentsOf: buffer[0..<count])
        }
        let firstLine = String(decoding: request.prefix(while: { $0 != 13 }), as: UTF8.self)
        let target = firstLine.split(separator: " ").dropFirst().first.map(String.init) ?? "/"
        lock.withLock { served.append(target) }
        let path = String(target.split(separator: "?", maxSplits: 1).first ?? "/")
        let response = routes[path] ?? Response(status: 404, headers: ["Content-Type": "text/plain"], body: Array("not found".utf8))
        if response.delay > 0 { Thread.sleep(forTimeInterval: response.delay) }
        var head = "HTTP/1.1 \(response.status) Test\r\nContent-Length: \(response.body.count)\r\nConnection: close\r\n"
        for (name, value) in response.headers { head += "\(name): \(value)\r\n" }
        head += "\r\n"
        let bytes = Array(head.utf8) + response.body
        bytes.withUnsafeBufferPointer { pointer in
            var offset = 0
            while offset < pointer.count {
                let written = send(connection, pointer.baseAddress! + offset, pointer.count - offset, Int32(MSG_NOSIGNAL))
                guard written > 0 else { return }
                offset += written
            }
        }
    }
}

extension [UInt8] {
    fileprivate var containsHeaderEnd: Bool {
        guard count >= 4 else { return false }
        for index in 0...(count - 4) where self[index] == 13 && self[index + 1] == 10 && self[index + 2] == 13 && self[index + 3] == 10 {
            return true
        }
        return false
    }
}
