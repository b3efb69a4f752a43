/// Checksums over a library's fields, for `readsync client verify`: a device
/// and the server compare them range by range and narrow down to the
/// entities that differ, without either sending the library.
///
/// Each entity has a digest of its fields (value, timestamp and vector of
/// each, in field order) and a place in a hex address space (the SHA-256 of
/// its kind and id). A range is a hex prefix of that space; its digest is
/// the sum, modulo 2^64, of its entities' digests, so it does not depend on
/// order. Pure computation, the same on both sides.
public enum LibraryDigest {
    /// One entity's digest and its place.
    public struct Entity: Hashable, Sendable, Codable {
        public let kind: EntityKind
        public let entity: String
        /// 16 hex digits.
        public let digest: String

        public init(kind: EntityKind, entity: String, digest: String) {
            self.kind = kind
            self.entity = entity
            self.digest = digest
        }

        public var place: String { LibraryDigest.place(of: kind, entity) }
    }

    /// A range of the address space: its prefix, how many entities it holds
    /// and their summed digest.
    public struct Range: Hashable, Sendable, Codable {
        public let prefix: String
        public let count: Int
        public let digest: String

        public init(prefix: String, count: Int, digest: String) {
            self.prefix = prefix
            self.count = count
            self.digest = digest
        }
    }

    /// A range is listed entity by entity once it holds at most this many.
    public static let entitiesPerLeaf = 64
    /// The longest prefix asked for.
    public static let maxPrefixLength = 16

    /// Where an entity is in the address space: 16 hex digits.
    public static func place(of kind: EntityKind, _ entity: String) -> String {
        String(SHA256.hex(kind.rawValue + "/" + entity).prefix(16))
    }

    /// Each entity's digest, from every field's register.
    public static func entities(_ registers: [RegisterKey: Register]) throws -> [Entity] {
        var fields: [EntityKey: [(String, Register)]] = [:]
        for (key, register) in registers { fields[EntityKey(kind: key.kind, entity: key.entity), default: []].append((key.field, register)) }
        return try fields.map { key, fields in
            var text = ""
            for (field, register) in fields.sorted(by: { $0.0 < $1.0 }) {
                text +=
                    field + "\u{1f}" + (try WireCoding.text(register.value)) + "\u{1f}" + register.timestamp.encoded
                    + "\u{1f}" + (try WireCoding.text(register.vector)) + "\u{1e}"
            }
            return Entity(kind: key.kind, entity: key.entity, digest: String(SHA256.hex(text).prefix(16)))
        }
    }

    /// The sixteen ranges one hex digit longer than `prefix`, from `entities`.
    public static func ranges(under prefix: String, of entities: [Entity]) -> [Range] {
        var sums = [UInt64](repeating: 0, count: 16), counts = [Int](repeating: 0, count: 16)
        let digits = Array("0123456789abcdef")
        for entity in entities {
            let place = entity.place
            guard place.hasPrefix(prefix), place.count > prefix.count else { continue }
            let digit = digits.firstIndex(of: place[place.index(place.startIndex, offsetBy: prefix.count)])!
            sums[digit] &+= UInt64(entity.digest, radix: 16) ?? 0
            counts[digit] += 1
        }
        return (0..<16).map { Range(prefix: prefix + String(digits[$0]), count: counts[$0], digest: Hex.string(sums[$0])) }
    }

    /// Whether `prefix` is a prefix of the address space (0–16 lowercase hex digits).
    public static func isPrefix(_ prefix: String) -> Bool {
        prefix.utf8.count <= maxPrefixLength && prefix.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }

    private struct EntityKey: Hashable {
        let kind: EntityKind
        let entity: String
    }
}

/// `GET /v1/digest?prefix=P`: the sixteen ranges under P, or with
/// `entities=true` the entities whose place starts with P.
public struct DigestResponse: Codable, Sendable, Equatable {
    public var `protocol`: Int
    /// The user's latest sequence number: a device behind it has not pulled everything.
    public var latest: Int64
    public var ranges: [LibraryDigest.Range]?
    public var entities: [LibraryDigest.Entity]?

    public init(latest: Int64, ranges: [LibraryDigest.Range]? = nil, entities: [LibraryDigest.Entity]? = nil) {
        self.protocol = SyncProtocol.version
        self.latest = latest
        self.ranges = ranges
        self.entities = entities
    }
}

/// `POST /v1/entities`: the server's versions of every field of some entities.
public struct EntitiesRequest: Codable, Sendable, Equatable {
    public struct Address: Codable, Sendable, Hashable {
        public let kind: EntityKind
        public let entity: String

        public init(kind: EntityKind, entity: String) {
            self.kind = kind
            self.entity = entity
        }
    }

    public var `protocol`: Int
    public var entities: [Address]

    public init(entities: [Address]) {
        self.protocol = SyncProtocol.version
        self.entities = entities
    }
}

/// The answer to `POST /v1/entities`: every stored version of their fields.
public struct EntitiesResponse: Codable, Sendable, Equatable {
    public var `protocol`: Int
    public var entities: [EntityChange]

    public init(changes: [Change]) {
        self.protocol = SyncProtocol.version
        self.entities = EntityChange.grouping(changes)
    }

    public var changes: [Change] { entities.changes }
}
