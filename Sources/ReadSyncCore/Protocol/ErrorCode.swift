/// The code of a refusal in readsync's JSON error answers
/// (`ErrorResponse.error.code`): one set, for the server that sends them and
/// the client that reads them. Each is listed in `docs/openapi.yaml`, which
/// a test checks against `ErrorCode.all`.
///
/// A struct rather than an enum so that a client can carry a code a newer
/// server sends (it prints the server's message) and still match the codes
/// it knows: `catch SyncError.refused(_, _, .nodeInUse, _)`. Coded as its
/// raw string (the standard library's `RawRepresentable` coding).
public struct ErrorCode: RawRepresentable, Hashable, Codable, Sendable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }

    /// The request is malformed (400).
    public static let badRequest = ErrorCode(rawValue: "bad_request")
    /// The client speaks another protocol version (400; the message names both).
    public static let unsupportedProtocol = ErrorCode(rawValue: "unsupported_protocol")
    /// A Content-Encoding other than gzip (415).
    public static let unsupportedEncoding = ErrorCode(rawValue: "unsupported_encoding")
    /// No valid credentials (401).
    public static let unauthorized = ErrorCode(rawValue: "unauthorized")
    public static let notFound = ErrorCode(rawValue: "not_found")
    /// The body, or its inflated form, is larger than the server takes (413).
    public static let tooLarge = ErrorCode(rawValue: "too_large")
    /// A pushed change is stamped too far ahead of the server's clock (422,
    /// with `serverTime`).
    public static let clockSkew = ErrorCode(rawValue: "clock_skew")
    /// A push that contradicts what the server has from the same device (409).
    public static let causality = ErrorCode(rawValue: "causality")
    /// Another device pushes under this node id (409): take a new one.
    public static let nodeInUse = ErrorCode(rawValue: "node_in_use")
    /// Too many failed sign-ins: wait (429, with Retry-After).
    public static let tooManyAttempts = ErrorCode(rawValue: "too_many_attempts")
    /// The server's disk is full (507): nothing of the request was stored.
    public static let diskFull = ErrorCode(rawValue: "disk_full")
    /// The server's database is read-only (503): nothing was stored.
    public static let readOnly = ErrorCode(rawValue: "read_only")
    /// The server's database is locked by another process (503): nothing was stored.
    public static let busy = ErrorCode(rawValue: "busy")
    /// `/ready`: the server cannot serve yet (503).
    public static let notReady = ErrorCode(rawValue: "not_ready")
    /// The server failed and logged why (500).
    public static let `internal` = ErrorCode(rawValue: "internal")

    /// Every code this version sends or knows.
    public static let all: [ErrorCode] = [
        .badRequest, .unsupportedProtocol, .unsupportedEncoding, .unauthorized, .notFound, .tooLarge, .clockSkew, .causality,
        .nodeInUse, .tooManyAttempts, .diskFull, .readOnly, .busy, .notReady, .internal,
    ]
}
