/// One version of one register: which register, and the version. A push
/// sends the current version of each field in the outbox, a pull the
/// server's (grouped by entity on the wire, `EntityChange`); applying one
/// anywhere is a merge.
public struct Change: Hashable, Sendable, Codable {
    public let kind: EntityKind
    public let entity: String
    public let field: String
    public let value: FieldValue
    public let timestamp: HLCTimestamp
    public let vector: VersionVector

    public init(key: RegisterKey, register: Register) {
        self.kind = key.kind
        self.entity = key.entity
        self.field = key.field
        self.value = register.value
        self.timestamp = register.timestamp
        self.vector = register.vector
    }

    public var key: RegisterKey { RegisterKey(kind: kind, entity: entity, field: field) }
    public var register: Register { Register(value: value, timestamp: timestamp, vector: vector) }
}
