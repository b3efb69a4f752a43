import Foundation
import Hummingbird
import Logging
import NIOCore
import ReadSyncArticles
import ReadSyncCore
import ServiceLifecycle
import UnixSignals

/// Where and how `readsync serve` runs.
public struct SyncServerConfiguration: Sendable {
    public var host: String
    /// 0 asks the kernel for a free port (tests).
    public var port: Int
    public var database: ServerDatabase
    /// A connection that sends nothing for this long (between requests, or
    /// in the middle of one: a stalled or slow-loris client) is closed, so
    /// stalled clients cannot pile up and starve everyone else.
    public var idleTimeout: Swift.Duration
    /// When devices are retired and deleted articles collected, and how
    /// often the server looks (`GarbageCollector`).
    public var collection: CollectionPolicy
    public var collectionInterval: Swift.Duration
    /// Where pages saved through the wallabag API may be fetched from:
    /// public addresses only, unless `readsync serve --fetch-private`.
    public var fetchPolicy: AddressPolicy
    /// The most field versions a push may carry and a pull page may hold.
    /// A lower one makes the server answer as earlier builds did
    /// (`SyncProtocol.changesEveryServerTakes`): what tests of a device
    /// against such a server use.
    public var changesPerRequest: Int

    public init(
        host: String = "127.0.0.1", port: Int = 8080, database: ServerDatabase, idleTimeout: Swift.Duration = .seconds(30),
        collection: CollectionPolicy = .standard, collectionInterval: Swift.Duration = .seconds(3600),
        fetchPolicy: AddressPolicy = .publicOnly, changesPerRequest: Int = SyncProtocol.maxBatchChanges
    ) {
        self.host = host
        self.port = port
        self.database = database
        self.idleTimeout = idleTimeout
        self.collection = collection
        self.collectionInterval = collectionInterval
        self.fetchPolicy = fetchPolicy
        self.changesPerRequest = changesPerRequest
    }
}

/// The sync server: the sync routes over the embedded SQLite store or PostgreSQL.
public struct SyncServer: Sendable {
    public let configuration: SyncServerConfiguration
    public let store: any SyncStore
    private let clock: any WallClock
    private let logger: Logger
    /// This process's hold on the embedded store's data folder, until `run` ends.
    private let folderLock: DataFolderLock?

    /// Opens the store (creating it on first start); throws
    /// `DataFolderInUse` when another server runs on the embedded store's
    /// folder, `DatabaseUnavailable` when PostgreSQL cannot be used.
    public init(configuration: SyncServerConfiguration, logger: Logger, clock: any WallClock = SystemWallClock()) throws {
        self.configuration = configuration
        if case .embedded(let folder) = configuration.database {
            folderLock = try DataFolderLock(directory: folder)
        } else {
            folderLock = nil
        }
        self.store = try configuration.database.open(logger: logger)
        self.clock = clock
        self.logger = logger
    }

    /// Every route and middleware of the server over `store`: what `run`
    /// serves, and what route tests drive in process (HummingbirdTesting).
    public static func router(
        store: any SyncStore, clock: any WallClock = SystemWallClock(),
        notifier: ChangeNotifier = ChangeNotifier(), fetchPolicy: AddressPolicy = .publicOnly,
        changesPerRequest: Int = SyncProtocol.maxBatchChanges
    ) -> Router<SyncRequestContext> {
        ServerMetrics.bootstrap()
        let router = Router(context: SyncRequestContext.self)
        // Outermost first: the log line and the metrics see the status
        // the error middleware turns an error into.
        router.middlewares.add(RequestLogMiddleware())
        router.middlewares.add(MetricsMiddleware())
        // The wallabag browser extension calls from a web page: preflights
        // answered, any origin (tokens travel in a header, never a cookie).
        router.middlewares.add(
            CORSMiddleware(
                allowOrigin: .all, allowHeaders: [.accept, .authorization, .contentType, .origin],
                allowMethods: [.get, .post, .put, .patch, .delete, .options]))
        router.middlewares.add(JSONErrorMiddleware())
        OperatorRoutes(store: store).register(on: router)
        SyncRoutes(store: store, clock: clock, notifier: notifier, changesPerRequest: changesPerRequest).register(on: router)
        // One count of failed sign-ins for every place a password is taken.
        let throttle = SignInThrottle()
        OPDSRoutes(store: store, throttle: throttle).register(on: router)
        WallabagRoutes(store: store, clock: clock, throttle: throttle).register(on: router)
        let replica = ServerReplica(store: store, notifier: notifier, wallClock: clock)
        WallabagEntries(store: store, clock: clock, replica: replica, fetchPolicy: fetchPolicy).register(on: router)
        WebRoutes(store: store, clock: clock, replica: replica, throttle: throttle, saving: PageSaving(fetchPolicy: fetchPolicy)).register(on: router)
        return router
    }

    /// Serves until one of `shutdownSignals` arrives (or the task is
    /// cancelled), then lets in-flight requests finish and closes the
    /// database. `onRunning` receives the bound port.
    public func run(shutdownSignals: [UnixSignal] = [.sigterm, .sigint], onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let notifier = ChangeNotifier()
        store.observePushes { user, node in notifier.changed(user, by: node) }
        let router = Self.router(
            store: store, clock: clock, notifier: notifier, fetchPolicy: configuration.fetchPolicy, changesPerRequest: configuration.changesPerRequest)
        let logger = self.logger
        let app = Application(
            router: router,
            server: .http1(configuration: .init(idleTimeout: .nanoseconds(Int64(configuration.idleTimeout / .nanoseconds(1))))),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "readsync"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                logger.info(
                    "readsync server listening",
                    metadata: [
                        "rs.port": "\(port)", "rs.epoch": "\(store.epoch)", "rs.database": "\(configuration.database)",
                    ])
                await onRunning(port)
            },
            logger: logger
        )
        let collector = GarbageCollector(store: store, policy: configuration.collection, interval: configuration.collectionInterval, logger: logger)
        // Shut down last to first: waiting pulls are answered first, so that
        // the server's wait for its requests in flight is not a long poll's.
        let group = ServiceGroup(
            configuration: .init(
                services: [app, collector, WaitingPullsService(notifier: notifier)],
                gracefulShutdownSignals: shutdownSignals, logger: logger))
        // The folder is given up last, once the database is closed.
        defer { folderLock?.release() }
        do {
            try await group.run()
        } catch {
            try? store.close()
            throw error
        }
        try store.close()
        logger.info("readsync server stopped; database closed")
    }
}

/// Answers every waiting pull when the server begins to shut down.
private struct WaitingPullsService: Service {
    let notifier: ChangeNotifier

    func run() async throws {
        try? await gracefulShutdown()
        notifier.close()
    }
}
