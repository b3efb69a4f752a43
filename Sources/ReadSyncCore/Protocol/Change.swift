/// The record a write produces: which register, its new version. It is what
/// the change log stores and what sync sends; applying it anywhere is a merge.
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
