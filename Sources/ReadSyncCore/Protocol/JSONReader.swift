/// Reads JSON text in one pass, straight into the caller's values, for the
/// protocol's bulk (changes): Foundation's `JSONDecoder` builds a tree and
/// goes through `Codable` containers, which dominated profiles of a sync.
///
/// It takes what `WireCoding.decoder` takes and refuses what it refuses, with
/// the same kinds of `DecodingError` (so refusals read the same to a client):
/// a syntax error is `dataCorrupted` at the top level; a value of the wrong
/// type `typeMismatch`, a missing key `keyNotFound` and an invalid value
/// `dataCorrupted`, each at its coding path. Of duplicate keys the first
/// counts, and a comma may end an object or array, as with the decoder;
/// `FuzzChecks` compares the two on any input.
public struct JSONReader {
    private let bytes: [UInt8]
    private var index = 0
    /// The keys and indices leading to the value being read, for errors.
    private(set) var codingPath: [any CodingKey] = []

    /// Nesting deeper than this is refused (as the decoder does), so hostile
    /// input cannot exhaust the stack.
    static let maxDepth = 512

    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    // MARK: Structure

    /// Reads `{…}`, calling `body` with each key; `body` must read (or skip)
    /// the key's value.
    public mutating func readObject(_ body: (inout JSONReader, String) throws -> Void) throws {
        try expectContainer(UInt8(ascii: "{"), as: [String: Any].self)
        skipWhitespace()
        if peek() == UInt8(ascii: "}") {
            index += 1
            return
        }
        while true {
            skipWhitespace()
            guard peek() == UInt8(ascii: "\"") else { throw syntaxError() }
            let key = try readStringLiteral()
            skipWhitespace()
            guard next() == UInt8(ascii: ":") else { throw syntaxError() }
            skipWhitespace()
            codingPath.append(PathKey(key))
            try body(&self, key)
            codingPath.removeLast()
            skipWhitespace()
            switch next() {
            case UInt8(ascii: ","):
                // A comma before the closing brace is taken, as the decoder takes it.
                skipWhitespace()
                if peek() == UInt8(ascii: "}") {
                    index += 1
                    return
                }
            case UInt8(ascii: "}"): return
            default: throw syntaxError()
            }
        }
    }

    /// Reads `[…]`, calling `body` once per element; `body` must read it.
    public mutating func readArray(_ body: (inout JSONReader) throws -> Void) throws {
        try expectContainer(UInt8(ascii: "["), as: [Any].self)
        skipWhitespace()
        if peek() == UInt8(ascii: "]") {
            index += 1
            return
        }
        var count = 0
        while true {
            skipWhitespace()
            codingPath.append(PathKey(count))
            try body(&self)
            codingPath.removeLast()
            count += 1
            skipWhitespace()
            switch next() {
            case UInt8(ascii: ","):
                skipWhitespace()
                if peek() == UInt8(ascii: "]") {
                    index += 1
                    return
                }
            case UInt8(ascii: "]"): return
            default: throw syntaxError()
            }
        }
    }

    /// Reads and discards one value of any kind (a key nobody asked for, or
    /// the second of a duplicate key), checking that it is valid JSON.
    public mutating func skipValue() throws {
        try skipValue(depth: codingPath.count)
    }

    private mutating func skipValue(depth: Int) throws {
        guard depth < Self.maxDepth else { throw syntaxError("too deeply nested") }
        skipWhitespace()
        switch peek() {
        case UInt8(ascii: "{"):
            try readObject { reader, _ in try reader.skipValue(depth: depth + 1) }
        case UInt8(ascii: "["):
            try readArray { reader in try reader.skipValue(depth: depth + 1) }
        case UInt8(ascii: "\""):
            try skipStringLiteral()
        case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"):
            guard try readLiteral() != nil else { throw syntaxError() }
        default:
            // Like the decoder, a number nobody reads is only delimited, not parsed.
            guard isNumberStart(peek()) else { throw syntaxError() }
            while let byte = peek(), Self.isNumberCharacter(byte) { index += 1 }
        }
    }

