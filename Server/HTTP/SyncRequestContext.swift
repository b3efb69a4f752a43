import Foundation
import HTTPTypes
import Hummingbird
import ReadSyncArticles
import ReadSyncCore
import Synchronization

/// The request context of every route: Hummingbird's, plus what a handler
/// learns that the request's log line reports (`RequestLogMiddleware`).
public struct SyncRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Shared by the copies of the context the middleware chain passes along.
    let facts = RequestFacts()

    /// The peer's IP address (nil in process, in tests), for counting failed sign-ins.
    public let remoteAddress: String?

    public init(source: Source) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress?.ipAddress
    }

    /// The address failed sign-ins are counted by: the peer's, or, when the
    /// peer is this machine (a TLS proxy in front, as `scripts/tls-proxy.sh`
    /// sets up), the address the proxy says it served: the last entry of
    /// `X-Forwarded-For`, which the proxy appends (earlier entries are the
    /// client's to forge). Without it every user behind the proxy would
    /// share one count, and one forgotten password lock them all out.
    func signInAddress(_ headers: HTTPFields) -> String {
        guard let peer = remoteAddress else { return "unknown" }
        guard IPAddress(peer)?.addressClass == .loopback, let forwarded = headers[Self.forwardedFor],
            let last = forwarded.split(separator: ",").last?.trimmingCharacters(in: .whitespaces), !last.isEmpty
        else { return peer }
        return last
    }

    /// Whether the browser reached the server over TLS: through a TLS proxy
    /// on this machine that says so (`X-Forwarded-Proto: https`, as
    /// `scripts/tls-proxy.sh` sets it). The server itself speaks plain HTTP.
    func servedOverTLS(_ headers: HTTPFields) -> Bool {
        guard let peer = remoteAddress, IPAddress(peer)?.addressClass == .loopback else { return false }
        return headers[Self.forwardedProto]?.lowercased() == "https"
    }

    private static let forwardedFor = HTTPField.Name("X-Forwarded-For")!
    private static let forwardedProto = HTTPField.Name("X-Forwarded-Proto")!
}

/// What a handler found out about its request, for the request's log line.
final class RequestFacts: Sendable {
    private let authenticated = Mutex<UserID?>(nil)

    /// The user whose token the request carried, once it was checked.
    var user: UserID? {
        get { authenticated.withLock { $0 } }
        set { authenticated.withLock { $0 = newValue } }
    }
}
