import Dispatch
import HTTPTypes
import Hummingbird
import Logging

/// One log line per request, when it is answered: its id, method, route
/// (the pattern, not the path: a cursor or a name in a path never reaches
/// the log), status, duration and, once its token was checked, the user's
/// id. Never a header: the token travels in one.
struct RequestLogMiddleware: RouterMiddleware {
    typealias Context = SyncRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = DispatchTime.now().uptimeNanoseconds
        do {
            let response = try await next(request, context)
            log(request, context, status: response.status, since: start)
            return response
        } catch {
            log(request, context, status: (error as? any HTTPResponseError)?.status ?? .internalServerError, since: start)
            throw error
        }
    }

    private func log(_ request: Request, _ context: Context, status: HTTPResponse.Status, since start: UInt64) {
        let milliseconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1_000_000
        var metadata: Logger.Metadata = [
            "rs.method": "\(request.method.rawValue)",
            "rs.route": "\(context.endpointPath ?? "unmatched")",
            "rs.status": "\(status.code)",
            "rs.duration_ms": "\((milliseconds * 1000).rounded() / 1000)",
        ]
        if let user = context.facts.user { metadata["rs.user"] = "\(user)" }
        context.logger.info("request", metadata: metadata)
    }
}
