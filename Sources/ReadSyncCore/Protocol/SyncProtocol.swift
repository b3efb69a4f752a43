/// Version 2 of the sync protocol: JSON over HTTP. Its unit is an entity
/// with its changed fields (`EntityChange`), each field with its clock; a
/// library of 10,000 articles is some 40,000 of them. (Version 1 sent every
/// field as a change of its own, naming its entity every time.)
///
/// - `POST /v1/push` with a `PushRequest`: the server merges each field into
///   the user's fields and gives every version it did not already have a
///   per-user sequence number; answers `PushResponse`. Re-sending a batch
///   changes nothing.
/// - `GET /v1/changes?after=C&limit=N`: the field versions with sequence
///   numbers after C, in order, at most N, grouped by entity; answers
///   `PullResponse`, whose `next` is the cursor for the following page.
///
/// A push may also ask for the first page of a pull (`PushRequest.pull`):
/// the server reads it once the push is merged and answers it within the
/// push's answer, so that a device's sync with nothing more to pull is one
/// round trip, not two. A server that does not answer it leaves the
/// device to pull as usual.
///
/// Every answer names the user's `epoch` (new whenever the server's database
/// is new, or lost part of the user's history) and the protocol version; a
/// client that sees another epoch resynchronises from zero. Requests carry
/// the device's `HistoryCheckpoint` (`checkpoint` in a push, the
/// `checkpoint` query parameter of a pull), by which a server restored from
/// an older copy notices what it lost. Errors are `ErrorResponse` bodies with a 4xx status.
public enum SyncProtocol {
    /// The version this build speaks.
    public static let version = 2
    /// Request header carrying the client's protocol version.
    public static let versionHeader = "X-ReadSync-Protocol"
    /// Response header carrying the server's database epoch.
    public static let epochHeader = "X-ReadSync-Epoch"

    /// Most field versions in one push. Each request costs a round trip,
    /// a commit and a disk sync on the server and a transaction on the
    /// device whatever its size: at 4,000 versions a request, not 1,000, a
    /// library's first sync takes about a seventh less time (BENCHMARKS,
    /// seventeenth pass).
    public static let maxBatchChanges = 4_000
    /// Most field versions in one pull page.
    public static let maxPageSize = 4_000
    /// The page size a client asks for by default.
    public static let defaultPageSize = 4_000
    /// The most field versions in one push, and in one page, that every
    /// server of this protocol version takes: earlier builds took 1,000 and
    /// refuse more with 413 `too_large`. A device refused its larger
    /// request goes on with these (`SyncEngine`).
    public static let changesEveryServerTakes = 1_000
    /// Most entities one `/v1/entities` request names: each brings every
    /// stored version of all its fields, so this stays where it was when
    /// pushes and pages grew.
    public static let maxEntitiesAsked = 1_000
    /// Most text in one pull page past its first version: thousands of
    /// versions of large articles would be more than a device takes in one
    /// answer (its limit is 256 MiB), and it could never pull past them.
    public static let maxPageTextBytes = 32 * 1_048_576
    /// The longest a pull may ask the server to wait for news (`wait=`).
    public static let maxWaitSeconds: Int64 = 60
    /// Largest request body accepted, in bytes (after gzip decoding).
    public static let maxRequestBytes = 16 * 1_048_576
    /// How far ahead of the server's clock a change's timestamp may be.
    public static let maxClockSkewMilliseconds: Int64 = 5 * 60 * 1000

    /// How far the newest of `changes` is ahead of `serverTime`, when that is
    /// more than allowed (the batch is then refused); nil when acceptable.
    public static func excessiveSkew(of changes: [Change], serverTime: Int64) -> Int64? {
        guard let newest = changes.map(\.timestamp.physical).max(), newest - serverTime > maxClockSkewMilliseconds else { return nil }
        return newest - serverTime
    }
}

