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
    /// (Built and parsed byte by byte: every stored and synced change has
    /// one, and the String-based version showed up in sync profiles.)
    public var encoded: String {
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
        let bytes = Array(text.utf8)
        guard bytes.count > 26, bytes[16] == UInt8(ascii: "."), bytes[25] == UInt8(ascii: "."),
            let physical = Hex.value(bytes[0..<16]), let counter = Hex.value(bytes[17..<25]),
            let node = NodeID(String(decoding: bytes[26...], as: UTF8.self)), Int64(bitPattern: physical) >= 0
        else { return nil }
        self.init(physical: Int64(bitPattern: physical), counter: UInt32(counter), node: node)
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
