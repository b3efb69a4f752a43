import Foundation
import ReadSyncArticles
import ReadSyncCore

/// How sync reaches the server: the seam between the real libcurl transport
/// and an in-process one for simulations.
public protocol SyncTransport {
    func push(_ request: PushRequest) throws -> PushResponse
    /// The same push, its body's entities taken from `compressed` (prepared
    /// while the previous push was on its way) when they are its own.
    func push(_ request: PushRequest, reusing compressed: CompressedEntities?) throws -> PushResponse
    /// Changes after `cursor`, leaving out those `node` wrote itself; `known`
    /// lets a server that lost history notice (`KnownHistory`).
    func pull(after cursor: Int64, limit: Int, node: NodeID, known: KnownHistory) throws -> PullResponse
}

extension SyncTransport {
    /// A transport that hands requests over as values has nothing to compress.
    public func push(_ request: PushRequest, reusing compressed: CompressedEntities?) throws -> PushResponse {
        try push(request)
    }

    /// A pull that shows no history (a look at the server from outside a device).
    public func pull(after cursor: Int64, limit: Int, node: NodeID) throws -> PullResponse {
        try pull(after: cursor, limit: limit, node: node, known: .nothing)
    }
}

/// Why a sync stopped. Local data and the outbox are untouched by a
/// failed step, so the next sync resumes.
public enum SyncError: Error, Equatable, CustomStringConvertible, LocalizedError {
    case notConfigured
    case unreachable(server: String, reason: String)
    /// The server's TLS certificate failed verification.
    case untrustedCertificate(server: String, reason: String)
    case refused(server: String, status: Int, code: ErrorCode, message: String)
    /// A pushed change was stamped too far ahead of the server's clock.
    case clockSkew(server: String, message: String, serverTime: Int64)
    case badAnswer(server: String, reason: String)
    case protocolMismatch(server: String, theirs: Int)
    case loopingResync(server: String)

    public var description: String {
        switch self {
        case .notConfigured:
            return "no sync server is set for this device"
        case .unreachable(let server, let reason):
            return "cannot reach the sync server at \(server) (\(reason)); nothing was lost, local changes stay queued"
        case .untrustedCertificate(let server, let reason):
            return "refused to sync with \(server): its certificate is not trusted (\(reason)); nothing was lost, local changes stay queued"
        case .refused(let server, let status, let code, let message):
            switch code {
            case .unauthorized:
                return
                    "the server at \(server) refused this device's token (HTTP \(status))"
            // The server's storage failed, not this device: its answer says
            // nothing of this request was stored, and the outbox is cleared
            // only by an acknowledged push, so everything waits here.
            case .diskFull, .readOnly, .busy:
                let why = code == .diskFull ? "its disk is full" : code == .readOnly ? "its database is read-only" : "its database is locked by another process"
                return "the server at \(server) could not store the sync: \(why) (HTTP \(status), \(code)); nothing was lost and this device's changes "
                    + "stay queued for the next sync, once the server's operator has fixed it"
            default:
                return "the server at \(server) refused the sync (HTTP \(status), \(code)): \(message)"
            }
        case .clockSkew(let server, let message, _):
            return "the server at \(server) refused the sync: \(message)"
        case .badAnswer(let server, let reason):
            return "the server at \(server) gave an answer readsync cannot read (\(reason)); is it a readsync server?"
        case .protocolMismatch(let server, let theirs):
            return "the server at \(server) speaks readsync protocol \(theirs), this client \(SyncProtocol.version); use matching versions"
        case .loopingResync(let server):
            return "the server at \(server) keeps changing its epoch; try again later"
        }
    }

    public var errorDescription: String? { description }
}

/// Bytes one transport moved: request and response bodies, as sent on the
/// wire and as encoded before compression.
public struct SyncTraffic: Sendable, Equatable, Codable {
    public var requests = 0
    public var sentBytes = 0
    public var sentUncompressedBytes = 0
    /// Received bodies as they came, and inflated.
    public var receivedBytes = 0
    public var receivedUncompressedBytes = 0

    public init() {}
}

/// The protocol over HTTP with libcurl: one handle, so one kept-alive connection.
public final class CurlSyncTransport: SyncTransport {
    private let http: CurlHTTPClient
    private let baseURL: String
    private let token: String
    /// The device's name, percent-encoded for the query, sent with pulls.
    private let deviceNameQuery: String?
    /// What this transport has sent and received so far (bodies only).
    public private(set) var traffic = SyncTraffic()

