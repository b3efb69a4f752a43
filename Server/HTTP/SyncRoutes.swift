import FaultPoints
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Metrics
import NIOCore
import ReadSyncCore

/// The HTTP protocol (v1) over a `SyncStore`. See `SyncProtocol` and
/// `openapi.yaml` for what each endpoint takes and answers.
struct SyncRoutes: Sendable {
    let store: any SyncStore
    let clock: any WallClock
    /// Wakes pulls that wait for news (`wait=`) when a push brings some.
    let notifier: ChangeNotifier
    /// The most field versions a push may carry and a page may hold.
    let changesPerRequest: Int

    func register(on router: Router<SyncRequestContext>) {
        router.get("/v1/openapi.yaml") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/yaml"], body: ResponseBody(byteBuffer: ByteBuffer(string: OpenAPIDocument.yaml)))
        }
        router.post("/v1/push") { request, context in try await push(request, context) }
        router.get("/v1/changes") { request, context in try await changes(request, context) }
        router.get("/v1/digest") { request, context in try await digest(request, context) }
        router.post("/v1/entities") { request, context in try await entities(request, context) }
    }

    // MARK: Endpoints

    private func push(_ request: Request, _ context: SyncRequestContext) async throws -> Response {
        let user = try await authenticate(request, context)
        let body = try await RequestBodyReader.read(request, limit: SyncProtocol.maxRequestBytes)
        let push: PushRequest
        do {
            push = try WireCoding.decode(PushRequest.self, from: body)
        } catch {
            // A client of another version sends another shape: name the versions.
            if let version = Self.protocolVersion(in: body), version != SyncProtocol.version { throw Self.unsupported(version) }
            throw APIError.badRequest("the body is not a valid push request: \(DecodingErrorText.describe(error))")
        }
        guard push.protocol == SyncProtocol.version else { throw Self.unsupported(push.protocol) }
        // Computed from the entities: made once, not at each use.
        let changes = push.changes
        guard changes.count <= changesPerRequest else {
            throw APIError.tooLarge("a push may carry at most \(changesPerRequest) changes, not \(changes.count)")
        }
        if let chain = push.chain, !chain.isWellFormed { throw APIError.badRequest("'chain' tokens must be 1–64 lowercase hex digits") }
        if let ask = push.pull {
            try check(after: ask.after, limit: Int64(ask.limit), names: ("'pull.after'", "'pull.limit'"))
            try Self.check(deviceName: ask.name, named: "'pull.name'")
        }
        for (index, change) in changes.enumerated() {
            if let problem = ChangeValidation.problem(with: change) { throw APIError.badRequest("change \(index): \(problem)") }
        }
        let now = clock.nowMilliseconds()
        if let skew = SyncProtocol.excessiveSkew(of: changes, serverTime: now) {
            ServerMetrics.clockSkewRefusals.increment()
            throw APIError(
                .unprocessableContent, code: .clockSkew,
                message: """
                    this device's clock is \(DurationText.describe(milliseconds: skew)) ahead of the server's \
                    (at most \(DurationText.describe(milliseconds: SyncProtocol.maxClockSkewMilliseconds)) is allowed); set the clock right and sync again
                    """, serverTime: now)
        }
        let outcome: PushOutcome
        do {
            outcome = try await store.push(
                changes, from: push.node, for: user,
                known: KnownHistory(epoch: push.epoch, checkpoint: push.checkpoint), chain: push.chain)
        } catch let refusal as ServerMerge.Refusal {
            throw APIError(.conflict, code: .causality, message: "\(refusal); the client's clock or outbox is damaged")
        } catch let refusal as PushRefusal {
            throw APIError(.conflict, code: refusal.code, message: refusal.description)
        }
        FaultPoint.serverPushAfterCommit.reach()
        if outcome.accepted > 0 { notifier.changed(user, by: push.node) }
        ServerMetrics.recordPush(outcome)
        context.logger.debug(
            "push",
            metadata: [
                "rs.user": "\(user)", "rs.accepted": "\(outcome.accepted)", "rs.ignored": "\(outcome.ignored)",
                "rs.conflicts": "\(outcome.conflicts)",
            ])
        var pulled: PullResponse?
        if let ask = push.pull, let known = outcome.historyKnown(after: push) {
            pulled = await firstPage(of: ask, for: user, node: push.node, known: known, context)
        }
        return try JSONResponse.make(
            PushResponse(
                epoch: outcome.epoch, accepted: outcome.accepted, ignored: outcome.ignored, serverTime: now,
                checkpoint: outcome.checkpoint, pushToken: outcome.pushToken, pull: pulled, changesPerRequest: changesPerRequest),
            epoch: outcome.epoch, for: request)
    }

    /// The first page of the pull a push asked for, read once the push is
    /// merged, as `changes` would answer it; nil when it cannot be read (the
    /// push is stored all the same, and the device pulls as usual, and hears
    /// why there).
    private func firstPage(of ask: PullAsk, for user: UserID, node: NodeID, known: KnownHistory, _ context: SyncRequestContext) async -> PullResponse? {
        do {
            let page = try await store.changes(for: user, after: ask.after, limit: ask.limit, excludingOrigin: node, known: known)
            store.recordSighting(of: node, for: user, name: ask.name, pulled: ask.after)
            FaultPoint.serverPullBeforeAnswer.reach()
            ServerMetrics.recordPull(page)
            return PullResponse(page, serverTime: clock.nowMilliseconds(), changesPerRequest: changesPerRequest)
        } catch {
            context.logger.debug("pull within a push not read", metadata: ["rs.user": "\(user)", "rs.error": "\(error)"])
            return nil
        }
    }

    private func changes(_ request: Request, _ context: SyncRequestContext) async throws -> Response {
        let user = try await authenticate(request, context)
        let query = request.uri.queryParameters
        let after = try Self.integer(query["after"], name: "after", default: 0)
        let limit = try Self.integer(query["limit"], name: "limit", default: Int64(min(SyncProtocol.defaultPageSize, changesPerRequest)))
        try check(after: after, limit: limit, names: ("'after'", "'limit'"))
        var origin: NodeID?
        if let node = query["node"] {
            guard let id = NodeID(String(node)) else { throw APIError.badRequest("'node' is not a node id") }
            origin = id
        }
        var known = KnownHistory(
            epoch: query["epoch"].map(String.init), lastPush: query["pushed"].map(String.init),
            pendingPush: query["pushing"].map(String.init))
        let deviceName = query["name"].map(String.init)
        try Self.check(deviceName: deviceName, named: "'name'")
        for token in [known.lastPush, known.pendingPush].compactMap({ $0 }) where !PushChain(previous: nil, token: token).isWellFormed {
            throw APIError.badRequest("'pushed' and 'pushing' must be push tokens of 1–64 lowercase hex digits, not '\(token.prefix(40))'")
        }
        if let text = query["checkpoint"] {
            guard let checkpoint = HistoryCheckpoint(String(text)) else {
                throw APIError.badRequest("'checkpoint' must be <sequence number>:<16 hex digits>, not '\(text.prefix(40))'")
            }
            known.checkpoint = checkpoint
        }
        let wait = try Self.integer(query["wait"], name: "wait", default: 0)
        guard (0...SyncProtocol.maxWaitSeconds).contains(wait) else {
            throw APIError.badRequest("'wait' must be from 0 to \(SyncProtocol.maxWaitSeconds) seconds, not \(wait)")
        }
        var page: ChangePage
        // A long poll: with nothing to send yet, hold the request until a
        // push brings something for this device or `wait` seconds pass.
        let deadline = ContinuousClock.now + .seconds(wait)
        while true {
            let generation = notifier.generation(of: user)
            do {
                page = try await store.changes(for: user, after: after, limit: Int(limit), excludingOrigin: origin, known: known)
            } catch let refusal as PushRefusal {
                throw APIError(.conflict, code: refusal.code, message: refusal.description)
            }
            let remaining = deadline - ContinuousClock.now
            guard page.changes.isEmpty, !page.more, remaining > .zero,
                await notifier.wait(for: user, device: origin, pastGeneration: generation, timeout: remaining)
            else { break }
        }
        // What the device has applied is where it asks from: what this
        // answer brings may yet be lost on the way.
        if let origin { store.recordSighting(of: origin, for: user, name: deviceName, pulled: after) }
        FaultPoint.serverPullBeforeAnswer.reach()
        ServerMetrics.recordPull(page)
        context.logger.debug(
            "pull", metadata: ["rs.user": "\(user)", "rs.after": "\(after)", "rs.changes": "\(page.changes.count)", "rs.more": "\(page.more)"])
        return try JSONResponse.make(
            PullResponse(page, serverTime: clock.nowMilliseconds(), changesPerRequest: changesPerRequest), epoch: page.epoch, for: request)
    }

    /// The name a device is listed under, in a pull's query or within a push.
    private static func check(deviceName: String?, named field: String) throws {
        if let deviceName, deviceName.count > 100 || deviceName.unicodeScalars.contains(where: { $0.value < 32 || $0.value == 127 }) {
            throw APIError.badRequest("\(field) must be at most 100 characters without control characters")
        }
    }

    /// A pull's cursor and page size, in a query or within a push.
    private func check(after: Int64, limit: Int64, names: (after: String, limit: String)) throws {
        guard after >= 0 else { throw APIError.badRequest("\(names.after) must be a cursor of 0 or more, not \(after)") }
        guard limit >= 1 else { throw APIError.badRequest("\(names.limit) must be at least 1, not \(limit)") }
        guard limit <= changesPerRequest else {
            throw APIError.tooLarge("\(names.limit) may be at most \(changesPerRequest), not \(limit)")
        }
    }

    /// Checksums over ranges of the user's entities (`LibraryDigest`).
    private func digest(_ request: Request, _ context: SyncRequestContext) async throws -> Response {
        let user = try await authenticate(request, context)
        let query = request.uri.queryParameters
        let prefix = query["prefix"].map(String.init) ?? ""
        guard LibraryDigest.isPrefix(prefix) else { throw APIError.badRequest("'prefix' must be 0–16 lowercase hex digits") }
        let listEntities = query["entities"] == "true"
        let (registers, latest) = try await store.state(for: user)
        let all = try LibraryDigest.entities(registers)
        let answer =
            listEntities
            ? DigestResponse(latest: latest, entities: all.filter { $0.place.hasPrefix(prefix) }.sorted { $0.place < $1.place })
            : DigestResponse(latest: latest, ranges: prefix.count < LibraryDigest.maxPrefixLength ? LibraryDigest.ranges(under: prefix, of: all) : [])
        return try JSONResponse.make(answer, epoch: store.epoch, for: request)
    }

    /// Every stored version of the fields of the entities asked for.
    private func entities(_ request: Request, _ context: SyncRequestContext) async throws -> Response {
        let user = try await authenticate(request, context)
        let body = try await RequestBodyReader.read(request, limit: SyncProtocol.maxRequestBytes)
        let asked: EntitiesRequest
        do {
            asked = try WireCoding.decoder.decode(EntitiesRequest.self, from: Data(body))
        } catch {
            throw APIError.badRequest("the body is not a valid entities request: \(DecodingErrorText.describe(error))")
        }
        guard asked.entities.count <= SyncProtocol.maxEntitiesAsked else {
            throw APIError.tooLarge("at most \(SyncProtocol.maxEntitiesAsked) entities at a time, not \(asked.entities.count)")
        }
        return try JSONResponse.make(EntitiesResponse(changes: try await store.versions(of: asked.entities, for: user)), epoch: store.epoch, for: request)
    }

    // MARK: Checks shared by the endpoints

    /// The user the request's token belongs to; noted for the request's log line.
    private func authenticate(_ request: Request, _ context: SyncRequestContext) async throws -> UserID {
        if let version = request.headers[HTTPField.Name(SyncProtocol.versionHeader)!], version != String(SyncProtocol.version) {
            throw Self.unsupported(Int(version))
        }
        guard let token = request.headers[.authorization].flatMap(AccessToken.fromAuthorization),
            let user = try await store.user(forTokenHash: AccessToken.hash(token))
        else { throw APIError.unauthorized }
        context.facts.user = user
        return user
    }

    private static func unsupported(_ version: Int?) -> APIError {
        APIError(
            .badRequest, code: .unsupportedProtocol,
            message: """
                this server speaks readsync protocol \(SyncProtocol.version), the client \(version.map { "speaks \($0)" } ?? "sent an unreadable version"); \
                use matching versions of client and server
                """)
    }

    /// The `protocol` a JSON body says it speaks, if it says.
    private static func protocolVersion(in body: [UInt8]) -> Int? {
        struct Probe: Decodable { let `protocol`: Int }
        return try? WireCoding.decoder.decode(Probe.self, from: Data(body)).protocol
    }

    private static func integer(_ text: Substring?, name: String, default value: Int64) throws -> Int64 {
        guard let text else { return value }
        guard let number = Int64(text) else { throw APIError.badRequest("'\(name)' must be a whole number, not '\(text.prefix(40))'") }
        return number
    }
}

