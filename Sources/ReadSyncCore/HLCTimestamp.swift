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
        var bytes: [UInt8] = []
        bytes.reserveCapacity(26 + node.rawValue.utf8.count)
        Self.appendHex(UInt64(bitPattern: physical), digits: 16, to: &bytes)
        bytes.append(UInt8(ascii: "."))
        Self.appendHex(UInt64(counter), digits: 8, to: &bytes)
        bytes.append(UInt8(ascii: "."))
        bytes.append(contentsOf: node.rawValue.utf8)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Parses `encoded`; nil for anything else.
    public init?(encoded text: String) {
        let bytes = Array(text.utf8)
        guard bytes.count > 26, bytes[16] == UInt8(ascii: "."), bytes[25] == UInt8(ascii: "."),
              let physical = Self.parseHex(bytes[0..<16]), let counter = Self.parseHex(bytes[17..<25]),
              let node = NodeID(String(decoding: bytes[26...], as: UTF8.self)), Int64(bitPattern: physical) >= 0
        else { return nil }
        self.init(physical: Int64(bitPattern: physical), counter: UInt32(counter), node: node)
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    private static func appendHex(_ value: UInt64, digits: Int, to bytes: inout [UInt8]) {
        for shift in stride(from: (digits - 1) * 4, through: 0, by: -4) {
            bytes.append(hexDigits[Int((value >> UInt64(shift)) & 0xF)])
        }
    }

    /// Hex digits in either case, as `UInt64(_:radix: 16)` reads them.
    private static func parseHex(_ digits: ArraySlice<UInt8>) -> UInt64? {
        var value: UInt64 = 0
        for byte in digits {
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: return nil
            }
            value = value << 4 | UInt64(digit)
        }
        return value
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
