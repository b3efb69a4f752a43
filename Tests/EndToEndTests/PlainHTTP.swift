import Foundation
import ReadSyncTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// One plain HTTP/1.0 request on loopback (so the body comes whole, never
/// chunked, and the server closes the connection), for the operator and
/// sign-in endpoints: the status and the body as the server sent them.
enum PlainHTTP {
    static func get(port: Int, _ path: String) throws -> (status: Int, body: String) {
        try request(port: port, "GET", path)
    }

    static func request(port: Int, _ method: String, _ path: String, contentType: String? = nil, body: String = "") throws -> (status: Int, body: String) {
        let fd = try Socket.connect(port: port)
        defer { close(fd) }
        var head = "\(method) \(path) HTTP/1.0\r\nHost: 127.0.0.1\r\n"
        if let contentType { head += "Content-Type: \(contentType)\r\nContent-Length: \(body.utf8.count)\r\n" }
        Socket.send(fd, head + "\r\n" + body)
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = read(fd, &buffer, buffer.count)
            if count <= 0 { break }
            data.append(contentsOf: buffer[0..<count])
        }
        let text = String(decoding: data, as: UTF8.self)
        guard let headEnd = text.range(of: "\r\n\r\n") else { throw SmallDisk.Failure(description: "no HTTP answer to \(method) \(path): \(text.prefix(200))") }
        let statusLine = text[..<headEnd.lowerBound].split(separator: "\r\n").first ?? ""
        let status = statusLine.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
        return (status, String(text[headEnd.upperBound...]))
    }
}
