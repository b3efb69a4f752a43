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
        String(decoding: try encoder.encode(vector), as: UTF8.self)
    }

    public static func value(fromText text: String) throws -> FieldValue {
        try decoder.decode(FieldValue.self, from: Data(text.utf8))
    }

    public static func vector(fromText text: String) throws -> VersionVector {
        try decoder.decode(VersionVector.self, from: Data(text.utf8))
    }
}
