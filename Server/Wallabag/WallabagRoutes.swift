import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import ReadSyncCore
import Synchronization

/// The parts of the wallabag API v2 that sign apps in and tell them what
/// server this is (see `shared/WALLABAG-API.md`): `POST /oauth/v2/token`
/// (the password and refresh-token grants, as JSON or a form), and
/// `/api/version` and `/api/info`.
struct WallabagRoutes: Sendable {
    let store: any SyncStore
    let clock: any WallClock
    let throttle: SignInThrottle

    /// The wallabag release whose API this speaks; the Android app compares
    /// it as text with "2.4.0".
    static let version = "2.6.10"

    func register(on router: Router<SyncRequestContext>) {
        router.post("/oauth/v2/token") { request, context in
            let body = try await RequestBodyReader.read(request, limit: 16_384)
            return try await token(
                try Self.fields(of: body, contentType: request.headers[.contentType] ?? ""), from: context.signInAddress(request.headers), context)
        }
        // The wallabag-client CLI asks with GET and the fields in the query,
        // as wallabag itself allows.
        router.get("/oauth/v2/token") { request, context in
            var fields: [String: String] = [:]
            for (name, value) in request.uri.queryParameters { fields[String(name)] = String(value) }
            return try await token(fields, from: context.signInAddress(request.headers), context)
        }
        for path in ["/api/version", "/api/version.json"] {
            router.get(RouterPath(path)) { _, _ in try Self.json(Self.version) }
        }
        for path in ["/api/info", "/api/info.json"] {
            router.get(RouterPath(path)) { _, _ in
                try Self.json(["appname": "wallabag", "version": Self.version, "allowed_registration": false] as [String: any Sendable])
            }
        }
    }

    // MARK: - Signing in

    private func token(_ fields: [String: String], from address: String, _ context: SyncRequestContext) async throws -> Response {
        let now = clock.nowMilliseconds() / 1000
        switch fields["grant_type"] {
        case "password":
            let name = fields["username"] ?? ""
            if let wait = throttle.refusal(user: name, address: address) { throw Self.tooManyAttempts(wait) }
            guard let clientID = fields["client_id"], let account = try await store.wallabagAccount(clientID: clientID),
                AccessToken.hash(fields["client_secret"] ?? "") == account.credentials.secretHash
            else {
                throttle.failed(user: name, address: address)
                throw OAuthError.invalidClient
            }
            guard name == account.name, AccessToken.hash(fields["password"] ?? "") == account.credentials.passwordHash else {
                throttle.failed(user: name, address: address)
                throw OAuthError.invalidGrant("Invalid username and password combination")
            }
            context.facts.user = account.user
            return try Self.tokens(for: account, now: now)
        case "refresh_token":
            let refresh = fields["refresh_token"] ?? ""
            guard let clientID = WallabagToken.clientID(of: refresh), clientID == fields["client_id"] ?? clientID,
                let account = try await store.wallabagAccount(clientID: clientID),
                fields["client_secret"].map({ AccessToken.hash($0) == account.credentials.secretHash }) ?? true,
                WallabagToken.isValid(refresh, .refresh, for: account, now: now)
            else { throw OAuthError.invalidGrant("Invalid refresh token") }
            context.facts.user = account.user
            return try Self.tokens(for: account, now: now)
        case let other:
            throw OAuthError.unsupportedGrant(other ?? "")
        }
    }

    private static func tokens(for account: WallabagAccount, now: Int64) throws -> Response {
        try json(
            [
                "access_token": WallabagToken.make(.access, for: account, now: now),
                "expires_in": WallabagToken.Kind.access.lifetime,
                "token_type": "bearer",
                "scope": NSNull(),
                "refresh_token": WallabagToken.make(.refresh, for: account, now: now),
            ] as [String: any Sendable])
    }

