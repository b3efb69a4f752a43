import CoreMetrics
import Metrics
import Prometheus

/// What the server counts, through swift-metrics, and `GET /metrics` in
/// the Prometheus text format through swift-prometheus.
///
/// swift-metrics has one backend per process (`MetricsSystem.bootstrap` may
/// run once), and Hummingbird's `MetricsMiddleware` records every request
/// through it; so the registry is the process's, and the figures are the
/// process's: servers run side by side in one process (tests) share them.
public enum ServerMetrics {
    /// The process's registry, bootstrapped as swift-metrics' backend the
    /// first time it is asked for (by the first server, or `serve`).
    public static let registry: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        // Sync requests take milliseconds; long-running ones (a page of a
        // full sync) up to seconds.
        factory.defaultDurationHistogramBuckets = [
            .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
            .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
        ]
        MetricsSystem.bootstrap(factory)
        return registry
    }()

    // Created after the bootstrap (`registry` first), so they reach it.
    static let pushes = Counter(label: "readsync_pushes_total")
    static let pulls = Counter(label: "readsync_pulls_total")
    static let changesAccepted = Counter(label: "readsync_changes_accepted_total")
    static let changesIgnored = Counter(label: "readsync_changes_ignored_total")
    /// Accepted changes left beside a concurrent version of their field.
    static let conflicts = Counter(label: "readsync_conflicts_total")
    static let changesSent = Counter(label: "readsync_changes_sent_total")
    static let clockSkewRefusals = Counter(label: "readsync_clock_skew_refusals_total")
    /// Requests answered 507: the disk the store writes to was full.
    static let diskFullRefusals = Counter(label: "readsync_disk_full_refusals_total")
    static let databaseBytes = Gauge(label: "readsync_database_bytes")
    /// Pulls held open until the user's feed moves (`ChangeNotifier`).
    static let waitingDevices = Gauge(label: "readsync_waiting_devices")

    /// Makes sure the backend is in place before anything is counted.
    static func bootstrap() { _ = registry }

    static func recordPush(_ outcome: PushOutcome) {
        pushes.increment()
        changesAccepted.increment(by: outcome.accepted)
        changesIgnored.increment(by: outcome.ignored)
        conflicts.increment(by: outcome.conflicts)
    }

    static func recordPull(_ page: ChangePage) {
        pulls.increment()
        changesSent.increment(by: page.changes.count)
    }

    /// The text `GET /metrics` answers, with the store's size measured now.
    static func exposition(of store: any SyncStore) async -> String {
        if let bytes = try? await store.databaseBytes() { databaseBytes.record(bytes) }
        return registry.emitToString()
    }
}