/// Reads a request body up to a limit, refusing more with 413.
enum RequestBodyReader {
    static func read(_ request: Request, limit: Int) async throws -> [UInt8] {
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > limit {
            throw APIError.tooLarge("the body is \(length) bytes; at most \(limit) are accepted")
        }
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw APIError.tooLarge("the body is larger than \(limit) bytes, the most accepted")
        }
        switch request.headers[.contentEncoding]?.lowercased() {
        case nil, "identity":
            return Array(buffer.readableBytesView)
        case "gzip":
            do {
                return try Gzip.decompress(Array(buffer.readableBytesView), limit: limit)
            } catch Gzip.Failure.tooLarge {
                throw APIError.tooLarge("the body inflates to more than \(limit) bytes, the most accepted")
            } catch {
                throw APIError.badRequest("the body is labelled gzip but is not valid gzip")
            }
        case let other?:
            throw APIError(
                .unsupportedMediaType, code: .unsupportedEncoding, message: "Content-Encoding '\(other.prefix(40))' is not supported; send gzip or nothing")
        }
    }
}

/// A short, client-facing account of a JSON decoding failure.
enum DecodingErrorText {
    static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "it is not JSON" }
        func path(_ codingPath: [any CodingKey]) -> String {
            codingPath.isEmpty ? "the top level" : codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context): return "'\(key.stringValue)' is missing at \(path(context.codingPath))"
        case .typeMismatch(_, let context), .valueNotFound(_, let context): return "wrong type at \(path(context.codingPath))"
        case .dataCorrupted(let context): return context.codingPath.isEmpty ? "it is not valid JSON" : "invalid value at \(path(context.codingPath))"
        @unknown default: return "it could not be decoded"
        }
    }
}

/// Human durations for messages: "3 h 12 min", "7 min 5 s".
enum DurationText {
    static func describe(milliseconds: Int64) -> String {
        let seconds = milliseconds / 1000
        let (hours, minutes, rest) = (seconds / 3600, seconds % 3600 / 60, seconds % 60)
        if hours > 0 { return "\(hours) h \(minutes) min" }
        if minutes > 0 { return rest > 0 ? "\(minutes) min \(rest) s" : "\(minutes) min" }
        return "\(rest) s"
    }
}
