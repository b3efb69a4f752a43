/// The identity of one replica: a device's client database, or the server.
///
/// Node ids break timestamp ties, so they must be unique per replica; they are
/// random 16-character lowercase hex strings chosen when a replica is created.
public struct NodeID: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    /// The id's text, as stored and sent on the wire.
    public let rawValue: String

    /// Wraps an existing id, validating its shape (1–64 characters of `[0-9a-z-]`).
    public init?(_ rawValue: String) {
        guard !rawValue.isEmpty, rawValue.utf8.count <= 64,
            rawValue.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 122) || $0 == 45 })
        else { return nil }
        self.rawValue = rawValue
    }

    /// A fresh random node id.
    public static func random<G: RandomNumberGenerator>(using generator: inout G) -> NodeID {
        NodeID(unchecked: Hex.string(UInt64.random(in: .min ... .max, using: &generator)))
    }

    /// A fresh random node id from the system's generator.
    public static func random() -> NodeID {
        var generator = SystemRandomNumberGenerator()
        return random(using: &generator)
    }

    init(unchecked rawValue: String) { self.rawValue = rawValue }

    public static func < (lhs: NodeID, rhs: NodeID) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String { rawValue }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let id = NodeID(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "Invalid node id"))
        }
        self = id
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// Lowercase hex, written straight into a string's bytes: digests and ids
/// are turned to hex on every request (`String(format: "%02x")` per byte,
/// through Foundation's formatter, was most of the server's token check).
public enum Hex {
    static func string(_ value: UInt64) -> String {
        String(unsafeUninitializedCapacity: 16) { buffer in
            write(value, digits: 16, into: buffer, at: 0)
            return 16
        }
    }

    /// Writes the low `digits` hex digits of `value`, zero-padded, lower case.
    static func write(_ value: UInt64, digits: Int, into buffer: UnsafeMutableBufferPointer<UInt8>, at start: Int) {
        var rest = value
        for position in stride(from: start + digits - 1, through: start, by: -1) {
            let nibble = UInt8(truncatingIfNeeded: rest & 0xF)
            buffer[position] = nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
            rest >>= 4
        }
    }

    /// The value of hex digits in either case (as `UInt64(_:radix: 16)`
    /// reads them, without its sign); nil for anything else or more than 16.
    static func value(_ digits: ArraySlice<UInt8>) -> UInt64? {
        guard digits.count <= 16 else { return nil }
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

    /// Two digits a byte.
    public static func string(_ bytes: some Sequence<UInt8>) -> String {
        let bytes = Array(bytes)
        return String(unsafeUninitializedCapacity: bytes.count * 2) { buffer in
            for (index, byte) in bytes.enumerated() { write(UInt64(byte), digits: 2, into: buffer, at: index * 2) }
            return bytes.count * 2
        }
    }
}