    static func tooManyAttempts(_ wait: Int) -> APIError {
        var refusal = APIError(
            .tooManyRequests, code: .tooManyAttempts,
            message: "too many failed sign-ins for this user or from this address; try again in \(wait) s")
        refusal.headers[.retryAfter] = String(wait)
        return refusal
    }

    /// A form (`application/x-www-form-urlencoded`, as the Android app
    /// sends) or a JSON object (KOReader, the extension), as text fields.
    static func fields(of body: [UInt8], contentType: String) throws -> [String: String] {
        if contentType.lowercased().hasPrefix("application/x-www-form-urlencoded") {
            var fields: [String: String] = [:]
            for pair in String(decoding: body, as: UTF8.self).split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                func decode(_ text: Substring) -> String { text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(text) }
                fields[decode(parts[0])] = parts.count > 1 ? decode(parts[1]) : ""
            }
            return fields
        }
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
            throw OAuthError.invalidRequest("send the fields as a JSON object or a form")
        }
        return object.compactMapValues { value in
            switch value {
            case let text as String: return text
            case let number as NSNumber: return number.stringValue
            default: return nil
            }
        }
    }

    static func json(_ value: any Sendable) throws -> Response {
        let data = try JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed, .sortedKeys, .withoutEscapingSlashes])
        return Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// OAuth2's own error answers (RFC 6749 §5.2), which wallabag apps read:
/// `{"error": …, "error_description": …}`.
enum OAuthError: Error, ForeignShapedError {
    case invalidClient
    case invalidGrant(String)
    case unsupportedGrant(String)
    case invalidRequest(String)
    /// A missing, unknown or expired access token on an API call.
    case invalidToken

    var status: HTTPResponse.Status { self == .invalidClient || self == .invalidToken ? .unauthorized : .badRequest }

    var code: String {
        switch self {
        case .invalidClient: return "invalid_client"
        case .invalidGrant, .invalidToken: return "invalid_grant"
        case .unsupportedGrant: return "unsupported_grant_type"
        case .invalidRequest: return "invalid_request"
        }
    }

    var description: String {
        switch self {
        case .invalidClient: return "The client credentials are invalid (see `readsync user wallabag NAME`)"
        case .invalidGrant(let why): return why
        case .unsupportedGrant(let grant): return "grant_type must be password or refresh_token, not '\(grant.prefix(40))'"
        case .invalidRequest(let why): return why
        case .invalidToken: return "The access token provided is invalid."
        }
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        let data = try JSONSerialization.data(withJSONObject: ["error": code, "error_description": description], options: [.sortedKeys])
        return Response(status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}

extension OAuthError: Equatable {}

/// Failed password grants, counted per user name and per address: past
/// `limit` within `window`, sign-ins are refused until the oldest failure
/// is that old. In memory, per server process: what it slows is guessing,
/// and a guess is a random 120-bit password.
final class SignInThrottle: Sendable {
    private let failures = Mutex<[String: [ContinuousClock.Instant]]>([:])
    let limit: Int
    let window: Duration

    init(limit: Int = 10, window: Duration = .seconds(300)) {
        self.limit = limit
        self.window = window
    }

    func failed(user: String, address: String) {
        let now = ContinuousClock.now
        failures.withLock { failures in
            for key in ["user:" + user, "address:" + address] { failures[key, default: []].append(now) }
        }
    }

    /// Seconds to wait, when the user or the address failed too often lately.
    func refusal(user: String, address: String) -> Int? {
        let now = ContinuousClock.now
        return failures.withLock { failures in
            var wait: Duration = .zero
            for key in ["user:" + user, "address:" + address] {
                let recent = (failures[key] ?? []).filter { now - $0 < window }
                failures[key] = recent.isEmpty ? nil : recent
                if recent.count >= limit, let oldest = recent.first { wait = max(wait, window - (now - oldest)) }
            }
            return wait > .zero ? Int(wait.components.seconds) + 1 : nil
        }
    }
}
