import HTTPTypes
import Hummingbird
import NIOCore
import ReadSyncCore

/// What the person or the orchestrator running the server asks it:
/// `GET /health` (the process is alive), `GET /ready` (it can serve: its
/// database answers and has room to write) and `GET /metrics` (Prometheus).
/// None needs a token, and none tells anything about a user's library.
struct OperatorRoutes: Sendable {
    let store: any SyncStore

    func register(on router: Router<SyncRequestContext>) {
        router.get("/health") { _, _ in try JSONResponse.make(HealthResponse(epoch: store.epoch), epoch: store.epoch, for: nil) }
        router.get("/ready") { _, _ in
            do {
                try await store.checkReady()
            } catch let notReady as StoreNotReady {
                throw APIError(.serviceUnavailable, code: .notReady, message: notReady.reason)
            } catch {
                throw APIError(.serviceUnavailable, code: .notReady, message: "the store cannot serve: \(error)")
            }
            return try JSONResponse.make(ReadyResponse(), epoch: store.epoch, for: nil)
        }
        router.get("/metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: await ServerMetrics.exposition(of: store))))
        }
    }
}

/// `GET /ready`'s answer when the server can serve.
struct ReadyResponse: Encodable {
    let ready = true
}
