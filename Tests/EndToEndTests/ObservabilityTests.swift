import Foundation
import ReadSyncTestSupport
import Testing

/// What the person running a real `readsync serve --log-format json` sees,
/// read with software nobody here wrote: `/metrics` through the Prometheus
/// project's own text parser (prometheus-client, from PyPI), the log
/// through a JSON parser.
@Suite(.serialized) struct ObservabilityTests {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// One sample as the parser gives it.
    struct Sample: Decodable {
        let name: String
        let labels: [String: String]
        let value: Double
    }

    /// One metric family as the parser gives it (its name without `_total`
    /// for a counter: the parser strips it).
    struct Family: Decodable {
        let name: String
        let type: String
        let samples: [Sample]
    }

    /// The venv `scripts/setup.sh` makes with prometheus-client in it.
    static let python = RepositoryPaths.root.appendingPathComponent(".build/python-tools/bin/python")

    /// Prints every family of the exposition on stdin as JSON.
    static let parserScript = """
        import json, sys
        from prometheus_client.parser import text_string_to_metric_families
        families = [{"name": f.name, "type": f.type,
                     "samples": [{"name": s.name, "labels": s.labels, "value": s.value} for s in f.samples]}
                    for f in text_string_to_metric_families(sys.stdin.read())]
        json.dump(families, sys.stdout)
        """

    /// `text` parsed by prometheus_client; a parse error fails the test.
    static func parse(_ text: String) throws -> [Family] {
        guard FileManager.default.isExecutableFile(atPath: python.path) else {
            throw Failure(description: "no Python with prometheus-client at \(python.path): run ./scripts/setup.sh")
        }
        let process = Process()
        process.executableURL = python
        process.arguments = ["-c", parserScript]
        let input = Pipe(), output = Pipe(), errors = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        input.fileHandleForWriting.write(Data(text.utf8))
        try input.fileHandleForWriting.close()
        let json = output.fileHandleForReading.readDataToEndOfFile()
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw Failure(description: "prometheus_client could not parse /metrics: \(stderr)") }
        return try JSONDecoder().decode([Family].self, from: json)
    }

    @Test func metricsParseWithPrometheusOwnParserAndCountTheSyncs() throws {
        let server = try ServerProcess(options: ["--log-format", "json"])
        defer {
            server.terminate()
            server.removeData()
        }
        let token = try server.addUser("alice")
        let laptop = Device(), phone = Device()
        for device in [laptop, phone] { #expect(try device.client("init", "--server", server.url, "--token", token).status == 0) }
        let id = try laptop.client("add", try ReadSyncBinary.seed("001")).lastLine
        for device in [laptop, phone] { #expect(try device.client("sync").status == 0) }
        // Offline on both, the same field: concurrent writes, one conflict.
        try laptop.client("progress", id, "20")
        usleep(20_000)
        try phone.client("progress", id, "80")
        for device in [laptop, phone, laptop] { #expect(try device.client("sync").status == 0) }
        #expect((try laptop.json("conflicts") as? [Any])?.isEmpty == false, "the edits were concurrent")

        let metrics = try PlainHTTP.get(port: server.port, "/metrics")
        #expect(metrics.status == 200)
        let families = try Self.parse(metrics.body)
        func family(_ name: String) -> Family? { families.first { $0.name == name } }
        func value(_ name: String) -> Double { family(name)?.samples.first?.value ?? 0 }

        for counter in ["readsync_pushes", "readsync_pulls", "readsync_changes_accepted", "readsync_conflicts"] {
            #expect(family(counter)?.type == "counter", "\(counter) is a counter: \(families.map(\.name))")
            #expect(family(counter)?.samples.first?.name == counter + "_total")
        }
        #expect(value("readsync_pushes") >= 3)
        #expect(value("readsync_pulls") >= 3)
        #expect(value("readsync_changes_accepted") >= 2)
        #expect(value("readsync_conflicts") >= 1)
        #expect(family("readsync_database_bytes")?.type == "gauge")
        #expect(value("readsync_database_bytes") > 0)

        // Hummingbird's metrics middleware: requests by route and status…
        let pushes200 = family("hb_requests")?.samples.first {
            $0.labels["http_route"] == "/v1/push" && $0.labels["http_response_status_code"] == "200"
        }
        #expect((pushes200?.value ?? 0) >= 3, "\(families.map(\.name))")
        // …and their durations, as a histogram.
        let durations = family("http_server_request_duration")
        #expect(durations?.type == "histogram", "\(families.map { "\($0.name):\($0.type)" })")
        let pushDurations = durations?.samples.first { $0.name.hasSuffix("_count") && $0.labels["http_route"] == "/v1/push" }
        #expect((pushDurations?.value ?? 0) >= 3)
    }

    @Test func everyLogLineIsJSONWithARequestLinePerRequestAndNoToken() throws {
        let server = try ServerProcess(options: ["--log-format", "json"])
        defer {
            server.terminate()
            server.removeData()
        }
        let token = try server.addUser("alice")
        let laptop = Device(), phone = Device()
        for device in [laptop, phone] { #expect(try device.client("init", "--server", server.url, "--token", token).status == 0) }
        #expect(try laptop.client("add", try ReadSyncBinary.seed("000")).status == 0)
        for device in [laptop, phone] { #expect(try device.client("sync").status == 0) }
        #expect(try PlainHTTP.get(port: server.port, "/health").status == 200)
        // The last request's line is written as it is answered: wait for it.
        #expect(server.waitForLog(#""rs.route":"/health""#, seconds: 5))
        let log = server.log

        let lines = log.split(separator: "\n")
        #expect(!lines.isEmpty)
        var requests: [[String: String]] = []
        for line in lines {
            let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String]
            #expect(object != nil, "not a JSON object of strings: \(line)")
            if let object, object["message"] == "request" { requests.append(object) }
        }
        for request in requests {
            #expect(request["rs.route"] != nil && request["rs.status"] != nil && request["rs.method"] != nil, "\(request)")
            #expect(request["rs.duration_ms"].flatMap(Double.init) != nil, "\(request)")
        }
        let pushes = requests.filter { $0["rs.route"] == "/v1/push" && $0["rs.status"] == "200" }
        let pulls = requests.filter { $0["rs.route"] == "/v1/changes" && $0["rs.status"] == "200" }
        #expect(!pushes.isEmpty && !pulls.isEmpty, "\(requests)")
        for authenticated in pushes + pulls { #expect(authenticated["rs.user"]?.isEmpty == false, "\(authenticated)") }
        #expect(requests.contains { $0["rs.route"] == "/health" && $0["rs.status"] == "200" && $0["rs.user"] == nil })
        #expect(!log.contains(token), "the token is in the log")
    }
}