/// The changed fields of one entity, each with its clock: the wire unit.
public struct EntityChange: Hashable, Sendable, Codable {
    public let kind: EntityKind
    public let entity: String
    public var fields: [FieldVersion]

    public init(kind: EntityKind, entity: String, fields: [FieldVersion]) {
        self.kind = kind
        self.entity = entity
        self.fields = fields
    }

    /// `changes` in order, each run of one entity's fields as one unit.
    public static func grouping(_ changes: [Change]) -> [EntityChange] {
        var entities: [EntityChange] = []
        for change in changes {
            let field = FieldVersion(field: change.field, value: change.value, timestamp: change.timestamp, vector: change.vector)
            if let last = entities.last, last.kind == change.kind, last.entity == change.entity {
                entities[entities.count - 1].fields.append(field)
            } else {
                entities.append(EntityChange(kind: change.kind, entity: change.entity, fields: [field]))
            }
        }
        return entities
    }

    /// Each field as a change of its own.
    public var changes: [Change] {
        fields.map { Change(key: RegisterKey(kind: kind, entity: entity, field: $0.field), register: $0.register) }
    }
}

/// One version of one field of an `EntityChange`.
public struct FieldVersion: Hashable, Sendable, Codable {
    public let field: String
    public let value: FieldValue
    public let timestamp: HLCTimestamp
    public let vector: VersionVector

    public init(field: String, value: FieldValue, timestamp: HLCTimestamp, vector: VersionVector) {
        self.field = field
        self.value = value
        self.timestamp = timestamp
        self.vector = vector
    }

    public var register: Register { Register(value: value, timestamp: timestamp, vector: vector) }
}

extension [EntityChange] {
    /// Every field version, in order.
    public var changes: [Change] { flatMap(\.changes) }
}

/// A batch of a client's outbox.
public struct PushRequest: Codable, Sendable, Equatable {
    public var `protocol`: Int
    /// The pushing replica.
    public var node: NodeID
    public var entities: [EntityChange]
    /// The epoch this device's cursor belongs to, and the furthest point of
    /// the server's history it has seen in it, if any: a server that does not
    /// have that point lost data (`HistoryCheckpoint`).
    public var epoch: String?
    public var checkpoint: HistoryCheckpoint?
    /// This push's place in the device's own chain of pushes (`PushChain`).
    public var chain: PushChain?
    /// The pull to answer with once the push is merged, if any.
    public var pull: PullAsk?

    public init(
        node: NodeID, changes: [Change], epoch: String? = nil, checkpoint: HistoryCheckpoint? = nil, chain: PushChain? = nil, pull: PullAsk? = nil
    ) {
        self.protocol = SyncProtocol.version
        self.node = node
        self.entities = EntityChange.grouping(changes)
        self.epoch = epoch
        self.checkpoint = checkpoint
        self.chain = chain
        self.pull = pull
    }

    /// Every field version of the batch, in order.
    public var changes: [Change] { entities.changes }
}

/// A pull asked for within a push: its first page, as `GET /v1/changes`
/// with the same `after` and `limit` would answer it for the pushing device
/// right after the push, the device's history being what the push left.
public struct PullAsk: Codable, Sendable, Equatable {
    /// The device's cursor.
    public var after: Int64
    /// At most this many field versions, 1 to `SyncProtocol.maxPageSize`.
    public var limit: Int
    /// The device's name, as a pull sends it (`name=`): the server lists
    /// the device under it.
    public var name: String?

    public init(after: Int64, limit: Int, name: String? = nil) {
        self.after = after
        self.limit = limit
        self.name = name
    }
}

