import Foundation
import ReadSyncArticles
import ReadSyncClient
import ReadSyncCore
import ReadSyncServer

#if canImport(Glibc)
import Glibc
#endif

/// Issue 15's figures: how long a write synced on device A takes to be in
/// the database of device B, which runs `sync --watch` (`LiveSync`); and
/// what holding many waiting devices costs the server.
struct LiveSyncBench {
    let server: BenchServer
    let token: String
    let rounds: Int
    let waitingDevices: Int
    let work: URL

    func run() throws -> BenchReport.Live {
        var result = BenchReport.Live()
        let a = try Device(home: work.appendingPathComponent("live-a"), server: server, token: token)
        let b = try ReadingList(home: ClientHome(directory: work.appendingPathComponent("live-b")))
        try b.configureServer(url: server.url, token: token)
        let id = try a.list.add(ArticleDraft(url: CanonicalURL("https://example.com/live"), title: "Live", content: "Watched.")).id
        _ = try a.sync()

        // B watches; each exchange that pulled something is timed when it ends.
        let pulled = Pulled()
        let live = try LiveSync(list: b)
        let watching = Thread {
            try? live.run { event in
                if case .synced(let summary, _) = event, summary.pulled > 0 { pulled.add(DispatchTime.now().uptimeNanoseconds) }
            }
        }
        watching.start()
        guard pulled.wait(count: 1, seconds: 30) else { throw BenchError.mismatch("the watching device never pulled the first article") }

        var latencies: [Double] = []
        for round in 1...rounds {
            try a.list.setProgress(id, percent: Double(round % 100 + 1))
            let before = pulled.count
            // From the start of A's sync (its push included): B may have the
            // write before A's sync returns, since A pulls after it pushes.
            let start = DispatchTime.now().uptimeNanoseconds
            _ = try a.sync()
            guard pulled.wait(count: before + 1, seconds: 30) else { throw BenchError.mismatch("round \(round): the watching device never pulled the write") }
            latencies.append(Double(pulled.last - start) / 1e6)
            usleep(5_000)  // B's exchange may still be committing its checkpoint
        }
        live.stop()
        result.rounds = rounds
        result.p50Milliseconds = Measure.percentile(latencies, 0.5)
        result.p99Milliseconds = Measure.percentile(latencies, 0.99)

        // Many devices waiting on the server at once: raw long polls, each
        // a connection of its own, as phones and laptops would hold them.
        guard let pid = server.processIdentifiers.first else { return result }
        let http = CurlHTTPClient()
        let authorized = [(name: "Authorization", value: "Bearer \(token)"), (name: SyncProtocol.versionHeader, value: String(SyncProtocol.version))]
        let head = try http.perform(HTTPRequest(url: server.url + "/v1/changes?after=0&limit=1", headers: authorized))
        let cursor = try JSONDecoder().decode(PullResponse.self, from: Data(head.body)).latest
        let rssBefore = Memory.megabytes("VmRSS", pid: String(pid)) ?? 0
        let fdsBefore = Self.openDescriptors(pid: pid)
        OpenFileLimit.raiseToHardLimit()  // a socket each, here as in the server
        var sockets: [Int32] = []
        defer { for socket in sockets { close(socket) } }
        for _ in 0..<waitingDevices {
            let socket = try Self.connect(port: server.port(0))
            let request =
                "GET /v1/changes?after=\(cursor)&limit=1&node=\(NodeID.random())&wait=60 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + "Authorization: Bearer \(token)\r\n\(SyncProtocol.versionHeader): \(SyncProtocol.version)\r\n\r\n"
            _ = request.utf8CString.withUnsafeBufferPointer { send(socket, $0.baseAddress, $0.count - 1, 0) }
            sockets.append(socket)
        }
        // Until the server says they all wait.
        let deadline = Date().addingTimeInterval(60)
        var waiting = 0.0
        while Date() < deadline {
            let text = String(decoding: try http.perform(HTTPRequest(url: server.url + "/metrics")).body, as: UTF8.self)
            waiting = text.split(separator: "\n").first { $0.hasPrefix("readsync_waiting_devices ") }.flatMap { Double($0.split(separator: " ")[1]) } ?? 0
            if Int(waiting) >= waitingDevices { break }
            usleep(50_000)
        }
        guard Int(waiting) >= waitingDevices else { throw BenchError.mismatch("only \(Int(waiting)) of \(waitingDevices) devices were waiting") }
        result.waitingDevices = waitingDevices
        result.serverRSSMegabytesBefore = rssBefore
        result.serverRSSMegabytesWaiting = Memory.megabytes("VmRSS", pid: String(pid)) ?? 0
        result.serverDescriptorsBefore = fdsBefore
        result.serverDescriptorsWaiting = Self.openDescriptors(pid: pid)

        // One push wakes them all: the time until every one has its answer.
        try a.list.setProgress(id, percent: 50)
        let start = DispatchTime.now().uptimeNanoseconds
        _ = try a.sync()
        var answered = Set<Int32>()
        var fds = sockets.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        while answered.count < sockets.count {
            guard poll(&fds, nfds_t(fds.count), 30_000) > 0 else {
                throw BenchError.mismatch("\(sockets.count - answered.count) waiting devices never answered")
            }
            for index in fds.indices where fds[index].revents != 0 {
                answered.insert(fds[index].fd)
                fds[index].events = 0
                fds[index].revents = 0
            }
        }
        result.fanOutMilliseconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
        return result
    }

    static func connect(port: Int) throws -> Int32 {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard socket >= 0, connected == 0 else { throw BenchError.mismatch("cannot connect to the server: \(String(cString: strerror(errno)))") }
        return socket
    }

    static func openDescriptors(pid: Int32) -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? 0
    }

    /// When the watching device's exchanges that pulled something ended.
    final class Pulled: @unchecked Sendable {
        private let condition = NSCondition()
        private var times: [UInt64] = []

        func add(_ time: UInt64) {
            condition.withLock {
                times.append(time)
                condition.broadcast()
            }
        }
        var count: Int { condition.withLock { times.count } }
        var last: UInt64 { condition.withLock { times.last ?? 0 } }

        func wait(count: Int, seconds: Double) -> Bool {
            condition.withLock {
                let deadline = Date().addingTimeInterval(seconds)
                while times.count < count { if !condition.wait(until: deadline) { return times.count >= count } }
                return true
            }
        }
    }
}
