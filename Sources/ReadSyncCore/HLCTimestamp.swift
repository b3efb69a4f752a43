/// A hybrid logical clock timestamp: physical milliseconds, a logical counter
/// for events within one millisecond (or while the wall clock lags), and the
/// node that issued it. Ordered by (physical, counter, node): a total order.
public struct HLCTimestamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Milliseconds since the Unix epoch, as the issuing clock believed it
    /// (never less than any timestamp that clock had seen).
    public let physical: Int64
    /// Orders events that share a `physical` value.
    public let counter: UInt32
    /// The replica that issued the timestamp; the final tie-breaker.
    public let node: NodeID

    public init(physical: Int64, counter: UInt32, node: NodeID) {
        self.physical = physical
        self.counter = counter
        self.node = node
    }

    public static func < (lhs: HLCTimestamp, rhs: HLCTimestamp) -> Bool {
        (lhs.physical, lhs.counter, lhs.node) < (rhs.physical, rhs.counter, rhs.node)
    }

    /// A fixed-width text form whose byte order is the timestamp order, so
    /// databases can compare and index it as plain text:
    /// `<16 hex physical>.<8 hex counter>.<node>`.
    public var encoded: String {
        // Written into one buffer: every register write and change encodes one.
        let node = node.rawValue.utf8
        return String(unsafeUninitializedCapacity: 26 + node.count) { buffer in
            Hex.write(UInt64(bitPattern: physical), digits: 16, into: buffer, at: 0)
            buffer[16] = UInt8(ascii: ".")
            Hex.write(UInt64(counter), digits: 8, into: buffer, at: 17)
            buffer[25] = UInt8(ascii: ".")
            _ = UnsafeMutableBufferPointer(rebasing: buffer[26...]).initialize(from: node)
            return 26 + node.count
        }
    }

    /// Parses `encoded`; nil for anything else.
    public init?(encoded text: String) {
        let parts = text.split(separator: ".", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].utf8.count == 16, parts[1].utf8.count == 8,
              let physical = UInt64(parts[0], radix: 16), let counter = UInt32(parts[1], radix: 16),
              let node = NodeID(String(parts[2])), Int64(bitPattern: physical) >= 0
        else { return nil }
        self.init(physical: Int64(bitPattern: physical), counter: counter, node: node)
    }

    public var description: String { encoded }
}

extension HLCTimestamp: Codable {
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let timestamp = HLCTimestamp(encoded: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "Invalid HLC timestamp"))
        }
        self = timestamp
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(encoded)
    }
}
