/// A protocol type with a hand-written JSON form: an entity's changes, the
/// two messages that carry them by the thousand, and the push's answer. `WireCoding.encode`/`decode`
/// use it; its bytes are exactly those the type's `Codable` form gives with
/// `WireCoding.encoder`, which stays the reference (`WireCodingTests`).
public protocol WireMessage: Codable {
    init(wire reader: inout JSONReader) throws
    func write(wire writer: inout JSONWriter) throws
    /// About how many bytes `write` writes, rather over than under: the
    /// writer reserves them at once (see `[EntityChange].wireBytesEstimate`).
    var wireBytesEstimate: Int { get }
}

extension WireMessage {
    public var wireBytesEstimate: Int { 256 }
}

extension [EntityChange] {
    /// About how many bytes of JSON these entities take, rather over than
    /// under, counted without writing them. A page or a push is megabytes
    /// of JSON: a writer that starts small doubles its buffer a dozen
    /// times, copying what it wrote each time into fresh memory the kernel
    /// must fault in.
    public var wireBytesEstimate: Int {
        // Per field, the keys and the timestamp take about 110 bytes
        // (counted as 128), and each node of the vector about 24.
        reduce(2) { total, entity in
            entity.fields.reduce(total + 48 + entity.entity.utf8.count) { total, field in
                total + 128 + field.field.utf8.count + field.value.wireBytesEstimate + 24 * field.vector.entries.count
            }
        }
    }
}

extension FieldValue {
    /// About how many bytes of JSON the value takes, rather over than
    /// under: escapes lengthen an article's text (quotes in HTML, line
    /// breaks) by an eighth at most; odder text costs a growth of the buffer.
    var wireBytesEstimate: Int {
        text.map { $0.utf8.count + $0.utf8.count / 8 + 2 } ?? 24
    }
}

extension PushRequest: WireMessage {
    public var wireBytesEstimate: Int { entities.wireBytesEstimate + 512 }

    public init(wire reader: inout JSONReader) throws {
        var version: Int?, node: NodeID?, entities: [EntityChange]?, epoch: String??, checkpoint: HistoryCheckpoint??, chain: PushChain??
        var pull: PullAsk??
        try reader.readObject { reader, key in
            switch key {
            case "chain" where chain == nil: chain = try reader.readNull() ? .some(nil) : try PushChain(wire: &reader)
            case "pull" where pull == nil: pull = try reader.readNull() ? .some(nil) : try PullAsk(wire: &reader)
            case "epoch" where epoch == nil: epoch = try reader.readNull() ? .some(nil) : try reader.readString()
            case "protocol" where version == nil: version = try reader.readInteger()
            case "node" where node == nil: node = try NodeID(wire: &reader)
            case "entities" where entities == nil: entities = try [EntityChange](wire: &reader)
            case "checkpoint" where checkpoint == nil: checkpoint = try HistoryCheckpoint.optional(wire: &reader)
            default: try reader.skipValue()
            }
        }
        guard let version else { throw reader.missingKey("protocol") }
        guard let node else { throw reader.missingKey("node") }
        guard let entities else { throw reader.missingKey("entities") }
        self.init(node: node, changes: [], epoch: epoch ?? nil, checkpoint: checkpoint ?? nil, chain: chain ?? nil, pull: pull ?? nil)
        self.entities = entities
        self.protocol = version
    }

    public func write(wire writer: inout JSONWriter) throws {
        writeHead(wire: &writer)
        try entities.write(wire: &writer)
        writeTail(wire: &writer)
    }