/// The server's acknowledgement of a whole batch.
public struct PushResponse: Codable, Sendable, Equatable {
    public var `protocol`: Int
    public var epoch: String
    /// Changes the server did not have before.
    public var accepted: Int
    /// Changes it already had (or that an already merged write supersedes).
    public var ignored: Int
    /// The server's clock, milliseconds since 1970.
    public var serverTime: Int64
    /// Where in the user's history the accepted changes went; nil when none was.
    public var checkpoint: HistoryCheckpoint?
    /// The token of the device's last push, as the
    /// server now records it (`PushChain`); nil when it records none.
    public var pushToken: String?
    /// The first page of the pull the push asked for (`PushRequest.pull`);
    /// nil when it asked for none, or the server did not read it (then the
    /// device pulls as usual).
    public var pull: PullResponse?
    /// The most field versions the server takes in a push and gives in a
    /// page; nil from servers built before 2026-12-07, which take
    /// `SyncProtocol.changesEveryServerTakes`.
    public var changesPerRequest: Int?

    public init(
        epoch: String, accepted: Int, ignored: Int, serverTime: Int64, checkpoint: HistoryCheckpoint? = nil, pushToken: String? = nil,
        pull: PullResponse? = nil, changesPerRequest: Int? = nil
    ) {
        self.protocol = SyncProtocol.version
        self.epoch = epoch
        self.accepted = accepted
        self.ignored = ignored
        self.serverTime = serverTime
        self.checkpoint = checkpoint
        self.pushToken = pushToken
        self.pull = pull
        self.changesPerRequest = changesPerRequest
    }
}

/// One page of the user's changes after a cursor.
public struct PullResponse: Codable, Sendable, Equatable {
    public var `protocol`: Int
    public var epoch: String
    public var entities: [EntityChange]
    /// Every field version of the page, in order.
    public var changes: [Change] { entities.changes }

    /// The cursor to ask with next (the sequence number of the last version here).
    public var next: Int64
    /// Whether more changes follow `next`.
    public var more: Bool
    /// The user's latest sequence number on the server. A client whose
    /// cursor is beyond it talks to a server that lost data: it resyncs.
    public var latest: Int64
    public var serverTime: Int64
    /// The point of the user's history at `next`; nil while `next` is 0.
    public var checkpoint: HistoryCheckpoint?
    /// Set (true) when the server had retired the asking device for being
    /// away longer than it keeps track of devices: the device pulls
    /// everything again from zero. (Pulling on from its cursor would be
    /// correct too, only less thorough: collections are writes in the feed.)
    public var retired: Bool?
    /// As `PushResponse.changesPerRequest`.
    public var changesPerRequest: Int?

    public init(
        epoch: String, changes: [Change], next: Int64, more: Bool, latest: Int64, serverTime: Int64, checkpoint: HistoryCheckpoint? = nil,
        retired: Bool = false, changesPerRequest: Int? = nil
    ) {
        self.protocol = SyncProtocol.version
        self.epoch = epoch
        self.entities = EntityChange.grouping(changes)
        self.next = next
        self.more = more
        self.latest = latest
        self.serverTime = serverTime
        self.checkpoint = checkpoint
        self.retired = retired ? true : nil
        self.changesPerRequest = changesPerRequest
    }
}

/// `GET /health`.
public struct HealthResponse: Codable, Sendable, Equatable {
    public var status: String
    public var `protocol`: Int
    public var epoch: String

    public init(epoch: String) {
        self.status = "ok"
        self.protocol = SyncProtocol.version
        self.epoch = epoch
    }
}

/// The JSON body of every error answer: `{"error": {"code": …, "message": …}}`.
public struct ErrorResponse: Codable, Sendable, Equatable {
    public struct Detail: Codable, Sendable, Equatable {
        /// Stable, for programs: `bad_request`, `unauthorized`, `too_large`, `clock_skew`, …
        public var code: ErrorCode
        /// One sentence for a person.
        public var message: String
    }

    public var error: Detail
    /// The server's clock (milliseconds since 1970), sent with `clock_skew`
    /// so a device whose clock has since been set right can re-stamp the
    /// writes it made while it was wrong.
    public var serverTime: Int64?

    public init(code: ErrorCode, message: String, serverTime: Int64? = nil) {
        error = Detail(code: code, message: message)
        self.serverTime = serverTime
    }
}
