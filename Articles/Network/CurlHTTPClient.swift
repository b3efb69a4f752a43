import CCurl
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// An HTTP request for `CurlHTTPClient`.
public struct HTTPRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]?

    public init(method: String = "GET", url: String, headers: [(name: String, value: String)] = [], body: [UInt8]? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }
}

/// What came back.
public struct HTTPResponse: Sendable {
    public let status: Int
    /// Header names lower-cased; of the final response after redirects.
    public let headers: [String: String]
    public let body: [UInt8]
    /// The URL after redirects.
    public let effectiveURL: String

    /// The media type without parameters, lower-cased (`text/html`).
    public var mediaType: String? {
        headers["content-type"]?.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
    }

    /// The `charset` parameter of Content-Type, if any.
    public var charset: String? {
        guard let contentType = headers["content-type"] else { return nil }
        for parameter in contentType.split(separator: ";").dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if pair.count == 2, pair[0].lowercased() == "charset" { return pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\"'")) }
        }
        return nil
    }
}

/// Bounds on one transfer.
public struct HTTPLimits: Sendable {
    public var connectTimeoutSeconds: Int = 10
    public var totalTimeoutSeconds: Int = 30
    public var maxResponseBytes: Int = 20 * 1_048_576
    public var maxRedirects: Int = 10

    public init(connectTimeoutSeconds: Int = 10, totalTimeoutSeconds: Int = 30, maxResponseBytes: Int = 20 * 1_048_576, maxRedirects: Int = 10) {
        self.connectTimeoutSeconds = connectTimeoutSeconds
        self.totalTimeoutSeconds = totalTimeoutSeconds
        self.maxResponseBytes = maxResponseBytes
        self.maxRedirects = maxRedirects
    }
}

/// Why a transfer failed before an HTTP answer arrived.
public enum HTTPTransportError: Error, Equatable, CustomStringConvertible {
    /// libcurl's error, in its words (e.g. "Couldn't connect to server").
    case failed(code: Int, message: String)
    /// The response grew past `HTTPLimits.maxResponseBytes`.
    case responseTooLarge(limit: Int)
    /// `CurlHTTPClient.addressPolicy` refused the address `url` resolved to;
    /// `redirected` when a redirect led to `url`. Nothing was sent there.
    case refusedAddress(url: String, redirected: Bool, address: IPAddress, addressClass: IPAddressClass)

    public var description: String {
        switch self {
        case .failed(_, let message): return message
        case .responseTooLarge(let limit): return "the response is larger than \(limit) bytes"
        case .refusedAddress(let url, _, let address, let addressClass): return "\(url) resolves to \(address), \(addressClass)"
        }
    }

    /// The server's certificate was not trusted (or not for its name):
    /// libcurl's `CURLE_PEER_FAILED_VERIFICATION`.
    public var isUntrustedCertificate: Bool {
        if case .failed(let code, _) = self { return code == Int(CURLE_PEER_FAILED_VERIFICATION.rawValue) }
        return false
    }
}

