/// The value held by one field register. JSON-shaped: null, bool, number or text.
/// Numbers compare by value: `.int(1) == .double(1.0)`, as JSON cannot tell
/// them apart (`1.0` is stored as `1` and read back as an integer).
public enum FieldValue: Hashable, Sendable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case text(String)

    /// The value as text, or nil when it is not text.
    public var text: String? {
        if case .text(let value) = self { return value }
        return nil
    }

    /// The value as a boolean; null and absent read as false.
    public var bool: Bool {
        switch self {
        case .bool(let value): return value
        case .int(let value): return value != 0
        default: return false
        }
    }

    /// The value as an integer (doubles are truncated), or nil when it is
    /// not a number or does not fit.
    public var int: Int64? {
        switch self {
        case .int(let value): return value
        case .double(let value): return Int64(exactly: value.rounded(.towardZero))
        default: return nil
        }
    }

    /// The value as a double (integers are widened), or nil.
    public var double: Double? {
        switch self {
        case .double(let value): return value
        case .int(let value): return Double(value)
        default: return nil
        }
    }
}

extension FieldValue {
    public static func == (lhs: FieldValue, rhs: FieldValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.text(let a), .text(let b)): return a == b
        case (.int(let a), .int(let b)): return a == b
        case (.int, .double), (.double, .int), (.double, .double): return lhs.double == rhs.double
        default: return false
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch self {
        case .null: hasher.combine(0)
        case .bool(let value): hasher.combine(value)
        case .text(let value): hasher.combine(value)
        case .int, .double: hasher.combine(double)
        }
    }
}

extension FieldValue: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(String.self) {
            self = .text(value)
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .int(value)
        } else {
            self = .double(try container.decode(Double.self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .double(let value): try container.encode(value)
        case .text(let value): try container.encode(value)
        }
    }
}
