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

    /// `value` as JSON: by its hand-written form when it has one (changes and
    /// the messages carrying them), else by the encoder.
    public static func encode(_ value: some Encodable) throws -> [UInt8] {
        if let message = value as? any WireMessage {
            var writer = JSONWriter(capacity: message.wireBytesEstimate)
            try message.write(wire: &writer)
            return writer.bytes
        }
        return Array(try encoder.encode(value))
    }

    /// Reads a `T` from JSON: by its hand-written form when it has one, else
    /// by the decoder. Refusals are `DecodingError`s either way.
    public static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        if let message = type as? any WireMessage.Type {
            var reader = JSONReader(bytes)
            let value = try message.init(wire: &reader)
            try reader.finish()
            return value as! T
        }
        return try decoder.decode(type, from: Data(bytes))
    }

    /// A register's value as stored in a database column.
    public static func text(_ value: FieldValue) throws -> String {
        // An article body is kilobytes: room for it and its escapes at once.
        var writer = JSONWriter(capacity: value.wireBytesEstimate)
        try value.write(wire: &writer)
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    /// A version vector as stored in a database column.
    public static func text(_ vector: VersionVector) throws -> String {
        var writer = JSONWriter(capacity: 32)
        vector.write(wire: &writer)
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    public static func value(fromText text: String) throws -> FieldValue {
        var reader = JSONReader(Array(text.utf8))
        let value = try reader.readFieldValue()
        try reader.finish()
        return value
    }

    public static func vector(fromText text: String) throws -> VersionVector {
        var reader = JSONReader(Array(text.utf8))
        let vector = try VersionVector(wire: &reader)
        try reader.finish()
        return vector
    }
}
