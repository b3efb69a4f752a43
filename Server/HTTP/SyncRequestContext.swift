import Hummingbird
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