    /// What comes before the entities (keys sort before `entities`).
    func writeHead(wire writer: inout JSONWriter) {
        writer.byte("{")
        if let chain {
            writer.raw(#""chain":"#)
            chain.write(wire: &writer)
            writer.byte(",")
        }
        checkpoint?.writeLeading(wire: &writer)
        writer.raw(#""entities":"#)
    }

    /// What comes after the entities.
    func writeTail(wire writer: inout JSONWriter) {
        if let epoch {
            writer.raw(#","epoch":"#)
            writer.string(epoch)
        }
        writer.raw(#","node":"#)
        writer.string(node.rawValue)
        writer.raw(#","protocol":"#)
        writer.integer(self.protocol)
        if let pull {
            writer.raw(#","pull":"#)
            pull.write(wire: &writer)
        }
        writer.byte("}")
    }
}

/// A push's entities, written and compressed before the request that will
/// carry them: nearly all of a push's body, and the part that does not wait
/// for the previous push's answer (its chain and checkpoint do). A client
/// prepares the next batch's while the server stores the current one.
public struct CompressedEntities: Sendable {
    public let entities: [EntityChange]
    /// Nil when they are too few to be worth compressing (`Gzip.worthwhileBytes`).
    let piece: Gzip.Piece?

    public init(_ changes: [Change]) throws {
        try self.init(grouped: EntityChange.grouping(changes))
    }

    init(grouped entities: [EntityChange]) throws {
        self.entities = entities
        var writer = JSONWriter(capacity: entities.wireBytesEstimate)
        try entities.write(wire: &writer)
        piece = writer.bytes.count < Gzip.worthwhileBytes ? nil : Gzip.Piece(writer.bytes)
    }

    /// Whether a body carrying them is worth compressing.
    public var worthCompressing: Bool { piece != nil }
}

extension PushRequest {
    /// The push with `compressed`'s entities.
    public init(
        node: NodeID, entities compressed: CompressedEntities, epoch: String?, checkpoint: HistoryCheckpoint?, chain: PushChain?, pull: PullAsk? = nil
    ) {
        self.init(node: node, changes: [], epoch: epoch, checkpoint: checkpoint, chain: chain, pull: pull)
        entities = compressed.entities
    }

    /// The request's JSON, `WireCoding.encode(self)`, in gzip format, with
    /// the entities taken from `compressed` when they are this request's.
    /// Returns the body and how many bytes it inflates to.
    public func gzipBody(reusing compressed: CompressedEntities?) throws -> (body: [UInt8], uncompressedCount: Int) {
        var head = JSONWriter(), tail = JSONWriter()
        writeHead(wire: &head)
        writeTail(wire: &tail)
        let entities: Gzip.Piece
        if let compressed, let piece = compressed.piece, compressed.entities == self.entities {
            entities = piece
        } else {
            var writer = JSONWriter(capacity: self.entities.wireBytesEstimate)
            try self.entities.write(wire: &writer)
            entities = Gzip.Piece(writer.bytes)
        }
        let pieces = [Gzip.Piece(head.bytes), entities, Gzip.Piece(tail.bytes)]
        return (Gzip.join(pieces), pieces.reduce(0) { $0 + $1.count })
    }
}

extension PullResponse: WireMessage {
    public var wireBytesEstimate: Int { entities.wireBytesEstimate + 512 }

    public init(wire reader: inout JSONReader) throws {
        var version: Int?, epoch: String?, entities: [EntityChange]?, next: Int64?, more: Bool?, latest: Int64?, serverTime: Int64?
        var checkpoint: HistoryCheckpoint??, retired: Bool?, changesPerRequest: Int?
        try reader.readObject { reader, key in
            switch key {
            case "changesPerRequest" where changesPerRequest == nil: changesPerRequest = try reader.readInteger()
            case "checkpoint" where checkpoint == nil: checkpoint = try HistoryCheckpoint.optional(wire: &reader)
            case "retired" where retired == nil: retired = try reader.readBool()
            case "protocol" where version == nil: version = try reader.readInteger()
            case "epoch" where epoch == nil: epoch = try reader.readString()
            case "entities" where entities == nil: entities = try [EntityChange](wire: &reader)
            case "next" where next == nil: next = try reader.readInteger()
            case "more" where more == nil: more = try reader.readBool()
            case "latest" where latest == nil: latest = try reader.readInteger()
            case "serverTime" where serverTime == nil: serverTime = try reader.readInteger()
            default: try reader.skipValue()
            }
        }
        guard let version else { throw reader.missingKey("protocol") }
        guard let epoch else { throw reader.missingKey("epoch") }
        guard let entities else { throw reader.missingKey("entities") }
        guard let next else { throw reader.missingKey("next") }
        guard let more else { throw reader.missingKey("more") }
        guard let latest else { throw reader.missingKey("latest") }
        guard let serverTime else { throw reader.missingKey("serverTime") }
        self.init(
            epoch: epoch, changes: [], next: next, more: more, latest: latest, serverTime: serverTime, checkpoint: checkpoint ?? nil,
            retired: retired ?? false, changesPerRequest: changesPerRequest)
        self.entities = entities
        self.protocol = version
    }

    public func write(wire writer: inout JSONWriter) throws {
        writer.byte("{")
        if let changesPerRequest {
            writer.raw(#""changesPerRequest":"#)
            writer.integer(changesPerRequest)
            writer.byte(",")
        }
        checkpoint?.writeLeading(wire: &writer)
        writer.raw(#""entities":"#)
        try entities.write(wire: &writer)
        writer.raw(#","epoch":"#)
        writer.string(epoch)
        writer.raw(#","latest":"#)
        writer.integer(latest)
        writer.raw(#","more":"#)
        writer.bool(more)
        writer.raw(#","next":"#)
        writer.integer(next)
        writer.raw(#","protocol":"#)
        writer.integer(self.protocol)
        if let retired {
            writer.raw(#","retired":"#)
            writer.bool(retired)
        }
        writer.raw(#","serverTime":"#)
        writer.integer(serverTime)
        writer.byte("}")
    }
}

/// Small, but every sync reads one; `JSONDecoder`'s fixed cost per call
/// showed in profiles of many small syncs.
extension PushResponse: WireMessage {
    /// A push's answer carries the first page of a pull when asked for one.
    public var wireBytesEstimate: Int { (pull?.wireBytesEstimate ?? 0) + 512 }

    public init(wire reader: inout JSONReader) throws {
        var version: Int?, epoch: String?, accepted: Int?, ignored: Int?, serverTime: Int64?, checkpoint: HistoryCheckpoint??, pushToken: String??
        var pull: PullResponse??, changesPerRequest: Int?
        try reader.readObject { reader, key in
            switch key {
            case "changesPerRequest" where changesPerRequest == nil: changesPerRequest = try reader.readInteger()
            case "pull" where pull == nil: pull = try reader.readNull() ? .some(nil) : try PullResponse(wire: &reader)
            case "pushToken" where pushToken == nil: pushToken = try reader.readNull() ? .some(nil) : try reader.readString()
            case "checkpoint" where checkpoint == nil: checkpoint = try HistoryCheckpoint.optional(wire: &reader)
            case "protocol" where version == nil: version = try reader.readInteger()
            case "epoch" where epoch == nil: epoch = try reader.readString()
            case "accepted" where accepted == nil: accepted = try reader.readInteger()
            case "ignored" where ignored == nil: ignored = try reader.readInteger()
            case "serverTime" where serverTime == nil: serverTime = try reader.readInteger()
            default: try reader.skipValue()
            }
        }
        guard let version else { throw reader.missingKey("protocol") }
        guard let epoch else { throw reader.missingKey("epoch") }
        guard let accepted else { throw reader.missingKey("accepted") }
        guard let ignored else { throw reader.missingKey("ignored") }
        guard let serverTime else { throw reader.missingKey("serverTime") }
        self.init(
            epoch: epoch, accepted: accepted, ignored: ignored, serverTime: serverTime, checkpoint: checkpoint ?? nil, pushToken: pushToken ?? nil,
            pull: pull ?? nil, changesPerRequest: changesPerRequest)
        self.protocol = version
    }

    public func write(wire writer: inout JSONWriter) throws {
        writer.raw(#"{"accepted":"#)
        writer.integer(accepted)
        if let changesPerRequest {
            writer.raw(#","changesPerRequest":"#)
            writer.integer(changesPerRequest)
        }
        if let checkpoint {
            writer.raw(#","checkpoint":"#)
            writer.string(checkpoint.description)
        }
        writer.raw(#","epoch":"#)
        writer.string(epoch)
        writer.raw(#","ignored":"#)
        writer.integer(ignored)
        writer.raw(#","protocol":"#)
        writer.integer(self.protocol)
        if let pull {
            writer.raw(#","pull":"#)
            try pull.write(wire: &writer)
        }
        if let pushToken {
            writer.raw(#","pushToken":"#)
            writer.string(pushToken)
        }
        writer.raw(#","serverTime":"#)
        writer.integer(serverTime)
        writer.byte("}")
    }
}

// MARK: The parts of a message

extension PullAsk {
    init(wire reader: inout JSONReader) throws {
        var after: Int64?, limit: Int?, name: String??
        try reader.readObject { reader, key in
            switch key {
            case "after" where after == nil: after = try reader.readInteger()
            case "limit" where limit == nil: limit = try reader.readInteger()
            case "name" where name == nil: name = try reader.readNull() ? .some(nil) : try reader.readString()
            default: try reader.skipValue()
            }
        }
        guard let after else { throw reader.missingKey("after") }
        guard let limit else { throw reader.missingKey("limit") }
        self.init(after: after, limit: limit, name: name ?? nil)
    }

    func write(wire writer: inout JSONWriter) {
        writer.raw(#"{"after":"#)
        writer.integer(after)
        writer.raw(#","limit":"#)
        writer.integer(limit)
        if let name {
            writer.raw(#","name":"#)
            writer.string(name)
        }
        writer.byte("}")
    }
}

extension PushChain {
    init(wire reader: inout JSONReader) throws {
        var previous: String??, token: String?
        try reader.readObject { reader, key in
            switch key {
            case "previous" where previous == nil: previous = try reader.readNull() ? .some(nil) : try reader.readString()
            case "token" where token == nil: token = try reader.readString()
            default: try reader.skipValue()
            }
        }
        guard let token else { throw reader.missingKey("token") }
        self.init(previous: previous ?? nil, token: token)
    }

    func write(wire writer: inout JSONWriter) {
        writer.byte("{")
        if let previous {
            writer.raw(#""previous":"#)
            writer.string(previous)
            writer.byte(",")
        }
        writer.raw(#""token":"#)
        writer.string(token)
        writer.byte("}")
    }
}

extension [EntityChange] {
    init(wire reader: inout JSONReader) throws {
        var entities: [EntityChange] = []
        try reader.readArray { reader in entities.append(try EntityChange(wire: &reader)) }
        self = entities
    }

    func write(wire writer: inout JSONWriter) throws {
        writer.byte("[")
        for (index, entity) in enumerated() {
            if index > 0 { writer.byte(",") }
            try entity.write(wire: &writer)
        }
        writer.byte("]")
    }
}

extension EntityChange: WireMessage {
    public init(wire reader: inout JSONReader) throws {
        var kind: EntityKind?, entity: String?, fields: [FieldVersion]?
        try reader.readObject { reader, key in
            switch key {
            case "kind" where kind == nil:
                let raw = try reader.readString()
                guard let name = EntityKind(rawValue: raw) else { throw reader.invalidValue("Invalid entity kind '\(raw.prefix(64))'") }
                kind = name
            case "entity" where entity == nil: entity = try reader.readString()
            case "fields" where fields == nil:
                var versions: [FieldVersion] = []
                try reader.readArray { reader in versions.append(try FieldVersion(wire: &reader)) }
                fields = versions
            default: try reader.skipValue()
            }
        }
        guard let kind else { throw reader.missingKey("kind") }
        guard let entity else { throw reader.missingKey("entity") }
        guard let fields else { throw reader.missingKey("fields") }
        self.init(kind: kind, entity: entity, fields: fields)
    }

    public func write(wire writer: inout JSONWriter) throws {
        writer.raw(#"{"entity":"#)
        writer.string(entity)
        writer.raw(#","fields":["#)
        for (index, field) in fields.enumerated() {
            if index > 0 { writer.byte(",") }
            try field.write(wire: &writer)
        }
        writer.raw(#"],"kind":"#)
        writer.string(kind.rawValue)
        writer.byte("}")
    }
}

extension FieldVersion {
    init(wire reader: inout JSONReader) throws {
        var field: String?, value: FieldValue?, timestamp: HLCTimestamp?, vector: VersionVector?
        try reader.readObject { reader, key in
            switch key {
            case "field" where field == nil: field = try reader.readString()
            case "value" where value == nil: value = try reader.readFieldValue()
            case "timestamp" where timestamp == nil: timestamp = try HLCTimestamp(wire: &reader)
            case "vector" where vector == nil: vector = try VersionVector(wire: &reader)
            default: try reader.skipValue()
            }
        }
        guard let field else { throw reader.missingKey("field") }
        guard let value else { throw reader.missingKey("value") }
        guard let timestamp else { throw reader.missingKey("timestamp") }
        guard let vector else { throw reader.missingKey("vector") }
        self.init(field: field, value: value, timestamp: timestamp, vector: vector)
    }

    func write(wire writer: inout JSONWriter) throws {
        writer.raw(#"{"field":"#)
        writer.string(field)
        writer.raw(#","timestamp":"#)
        writer.string(timestamp.encoded)
        writer.raw(#","value":"#)
        try value.write(wire: &writer)
        writer.raw(#","vector":"#)
        vector.write(wire: &writer)
        writer.byte("}")
    }
}

// MARK: The parts of a change

extension FieldValue {
    func write(wire writer: inout JSONWriter) throws {
        switch self {
        case .null: writer.null()
        case .bool(let value): writer.bool(value)
        case .int(let value): writer.integer(value)
        case .double(let value): try writer.double(value)
        case .text(let value): writer.string(value)
        }
    }
}

extension VersionVector {
    init(wire reader: inout JSONReader) throws {
        var entries: [Entry] = []
        try reader.readObject { reader, key in
            guard let node = NodeID(key) else { throw reader.invalidValue("Invalid node id in version vector") }
            // A key read twice keeps its first value; the second is not read.
            if entries.contains(where: { $0.node == node }) { return try reader.skipValue() }
            entries.append(Entry(node: node, counter: try reader.readInteger()))
        }
        self.init(firstOfEach: entries)
    }

    /// Nodes in byte order of their ids, as the encoder's sorted keys.
    func write(wire writer: inout JSONWriter) {
        writer.byte("{")
        for (index, entry) in entries.enumerated() {
            if index > 0 { writer.byte(",") }
            writer.string(entry.node.rawValue)
            writer.byte(":")
            writer.integer(entry.counter)
        }
        writer.byte("}")
    }
}

extension HLCTimestamp {
    init(wire reader: inout JSONReader) throws {
        let text = try reader.readString()
        guard let timestamp = HLCTimestamp(encoded: text) else { throw reader.invalidValue("Invalid HLC timestamp") }
        self = timestamp
    }
}

extension HistoryCheckpoint {
    /// `"checkpoint":"<seq>:<token>",` where it is the first key of an object.
    func writeLeading(wire writer: inout JSONWriter) {
        writer.raw(#""checkpoint":"#)
        writer.string(description)
        writer.byte(",")
    }

    /// A checkpoint, or null (as the decoder reads an optional: either).
    static func optional(wire reader: inout JSONReader) throws -> HistoryCheckpoint? {
        if try reader.readNull() { return nil }
        guard let checkpoint = HistoryCheckpoint(try reader.readString()) else { throw reader.invalidValue("Invalid history checkpoint") }
        return checkpoint
    }
}

extension NodeID {
    init(wire reader: inout JSONReader) throws {
        guard let node = NodeID(try reader.readString()) else { throw reader.invalidValue("Invalid node id") }
        self = node
    }
}
