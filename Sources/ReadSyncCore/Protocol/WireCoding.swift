import Foundation

/// The one JSON encoding of values, vectors and protocol messages, shared by
/// client and server so that both store and send the same bytes.
public enum WireCoding {
    /// Compact, key-sorted (stable bytes for equal values).
    public static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()
    public static let decoder = JSONDecoder()

    public static func text(_ value: FieldValue) throws -> String {
        String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    public static func text(_ vector: VersionVector) throws -> String {
        // Most vectors have one node, whose text needs no key order and no
        // escaping (node ids are [0-9a-z-]): the bytes JSONEncoder would
        // write, without its cost (it dominated profiles of bulk writes).
        if vector.counters.count == 1, let (node, counter) = vector.counters.first {
            return "{\"\(node.rawValue)\":\(counter)}"
        }
        return String(decoding: try encoder.encode(vector), as: UTF8.self)
    }

    public static func value(fromText text: String) throws -> FieldValue {
        try decoder.decode(FieldValue.self, from: Data(text.utf8))
    }

    public static func vector(fromText text: String) throws -> VersionVector {
        if let vector = compactVector(text) { return vector }
        return try decoder.decode(VersionVector.self, from: Data(text.utf8))
    }

    /// Parses the compact form this encoder writes (`{"node":1,"other":2}`,
    /// no spaces); nil for anything else, which the JSON decoder then reads
    /// (and refuses, if it is not a vector).
    static func compactVector(_ text: String) -> VersionVector? {
        var counters: [NodeID: UInt64] = [:]
        var bytes = text.utf8[...]
        guard bytes.popFirst() == UInt8(ascii: "{") else { return nil }
        if bytes.first == UInt8(ascii: "}") { return bytes.count == 1 ? VersionVector() : nil }
        while true {
            guard bytes.popFirst() == UInt8(ascii: "\""), let close = bytes.firstIndex(of: UInt8(ascii: "\"")),
                  let node = NodeID(String(decoding: bytes[..<close], as: UTF8.self)) else { return nil }
            bytes = bytes[bytes.index(after: close)...]
            guard bytes.popFirst() == UInt8(ascii: ":") else { return nil }
            let digits = bytes.prefix { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
            guard !digits.isEmpty, let counter = UInt64(String(decoding: digits, as: UTF8.self)),
                  counters.updateValue(counter, forKey: node) == nil else { return nil }
            bytes = bytes[digits.endIndex...]
            switch bytes.popFirst() {
            case UInt8(ascii: ","): continue
            case UInt8(ascii: "}"): return bytes.isEmpty ? VersionVector(counters) : nil
            default: return nil
            }
        }
    }
}