/// HTTP(S) over libcurl. One easy handle is reused for every request, so
/// consecutive requests to one server share a connection. Redirects are
/// followed (http and https only), TLS is verified, gzip/brotli/zstd are
/// decoded (unless `decodesContent` is off), and the proxy environment
/// variables (`HTTPS_PROXY`, …) apply (but not under
/// `AddressPolicy.publicOnly`).
///
/// `addressPolicy` decides which addresses may be connected to, checked on
/// the addresses themselves after DNS, for every connection and every
/// request, redirects' included; a refusal is
/// `HTTPTransportError.refusedAddress`.
///
/// The server's certificate is always verified (libcurl's default: its
/// chain against the trusted authorities, and its name against the host);
/// nothing here turns that off. `caFile` only changes which authorities are
/// trusted: a PEM file of a private one instead of the system's.
///
/// Not thread-safe: use one client per thread.
public final class CurlHTTPClient {
    private let handle: UnsafeMutableRawPointer
    private let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE))
    public let limits: HTTPLimits
    /// The PEM file of the certificate authorities to trust, instead of the system's.
    public let caFile: String?
    /// Which addresses may be connected to: `any` for the client, which
    /// fetches for its own user; `publicOnly` for the server.
    public let addressPolicy: AddressPolicy
    /// Whether libcurl asks for compressed answers and inflates them (zlib).
    /// Off for a caller that asks, and inflates, itself.
    public let decodesContent: Bool
    /// Whether a refused address is refused before connecting, as well as
    /// before each request. Off only in the test that shows the check
    /// before each request holds on its own.
    var checksBeforeConnecting = true

    private static let globalInit: Void = { _ = curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

    public init(limits: HTTPLimits = HTTPLimits(), caFile: String? = nil, addressPolicy: AddressPolicy = .any, decodesContent: Bool = true) {
        Self.globalInit
        guard let handle = curl_easy_init() else { fatalError("curl_easy_init failed: out of memory") }
        self.handle = handle
        self.limits = limits
        self.caFile = caFile
        self.addressPolicy = addressPolicy
        self.decodesContent = decodesContent
    }

    deinit {
        curl_easy_cleanup(handle)
        errorBuffer.deallocate()
    }

    /// Performs `request`; throws `HTTPTransportError` when no complete answer
    /// arrived (any HTTP status, 4xx and 5xx included, is an answer).
    public func perform(_ request: HTTPRequest) throws -> HTTPResponse {
        curl_easy_reset(handle)
        errorBuffer[0] = 0
        let receiver = Receiver(limit: limits.maxResponseBytes)
        let unmanaged = Unmanaged.passRetained(receiver)
        defer { unmanaged.release() }

        var headerList: UnsafeMutablePointer<curl_slist>?
        for (name, value) in request.headers { headerList = curl_slist_append(headerList, "\(name): \(value)") }
        // Without this, libcurl sends "Expect: 100-continue" for large bodies and waits.
        headerList = curl_slist_append(headerList, "Expect:")
        defer { curl_slist_free_all(headerList) }

        try check(readsync_curl_setopt_string(handle, CURLOPT_URL, request.url))
        try check(readsync_curl_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 1))
        try check(readsync_curl_setopt_long(handle, CURLOPT_MAXREDIRS, limits.maxRedirects))
        try check(readsync_curl_setopt_string(handle, CURLOPT_PROTOCOLS_STR, "http,https"))
        try check(readsync_curl_setopt_string(handle, CURLOPT_REDIR_PROTOCOLS_STR, "http,https"))
        try check(readsync_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT, limits.connectTimeoutSeconds))
        try check(readsync_curl_setopt_long(handle, CURLOPT_TIMEOUT, limits.totalTimeoutSeconds))
        try check(readsync_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1))
        if decodesContent { try check(readsync_curl_setopt_string(handle, CURLOPT_ACCEPT_ENCODING, "")) }
        try check(readsync_curl_setopt_string(handle, CURLOPT_USERAGENT, "readsync/0.1 (+offline-first reading list)"))
        try check(readsync_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer))
        // libcurl copies the string. CURLOPT_CAINFO replaces the default
        // bundle, so only this authority is trusted for this device's server.
        if let caFile { try check(readsync_curl_setopt_string(handle, CURLOPT_CAINFO, caFile)) }
        try check(readsync_curl_setopt_pointer(handle, CURLOPT_HTTPHEADER, headerList))
        try check(readsync_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, unmanaged.toOpaque()))
        try check(
            readsync_curl_setopt_write_function(handle) { data, size, count, context in
                let receiver = Unmanaged<Receiver>.fromOpaque(context!).takeUnretainedValue()
                return receiver.receiveBody(data, size * count)
            })
        try check(readsync_curl_setopt_pointer(handle, CURLOPT_HEADERDATA, unmanaged.toOpaque()))
        try check(
            readsync_curl_setopt_header_function(handle) { data, size, count, context in
                let receiver = Unmanaged<Receiver>.fromOpaque(context!).takeUnretainedValue()
                return receiver.receiveHeader(data, size * count)
            })
        let addresses = AddressCheck(policy: addressPolicy, handle: handle)
        let checking = Unmanaged.passRetained(addresses)
        defer { checking.release() }
        if addressPolicy.refusesNonPublic { try checkAddresses(checking) }

        switch request.method {
        case "GET":
            try check(readsync_curl_setopt_long(handle, CURLOPT_HTTPGET, 1))
        default:
            try check(readsync_curl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, request.method))
            if let body = request.body {
                try check(readsync_curl_setopt_off_t(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count)))
                // COPYPOSTFIELDS copies the bytes, so the buffer may go away after this call.
                try body.withUnsafeBufferPointer { buffer in
                    try check(
                        readsync_curl_setopt_pointer(
                            handle, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: buffer.baseAddress ?? UnsafePointer(bitPattern: 1)!)))
                }
            }
        }

        let code = curl_easy_perform(handle)
        if receiver.exceeded { throw HTTPTransportError.responseTooLarge(limit: limits.maxResponseBytes) }
        // A refusal that did not end the transfer (a host's other address
        // was public and answered) is no failure.
        if code != CURLE_OK, let refusal = addresses.refusal { throw refusal }
        guard code == CURLE_OK else { throw failure(code) }

        var status = 0
        _ = readsync_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        var effective: UnsafeMutablePointer<CChar>?
        _ = readsync_curl_getinfo_string(handle, CURLINFO_EFFECTIVE_URL, &effective)
        return HTTPResponse(
            status: status, headers: receiver.headers, body: receiver.body,
            effectiveURL: effective.map { String(cString: $0) } ?? request.url)
    }

    /// Makes libcurl check every address it connects to, and every request's,
    /// against `addressPolicy`.
    private func checkAddresses(_ checking: Unmanaged<AddressCheck>) throws {
        // Through a proxy, the address connected to would be the proxy's,
        // and the proxy would connect to the page's host for us, unchecked.
        try check(readsync_curl_setopt_string(handle, CURLOPT_NOPROXY, "*"))
        if checksBeforeConnecting {
            // Before connecting: a refused address is never connected to, so
            // an answer does not tell an open port of the server's network
            // from a closed one. Returning no socket makes libcurl try the
            // host's next address, if any.
            try check(readsync_curl_setopt_pointer(handle, CURLOPT_OPENSOCKETDATA, checking.toOpaque()))
            try check(
                readsync_curl_setopt_opensocket_function(handle) { context, _, address in
                    let addresses = Unmanaged<AddressCheck>.fromOpaque(context!).takeUnretainedValue()
                    guard let address, let ip = IPAddress(socketAddress: address), addresses.allows(ip) else { return CURL_SOCKET_BAD }
                    return socket(address.pointee.family, address.pointee.socktype, address.pointee.protocol)
                })
        }
        // Before each request is sent, on the address its connection is to:
        // libcurl calls this after connecting (or reusing a connection), for
        // the first request and for each redirect's.
        try check(readsync_curl_setopt_pointer(handle, CURLOPT_PREREQDATA, checking.toOpaque()))
        try check(
            readsync_curl_setopt_prereq_function(handle) { context, primaryIP, _, _, _ in
                let addresses = Unmanaged<AddressCheck>.fromOpaque(context!).takeUnretainedValue()
                // An address libcurl did not say, or that does not parse, is refused.
                guard let primaryIP, let ip = IPAddress(String(cString: primaryIP)), addresses.allows(ip) else { return CURL_PREREQFUNC_ABORT }
                return CURL_PREREQFUNC_OK
            })
    }

    private func check(_ code: CURLcode) throws {
        guard code == CURLE_OK else { throw failure(code) }
    }

    private func failure(_ code: CURLcode) -> HTTPTransportError {
        let detail = errorBuffer[0] != 0 ? String(cString: errorBuffer) : String(cString: curl_easy_strerror(code))
        return .failed(code: Int(code.rawValue), message: detail)
    }
}

