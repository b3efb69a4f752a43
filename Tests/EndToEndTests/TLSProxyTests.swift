import Foundation
import ReadSyncTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// HTTPS as the README deploys it: real nginx (started by
/// `scripts/tls-proxy.sh`, the README's example) terminating TLS with a
/// certificate from a private authority made by real openssl, in front of a
/// real `readsync serve` on loopback, and real `readsync client` processes
/// syncing through it with libcurl, which always verifies the certificate.
@Suite(.serialized) struct TLSProxyTests {
    /// `scripts/tls-proxy.sh` running nginx in the foreground; stopped with SIGTERM.
    final class TLSProxy {
        let directory: String
        let port: Int
        private let process = Process()
        private let output: URL

        var url: String { "https://127.0.0.1:\(port)" }
        var caFile: String { (directory as NSString).appendingPathComponent("ca.pem") }
        var log: String { (try? String(contentsOf: output, encoding: .utf8)) ?? "" }

        init(backend: String) throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("readsync-e2e-tls-\(UUID().uuidString)").path
            output = URL(fileURLWithPath: directory + ".log")
            _ = FileManager.default.createFile(atPath: output.path, contents: nil)
            port = try Socket.freePort()
            process.executableURL = URL(fileURLWithPath: "/bin/bash")
            process.arguments = [RepositoryPaths.root.appendingPathComponent("scripts/tls-proxy.sh").path, directory, "127.0.0.1:\(port)", backend]
            let log = try FileHandle(forWritingTo: output)
            process.standardOutput = log
            process.standardError = log
            try process.run()
            // On a machine without nginx the script installs it first (apt):
            // wait while it runs, up to ten minutes; it stops on any failure.
            for _ in 0..<12_000 {
                if let socket = try? Socket.connect(port: port) {
                    close(socket)
                    return
                }
                guard process.isRunning else { break }
                usleep(50_000)
            }
            throw ProxyDidNotStart(log: self.log)
        }

        deinit {
            if process.isRunning {
                process.terminate()
                process.waitUntilExit()
            }
            try? FileManager.default.removeItem(atPath: directory)
            try? FileManager.default.removeItem(at: output)
        }
    }

    struct ProxyDidNotStart: Error, CustomStringConvertible {
        let log: String
        var description: String { "scripts/tls-proxy.sh did not start nginx: \(log)" }
    }

    /// A certificate authority of its own, which signed nothing the proxy shows.
    static func otherAuthority(in directory: String) throws -> String {
        let pem = (directory as NSString).appendingPathComponent("other-ca.pem")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
            "-subj", "/CN=some other CA", "-keyout", (directory as NSString).appendingPathComponent("other-ca.key"), "-out", pem,
        ]
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        return pem
    }

    @Test func aDeviceTrustingThePrivateAuthoritySyncsAndOneWithoutItIsRefused() throws {
        let server = try ServerProcess()
        defer {
            server.terminate()
            server.removeData()
        }
        let proxy = try TLSProxy(backend: server.url)
        let token = try server.addUser("alice")

        // Trusting the private authority: syncs through nginx.
        let laptop = Device()
        let initialised = try laptop.client("init", "--server", proxy.url, "--token", token, "--ca-file", proxy.caFile)
        #expect(initialised.status == 0, "\(initialised.stderr)")
        #expect(initialised.stdout.contains("trusts the certificate authority in \(proxy.caFile)"))
        let id = try laptop.client("add", try ReadSyncBinary.seed("001")).lastLine
        let pushed = try laptop.client("sync")
        #expect(pushed.status == 0, "\(pushed.stderr)\n\(proxy.log)")
        #expect(pushed.stdout.hasPrefix("Synced with \(proxy.url): pushed "))

        let phone = Device()
        #expect(try phone.client("init", "--server", proxy.url, "--token", token, "--ca-file", proxy.caFile).status == 0)
        let pulled = try phone.client("sync")
        #expect(pulled.status == 0, "\(pulled.stderr)")
        #expect(try phone.library() == laptop.library())
        #expect(try phone.client("list").stdout.contains(String(id.prefix(8))))

        // Without it (the system's authorities only): refused, naming the
        // certificate problem, and the device's own writes stay queued.
        let stranger = Device()
        #expect(try stranger.client("init", "--server", proxy.url, "--token", token).status == 0)
        try stranger.client("add", try ReadSyncBinary.seed("000"))
        let refused = try stranger.client("sync")
        #expect(refused.status != 0)
        #expect(refused.stderr.split(separator: "\n").count == 1, "one line: \(refused.stderr)")
        #expect(
            refused.stderr.hasPrefix("Error: refused to sync with \(proxy.url): its certificate is not trusted (SSL certificate problem: "),
            "\(refused.stderr)")
        #expect(refused.stderr.contains("--ca-file"))
        #expect(try stranger.client("list").stdout.split(separator: "\n").count == 1, "its own article is kept")

        // Trusting another authority is no better: the certificate is checked, not just present.
        let other = try Self.otherAuthority(in: proxy.directory)
        #expect(try stranger.client("init", "--server", proxy.url, "--token", token, "--ca-file", other).status == 0)
        let stillRefused = try stranger.client("sync")
        #expect(stillRefused.status != 0)
        #expect(stillRefused.stderr.contains("its certificate is not trusted"), "\(stillRefused.stderr)")

        // Given the right one, the same device catches up and sends its article.
        #expect(try stranger.client("init", "--server", proxy.url, "--token", token, "--ca-file", proxy.caFile).status == 0)
        let caughtUp = try stranger.client("sync")
        #expect(caughtUp.status == 0, "\(caughtUp.stderr)")
        #expect(try stranger.client("list").stdout.split(separator: "\n").count == 2)
    }

    @Test func aMissingOrWrongCAFileIsRefusedAtInit() throws {
        let device = Device()
        let missing = try device.client("init", "--server", "https://127.0.0.1:9", "--token", "t", "--ca-file", "/nonexistent/ca.pem")
        #expect(missing.status != 0)
        #expect(missing.stderr == "Error: cannot use /nonexistent/ca.pem as the certificate authority: no such file\n")
        #expect(!FileManager.default.fileExists(atPath: device.home), "refused before the home was made")

        let notPEM = try ReadSyncBinary.seed("000")
        let wrong = try device.client("init", "--server", "https://127.0.0.1:9", "--token", "t", "--ca-file", notPEM)
        #expect(wrong.status != 0)
        #expect(wrong.stderr.contains("holds no PEM certificate"), "\(wrong.stderr)")

        let plain = try device.client("init", "--server", "http://127.0.0.1:9", "--token", "t", "--ca-file", notPEM)
        #expect(plain.status != 0)
        #expect(plain.stderr == "Error: --ca-file is for an https:// server, and http://127.0.0.1:9 is not one\n")
    }
}
