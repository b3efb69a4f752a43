/// Writes JSON text byte by byte, exactly as `WireCoding.encoder` (Foundation's
/// `JSONEncoder`, sorted keys, slashes unescaped) would write the same values:
/// the protocol's bulk — changes — is written with it, everything else with
/// the encoder, and both must give the same bytes (`WireCodingTests` checks).
/// Callers write keys in sorted order themselves.
public struct JSONWriter {
    public private(set) var bytes: [UInt8] = []

    public init(capacity: Int = 256) {
        bytes.reserveCapacity(capacity)
    }

    /// `strings` as one JSON array: how SQL statements take a list as one
    /// argument (`IN (SELECT value FROM json_each(?))`), so that they are
    /// prepared once however many there are.
    public static func array(of strings: some Collection<String>) -> String {
        var writer = JSONWriter(capacity: strings.count * 20)
        writer.byte("[")
        for (index, string) in strings.enumerated() {
            if index > 0 { writer.byte(",") }
            writer.string(string)
        }
        writer.byte("]")
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    /// Punctuation and keys: text the caller knows needs no escaping.
    public mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    public mutating func byte(_ ascii: Unicode.Scalar) {
        bytes.append(UInt8(ascii: ascii))
    }

    public mutating func null() { raw("null") }

    public mutating func bool(_ value: Bool) { value ? raw("true") : raw("false") }

    public mutating func integer(_ value: some BinaryInteger) {
        bytes.append(contentsOf: String(value).utf8)
    }

    /// Shortest round-tripping digits, as `JSONEncoder` writes them: `0.5`,
    /// `1` (not `1.0`), `1e+21`, `1.5e-07`. JSON has no infinity or NaN.
    public mutating func double(_ value: Double) throws {
        guard value.isFinite else {
            throw EncodingError.invalidValue(value, .init(codingPath: [], debugDescription: "JSON cannot hold \(value)"))
        }
        var text = value.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        bytes.append(contentsOf: text.utf8)
    }

    /// A string literal: `"` and `\` escaped, control characters as `\n`,
    /// `\t`, … or `\u00XX`; everything else (slashes and non-ASCII included)
    /// as its UTF-8 bytes.
    public mutating func string(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { utf8 in
            var runStart = 0
            while true {
                let end = JSONStringScan.plainRunEnd(in: utf8, from: runStart)
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<end]))
                guard end < utf8.count else { break }
                escape(utf8[end])
                runStart = end + 1
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// A byte `JSONStringScan` stops at, escaped.
    private mutating func escape(_ code: UInt8) {
        bytes.append(UInt8(ascii: "\\"))
        switch code {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"): bytes.append(code)
        case 0x08: byte("b")
        case 0x09: byte("t")
        case 0x0A: byte("n")
        case 0x0C: byte("f")
        case 0x0D: byte("r")
        default:
            raw("u00")
            bytes.append(Self.hexDigits[Int(code >> 4)])
            bytes.append(Self.hexDigits[Int(code & 0x0F)])
        }
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)
}