    /// `caFile`: the PEM file of a private certificate authority to trust
    /// for the server's certificate, instead of the system's.
    public init(
        serverURL: String, token: String, deviceName: String? = nil, caFile: String? = nil,
        limits: HTTPLimits = HTTPLimits(connectTimeoutSeconds: 10, totalTimeoutSeconds: 120, maxResponseBytes: 256 * 1_048_576)
    ) {
        self.deviceNameQuery = deviceName?.addingPercentEncoding(
            withAllowedCharacters: CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~"))
        // Answers are inflated here, by libdeflate, three times as fast as
        // by libcurl's zlib: a full sync's pull is mostly gzip.
        self.http = CurlHTTPClient(limits: limits, caFile: caFile, decodesContent: false)
        self.baseURL = serverURL.hasSuffix("/") ? String(serverURL.dropLast()) : serverURL
        self.token = token
    }

    public func push(_ request: PushRequest) throws -> PushResponse {
        try push(request, reusing: nil)
    }

    public func push(_ request: PushRequest, reusing compressed: CompressedEntities?) throws -> PushResponse {
        var headers = headers(json: true)
        var body: [UInt8]
        let gzipped: Bool
        if let compressed, compressed.worthCompressing {
            let gzip = try request.gzipBody(reusing: compressed)
            traffic.sentUncompressedBytes += gzip.uncompressedCount
            body = gzip.body
            gzipped = true
        } else {
            // Nothing prepared, or too little to be worth it: written once here.
            body = try WireCoding.encode(request)
            traffic.sentUncompressedBytes += body.count
            gzipped = body.count >= Gzip.worthwhileBytes
            if gzipped { body = Gzip.compress(body) }
        }
        if gzipped { headers.append(("Content-Encoding", "gzip")) }
        traffic.sentBytes += body.count
        return try exchange(HTTPRequest(method: "POST", url: baseURL + "/v1/push", headers: headers, body: body))
    }

    public func pull(after cursor: Int64, limit: Int, node: NodeID, known: KnownHistory) throws -> PullResponse {
        try pull(after: cursor, limit: limit, node: node, known: known, waitSeconds: nil)
    }

    /// A long poll: asks the server to answer once it has changes after
    /// `cursor` that `node` did not push, or after `seconds`; returns
    /// whether it has some. (Only the news: the sync that follows pulls them.)
    /// It shows the server the device's history as a pull does: a request
    /// without it would be taken for another device's.
    public func waitForNews(after cursor: Int64, node: NodeID, known: KnownHistory, seconds: Int) throws -> Bool {
        !(try pull(after: cursor, limit: 1, node: node, known: known, waitSeconds: seconds).changes.isEmpty)
    }

    private func pull(after cursor: Int64, limit: Int, node: NodeID, known: KnownHistory, waitSeconds: Int?) throws -> PullResponse {
        var url = baseURL + "/v1/changes?after=\(cursor)&limit=\(limit)&node=\(node)"
        if let waitSeconds { url += "&wait=\(waitSeconds)" }
        // Epochs are hex digits and dashes, checkpoints digits, a colon and hex: nothing to escape.
        if let epoch = known.epoch { url += "&epoch=\(epoch)" }
        if let checkpoint = known.checkpoint { url += "&checkpoint=\(checkpoint)" }
        // Push tokens are hex digits too.
        if let token = known.lastPush { url += "&pushed=\(token)" }
        if let token = known.pendingPush { url += "&pushing=\(token)" }
        if let deviceNameQuery { url += "&name=\(deviceNameQuery)" }
        return try exchange(HTTPRequest(url: url, headers: headers(json: false)))
    }

    /// The ranges under `prefix` of the server's checksums, or its entities there.
    public func digest(prefix: String, entities: Bool) throws -> DigestResponse {
        try exchange(HTTPRequest(url: baseURL + "/v1/digest?prefix=\(prefix)" + (entities ? "&entities=true" : ""), headers: headers(json: false)))
    }

    /// Every stored version of the fields of `entities`.
    public func versions(of entities: [EntitiesRequest.Address]) throws -> [Change] {
        let body = try WireCoding.encode(EntitiesRequest(entities: entities))
        let answer: EntitiesResponse = try exchange(HTTPRequest(method: "POST", url: baseURL + "/v1/entities", headers: headers(json: true), body: body))
        return answer.changes
    }

    private func headers(json: Bool) -> [(name: String, value: String)] {
        var headers = [
            ("Authorization", "Bearer \(token)"), (SyncProtocol.versionHeader, String(SyncProtocol.version)), ("Accept", "application/json"),
            ("Accept-Encoding", "gzip"),
        ]
        if json { headers.append(("Content-Type", "application/json")) }
        return headers
    }

    private func exchange<Answer: Decodable>(_ request: HTTPRequest) throws -> Answer {
        let response: HTTPResponse
        do {
            response = try http.perform(request)
        } catch let error as HTTPTransportError where error.isUntrustedCertificate {
            throw SyncError.untrustedCertificate(server: baseURL, reason: error.description)
        } catch {
            throw SyncError.unreachable(server: baseURL, reason: String(describing: error))
        }
        traffic.requests += 1
        traffic.receivedBytes += response.body.count
        var body = response.body
        if response.headers["content-encoding"]?.lowercased() == "gzip" {
            do {
                body = try Gzip.decompress(body, limit: http.limits.maxResponseBytes)
            } catch Gzip.Failure.tooLarge(let limit) {
                throw SyncError.badAnswer(server: baseURL, reason: "a gzip body larger than \(limit) bytes inflated")
            } catch {
                throw SyncError.badAnswer(server: baseURL, reason: "a gzip body that is not valid gzip")
            }
        }
        traffic.receivedUncompressedBytes += body.count
        guard response.status == 200 else {
            if let error = try? WireCoding.decode(ErrorResponse.self, from: body) {
                if error.error.code == .clockSkew, let serverTime = error.serverTime {
                    throw SyncError.clockSkew(server: baseURL, message: error.error.message, serverTime: serverTime)
                }
                if error.error.code == .unsupportedProtocol, let theirs = response.headers[SyncProtocol.versionHeader.lowercased()].flatMap({ Int($0) }) {
                    throw SyncError.protocolMismatch(server: baseURL, theirs: theirs)
                }
                throw SyncError.refused(server: baseURL, status: response.status, code: error.error.code, message: error.error.message)
            }
            throw SyncError.badAnswer(server: baseURL, reason: "HTTP \(response.status) without a readsync error body")
        }
        if let theirs = response.headers[SyncProtocol.versionHeader.lowercased()].flatMap({ Int($0) }), theirs != SyncProtocol.version {
            throw SyncError.protocolMismatch(server: baseURL, theirs: theirs)
        }
        do {
            return try WireCoding.decode(Answer.self, from: body)
        } catch {
            throw SyncError.badAnswer(server: baseURL, reason: "unexpected JSON")
        }
    }
}
