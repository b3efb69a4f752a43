import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Metrics
import NIOCore
import ReadSyncCore

/// An error answer: a 4xx status and a JSON body `{"error": {"code", "message"}}`.
/// Every refusal of the protocol is one of these; nothing a client sends
/// should become a 500.
public struct APIError: Error, HTTPResponseError, CustomStringConvertible {
    public let status: HTTPResponse.Status
    public let code: ErrorCode
    public let message: String
    /// The server's clock, for `clock_skew` answers.
    public let serverTime: Int64?
    /// Headers the answer carries besides the JSON ones (`WWW-Authenticate`).
    public var headers: HTTPFields = [:]

    public init(_ status: HTTPResponse.Status, code: ErrorCode, message: String, serverTime: Int64? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.serverTime = serverTime
    }

    static func badRequest(_ message: String) -> APIError { APIError(.badRequest, code: .badRequest, message: message) }
    static func tooLarge(_ message: String) -> APIError { APIError(.contentTooLarge, code: .tooLarge, message: message) }
    static let unauthorized = APIError(
        .unauthorized, code: .unauthorized,
        message: "missing, unknown or revoked token; send 'Authorization: Bearer <token>' with a token from `readsync user add` or `readsync user token`")
    static func notFound(_ path: String) -> APIError {
        APIError(.notFound, code: .notFound, message: "no such endpoint: \(path.prefix(200)) (see /v1/openapi.yaml)")
    }

    /// The answer to a request the storage failed (`StorageFault`): nothing
    /// of it was stored, and the client can send it again later.
    init(_ fault: StorageFault) {
        switch fault {
        case .diskFull:
            ServerMetrics.diskFullRefusals.increment()
            self.init(
                HTTPResponse.Status(code: 507, reasonPhrase: "Insufficient Storage"), code: .diskFull,
                message: "the server's disk is full; nothing of this request was stored. Try again once its operator has freed space")
        case .readOnly:
            self.init(
                .serviceUnavailable, code: .readOnly,
                message: "the server's database is read-only; nothing of this request was stored. Try again later")
        case .busy:
            self.init(
                .serviceUnavailable, code: .busy,
                message: "the server's database is locked by another process; nothing of this request was stored. Try again later")
        }
    }

    public var description: String { "\(status.code) \(code): \(message)" }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = try JSONResponse.make(ErrorResponse(code: code, message: message, serverTime: serverTime), status: status, for: nil)
        response.headers.append(contentsOf: headers)
        return response
    }
}

/// JSON responses with the protocol headers, gzipped when the request
/// accepts it and the body is large enough for that to pay.
enum JSONResponse {
    static func make(_ value: some Encodable, status: HTTPResponse.Status = .ok, epoch: String? = nil, for request: Request?) throws -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        headers[HTTPField.Name(SyncProtocol.versionHeader)!] = String(SyncProtocol.version)
        if let epoch { headers[HTTPField.Name(SyncProtocol.epochHeader)!] = epoch }
        var body = try WireCoding.encode(value)
        if body.count >= Gzip.worthwhileBytes, let request, Self.acceptsGzip(request) {
            body = Gzip.compress(body)
            headers[.contentEncoding] = "gzip"
        }
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }

    private static func acceptsGzip(_ request: Request) -> Bool {
        request.headers[values: .acceptEncoding].contains { value in
            value.split(separator: ",").contains { $0.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased() == "gzip" }
        }
    }
}

/// An error answered in the shape another project's apps expect (OAuth's
/// `{"error", "error_description"}`, wallabag's `{"code", "message"}`),
/// not ours.
protocol ForeignShapedError: HTTPResponseError {}

/// Turns every error into a JSON answer: ours as they are, Hummingbird's own
/// HTTP errors with their status, anything else as a 500 that hides details.
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            // The request's own log line has the status; why, at debug.
            context.logger.debug("refused request", metadata: ["rs.error": "\(error)"])
            throw error
        } catch let error as any ForeignShapedError {
            // An API of another project's (wallabag's, OAuth's) answers in
            // that project's shape, which its apps read: kept as it is.
            throw error
        } catch let error as HTTPError {
            if error.status == .notFound { throw APIError.notFound(request.uri.path) }
            let status = error.status.code >= 500 ? HTTPResponse.Status.internalServerError : error.status
            throw APIError(status, code: status == .contentTooLarge ? .tooLarge : .badRequest, message: error.body ?? status.reasonPhrase)
        } catch {
            if let fault = StorageFault(error) {
                context.logger.error("storage fault", metadata: ["rs.route": "\(context.endpointPath ?? "unmatched")", "rs.error": "\(error)"])
                throw APIError(fault)
            }
            context.logger.error("request failed", metadata: ["rs.route": "\(context.endpointPath ?? "unmatched")", "rs.error": "\(error)"])
            throw APIError(.internalServerError, code: .internal, message: "the server failed to answer; it has logged why")
        }
    }
}
