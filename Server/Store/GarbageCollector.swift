import Dispatch
import Foundation
import Logging
import ServiceLifecycle

/// Runs `SyncStore.collectGarbage` when the server starts and then every
/// `interval`, beside the HTTP service, until the server shuts down.
struct GarbageCollector: Service {
    let store: any SyncStore
    let policy: CollectionPolicy
    let interval: Duration
    let logger: Logger

    func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                while true {
                    // A round reads and writes the database synchronously:
                    // on a thread of its own, not one of the few that serve requests.
                    await withCheckedContinuation { done in
                        DispatchQueue.global(qos: .utility).async {
                            collectOnce()
                            done.resume()
                        }
                    }
                    try await Task.sleep(for: interval)
                }
            }
        } catch is CancellationError {
            // Shutting down.
        }
    }

    private func collectOnce() {
        do {
            let report = try store.collectGarbage(now: Date(), policy: policy)
            guard report != CollectionReport() else { return }
            logger.info(
                "collected",
                metadata: [
                    "rs.retired_devices": "\(report.retiredDevices)", "rs.articles": "\(report.articles)",
                    "rs.fields": "\(report.fields)",
                ])
        } catch {
            // The next round tries again; the data is untouched (one transaction per user).
            logger.error("collection failed", metadata: ["rs.error": "\(error)"])
        }
    }
}