/// Applies an `AddressPolicy` during one transfer, and keeps the first
/// refusal; reached from libcurl's C callbacks.
private final class AddressCheck {
    let policy: AddressPolicy
    let handle: UnsafeMutableRawPointer
    var refusal: HTTPTransportError?

    init(policy: AddressPolicy, handle: UnsafeMutableRawPointer) {
        self.policy = policy
        self.handle = handle
    }

    func allows(_ address: IPAddress) -> Bool {
        guard let addressClass = policy.refusal(of: address) else { return true }
        if refusal == nil {
            // The URL being fetched now: a redirect's, after one.
            var url: UnsafeMutablePointer<CChar>?
            _ = readsync_curl_getinfo_string(handle, CURLINFO_EFFECTIVE_URL, &url)
            var redirects = 0
            _ = readsync_curl_getinfo_long(handle, CURLINFO_REDIRECT_COUNT, &redirects)
            refusal = .refusedAddress(
                url: url.map { String(cString: $0) } ?? "", redirected: redirects > 0,
                address: address, addressClass: addressClass)
        }
        return false
    }
}

extension IPAddress {
    /// The address libcurl is about to connect to.
    fileprivate init?(socketAddress: UnsafeMutablePointer<curl_sockaddr>) {
        // `addr` is declared a `sockaddr`, but libcurl keeps room for the
        // whole `sockaddr_in6` there (`addrlen` says how much is used).
        let start = UnsafeRawPointer(socketAddress) + MemoryLayout<curl_sockaddr>.offset(of: \.addr)!
        let length = Int(socketAddress.pointee.addrlen)
        switch socketAddress.pointee.family {
        case AF_INET where length >= MemoryLayout<sockaddr_in>.size:
            let address = start.loadUnaligned(as: sockaddr_in.self).sin_addr
            self.init(bytes: withUnsafeBytes(of: address) { Array($0) })
        case AF_INET6 where length >= MemoryLayout<sockaddr_in6>.size:
            let address = start.loadUnaligned(as: sockaddr_in6.self).sin6_addr
            self.init(bytes: withUnsafeBytes(of: address) { Array($0) })
        default:
            return nil
        }
    }
}

