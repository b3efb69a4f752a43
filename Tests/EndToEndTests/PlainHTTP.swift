import Foundation
import ReadSyncTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// One plain HTTP/1.0 GET on loopback (so the body comes whole, never
/// chunked, and the server closes the connection), for the operator
/// endpoints: the status and the body as the server sent them.
enum PlainHTTP {
    static func get(port: Int, _ path: String) throws -> (status: Int, body: String) {
        let fd = try Socket.connect(port: port)
        defer { close(fd) }
        Socket.send(fd, "GET \(path) HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
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
        guard let headEnd = text.range(of: "\r\n\r\n") else { throw SmallDisk.Failure(description: "no HTTP answer to GET \(path): \(text.prefix(200))") }
        let statusLine = text[..<headEnd.lowerBound].split(separator: "\r\n").first ?? ""
        let status = statusLine.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
        return (status, String(text[headEnd.upperBound...]))
    }
}