    private static func isNumberCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"): return true
        default: return false
        }
    }

    /// Checks that only whitespace follows the value read.
    public mutating func finish() throws {
        skipWhitespace()
        guard index == bytes.count else { throw syntaxError() }
    }

    // MARK: Values

    public mutating func readString() throws -> String {
        skipWhitespace()
        guard peek() == UInt8(ascii: "\"") else { throw try mismatch(String.self) }
        return try readStringLiteral()
    }

    public mutating func readBool() throws -> Bool {
        skipWhitespace()
        let start = index
        guard let literal = try readLiteral(), let value = literal.bool else {
            index = start
            throw try mismatch(Bool.self)
        }
        return value
    }

    /// Reads `null` and returns true, or reads nothing and returns false.
    public mutating func readNull() throws -> Bool {
        skipWhitespace()
        guard peek() == UInt8(ascii: "n") else { return false }
        guard try readLiteral() == .null else { throw syntaxError() }
        return true
    }

    /// An integer; like the decoder, `1.0` and `1e2` are integers too.
    public mutating func readInteger<Integer: FixedWidthInteger>(_ type: Integer.Type = Integer.self) throws -> Integer {
        skipWhitespace()
        guard isNumberStart(peek()) else { throw try mismatch(Integer.self) }
        let number = try readNumberText()
        if let exact = Integer(number.text) { return exact }
        guard let double = Double(number.text), let exact = Integer(exactly: double) else {
            throw DecodingError.dataCorrupted(.init(codingPath: codingPath, debugDescription: "Number \(number.text) does not fit \(Integer.self)"))
        }
        return exact
    }

    /// A value of a field register: null, a boolean, a number or text.
    /// Numbers that are whole and fit are integers (`1.0` reads as `1`), as
    /// the decoder reads them.
    public mutating func readFieldValue() throws -> FieldValue {
        skipWhitespace()
        switch peek() {
        case UInt8(ascii: "\""):
            return .text(try readStringLiteral())
        case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"):
            switch try readLiteral() {
            case .null: return .null
            case .true: return .bool(true)
            case .false: return .bool(false)
            case nil: throw syntaxError()
            }
        case let byte where isNumberStart(byte):
            let number = try readNumberText()
            if number.isPlainInteger, let integer = Int64(number.text) { return .int(integer) }
            guard let double = Double(number.text), double.isFinite else {
                throw DecodingError.dataCorrupted(.init(codingPath: codingPath, debugDescription: "Number \(number.text) is not representable"))
            }
            if let integer = Int64(exactly: double) { return .int(integer) }
            return .double(double)
        default:
            throw try mismatch(Double.self)
        }
    }

    /// An error for a value that is there but invalid (not a node id, …).
    public func invalidValue(_ description: String) -> DecodingError {
        .dataCorrupted(.init(codingPath: codingPath, debugDescription: description))
    }

    /// An error for a required key that never came.
    public func missingKey(_ key: String) -> DecodingError {
        .keyNotFound(PathKey(key), .init(codingPath: codingPath, debugDescription: "No value for key '\(key)'"))
    }

    // MARK: Lexing

    private func peek() -> UInt8? {
        index < bytes.count ? bytes[index] : nil
    }

    private mutating func next() -> UInt8? {
        guard index < bytes.count else { return nil }
        defer { index += 1 }
        return bytes[index]
    }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    private func isNumberStart(_ byte: UInt8?) -> Bool {
        guard let byte else { return false }
        return byte == UInt8(ascii: "-") || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
    }

    private mutating func expectContainer(_ opening: UInt8, as type: Any.Type) throws {
        skipWhitespace()
        guard peek() == opening else { throw try mismatch(type) }
        index += 1
    }

    private enum Literal {
        case `true`, `false`, null
        var bool: Bool? { self == .true ? true : self == .false ? false : nil }
    }

    /// `true`, `false` or `null`; nil (nothing read) for anything else.
    private mutating func readLiteral() throws -> Literal? {
        let (text, literal): (StaticString, Literal)
        switch peek() {
        case UInt8(ascii: "t"): (text, literal) = ("true", .true)
        case UInt8(ascii: "f"): (text, literal) = ("false", .false)
        case UInt8(ascii: "n"): (text, literal) = ("null", .null)
        default: return nil
        }
        let matches = text.withUTF8Buffer { expected in
            index + expected.count <= bytes.count && bytes[index..<index + expected.count].elementsEqual(expected)
        }
        guard matches else { return nil }
        index += text.utf8CodeUnitCount
        return literal
    }

    private struct NumberText {
        let text: String
        /// Digits only (with an optional minus): no fraction, no exponent.
        let isPlainInteger: Bool
    }

    /// A number by JSON's grammar: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    private mutating func readNumberText() throws -> NumberText {
        let start = index
        func digits(_ reader: inout JSONReader) -> Int {
            let first = reader.index
            while let byte = reader.peek(), byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") { reader.index += 1 }
            return reader.index - first
        }
        if peek() == UInt8(ascii: "-") { index += 1 }
        let leading = index
        guard digits(&self) > 0 else { throw syntaxError() }
        if bytes[leading] == UInt8(ascii: "0"), index - leading > 1 { throw syntaxError() }
        var plain = true
        if peek() == UInt8(ascii: ".") {
            index += 1
            plain = false
            guard digits(&self) > 0 else { throw syntaxError() }
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            index += 1
            plain = false
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { index += 1 }
            guard digits(&self) > 0 else { throw syntaxError() }
        }
        return NumberText(text: String(decoding: bytes[start..<index], as: UTF8.self), isPlainInteger: plain)
    }

    /// A string literal, the reader at its opening quote: valid UTF-8, no raw
    /// control characters, escapes decoded (surrogate pairs joined; a lone
    /// surrogate is refused).
    private mutating func readStringLiteral() throws -> String {
        index += 1  // the opening quote
        var end = plainRunEnd(from: index)
        // Most strings have no escapes: validate and copy them in one go.
        if end < bytes.count, bytes[end] == UInt8(ascii: "\"") {
            guard let text = Self.string(validating: bytes.span.extracting(index..<end)) else { throw syntaxError("invalid UTF-8") }
            index = end + 1
            return text
        }
        // An article body escapes every line break: the runs between
        // escapes are copied whole, not byte by byte.
        var decoded: [UInt8] = []
        while true {
            decoded.append(contentsOf: bytes[index..<end])
            index = end
            guard let byte = next() else { throw syntaxError("unterminated string") }
            switch byte {
            case UInt8(ascii: "\""):
                guard let text = Self.string(validating: decoded.span) else { throw syntaxError("invalid UTF-8") }
                return text
            case UInt8(ascii: "\\"):
                try readEscape(into: &decoded)
            default:
                throw syntaxError("control character in a string")
            }
            end = plainRunEnd(from: index)
        }
    }

    /// `bytes` as text, if they are valid UTF-8. (`String(validating:as:)`
    /// went through the standard library's unspecialised generic code, with
    /// a metadata lookup per string: ~200 ns for a 24-byte key, 2–3 times
    /// this.)
    private static func string(validating bytes: Span<UInt8>) -> String? {
        guard let text = try? UTF8Span(validating: bytes) else { return nil }
        return String(copying: text)
    }

    /// Where the bytes from `start` stop being a string's own: at its closing
    /// quote, an escape, a control character (refused) or the end.
    private func plainRunEnd(from start: Int) -> Int {
        bytes.withUnsafeBufferPointer { JSONStringScan.plainRunEnd(in: $0, from: start) }
    }

    /// Moves past a string literal nobody reads. Like the decoder, only its
    /// end is looked for: its bytes and escapes would be checked if read.
    private mutating func skipStringLiteral() throws {
        index += 1  // the opening quote
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "\""):
                index += 1
                return
            case UInt8(ascii: "\\"):
                // An escape is skipped whole: `\uXXXX` as six bytes, whatever they are.
                index += index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "u") ? 6 : 2
            default: index += 1
            }
        }
        throw syntaxError("unterminated string")
    }

    private mutating func readEscape(into decoded: inout [UInt8]) throws {
        switch next() {
        case UInt8(ascii: "\""): decoded.append(UInt8(ascii: "\""))
        case UInt8(ascii: "\\"): decoded.append(UInt8(ascii: "\\"))
        case UInt8(ascii: "/"): decoded.append(UInt8(ascii: "/"))
        case UInt8(ascii: "b"): decoded.append(0x08)
        case UInt8(ascii: "f"): decoded.append(0x0C)
        case UInt8(ascii: "n"): decoded.append(0x0A)
        case UInt8(ascii: "r"): decoded.append(0x0D)
        case UInt8(ascii: "t"): decoded.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = try readHex4()
            if (0xD800...0xDBFF).contains(scalar) {
                guard next() == UInt8(ascii: "\\"), next() == UInt8(ascii: "u") else { throw syntaxError("lone surrogate") }
                let low = try readHex4()
                guard (0xDC00...0xDFFF).contains(low) else { throw syntaxError("lone surrogate") }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            }
            guard let unicode = Unicode.Scalar(scalar) else { throw syntaxError("lone surrogate") }
            decoded.append(contentsOf: String(Character(unicode)).utf8)
        default:
            throw syntaxError("invalid escape")
        }
    }

    private mutating func readHex4() throws -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let byte = next() else { throw syntaxError() }
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw syntaxError("invalid \\u escape")
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    // MARK: Errors

    private func syntaxError(_ detail: String = "") -> DecodingError {
        .dataCorrupted(.init(codingPath: [], debugDescription: "The given data was not valid JSON" + (detail.isEmpty ? "." : ": \(detail) at byte \(index).")))
    }

    /// A value of another type than `type` is next — unless what is next is
    /// not valid JSON at all, which is a syntax error (as the decoder, which
    /// checks the syntax first, would say).
    private mutating func mismatch(_ type: Any.Type) throws -> DecodingError {
        let start = index
        try skipValue()
        index = start
        return .typeMismatch(type, .init(codingPath: codingPath, debugDescription: "Expected to decode \(type)"))
    }

    private struct PathKey: CodingKey {
        let stringValue: String
        let intValue: Int?
        init(_ key: String) {
            stringValue = key
            intValue = nil
        }
        init(_ index: Int) {
            stringValue = String(index)
            intValue = index
        }
        init?(stringValue: String) { self.init(stringValue) }
        init?(intValue: Int) { self.init(intValue) }
    }
}