/// Collects one response; reached from libcurl's C callbacks.
private final class Receiver {
    let limit: Int
    var body: [UInt8] = []
    var headers: [String: String] = [:]
    var exceeded = false

    init(limit: Int) { self.limit = limit }

    func receiveBody(_ data: UnsafeMutablePointer<CChar>?, _ length: Int) -> Int {
        guard body.count + length <= limit else {
            exceeded = true
            return 0  // anything but `length` makes libcurl abort the transfer
        }
        if let data, length > 0 {
            data.withMemoryRebound(to: UInt8.self, capacity: length) { body.append(contentsOf: UnsafeBufferPointer(start: $0, count: length)) }
        }
        return length
    }

    func receiveHeader(_ data: UnsafeMutablePointer<CChar>?, _ length: Int) -> Int {
        guard let data else { return length }
        let line = data.withMemoryRebound(to: UInt8.self, capacity: length) { String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self) }
        if line.hasPrefix("HTTP/") {
            headers = [:]  // a new response (after a redirect or 100 Continue)
        } else if let colon = line.firstIndex(of: ":") {
            let name = line[..<colon].trimmingScalars(in: .whitespaces).lowercased()
            headers[name] = line[line.index(after: colon)...].trimmingScalars(in: .whitespacesAndNewlines)
        }
        return length
    }
}
