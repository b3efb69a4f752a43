import Foundation

/// A text's graphemes (its `Character`s), read from its UTF-8 bytes.
///
/// Walking an article body `Character` by `Character` asks the standard
/// library for every grapheme boundary and looks every scalar's properties
/// up in its tables: for a body of kilobytes, saved with each article, that
/// was most of the cost of saving it. Nearly all of a body is ASCII, and an
/// ASCII scalar followed by another ASCII scalar is a grapheme of its own
/// (except CR LF, which is one), so only around other bytes is the standard
/// library asked where a grapheme ends. What a grapheme is (whitespace, a
/// letter or a number) is what its first scalar is: that is how
/// `Character.isWhitespace`, `isLetter` and `isNumber` are defined. So the
/// results are those of the `Character` definitions, which the tests check.
public enum Graphemes {
    /// What a grapheme is, by its first scalar.
    public enum Class: Sendable {
        /// `Character.isWhitespace`.
        case whitespace
        /// `Character.isLetter || Character.isNumber`.
        case word
        case other

        public init(_ scalar: Unicode.Scalar) {
            let properties = scalar.properties
            if properties.isWhitespace {
                self = .whitespace
            } else if properties.isAlphabetic || properties.numericType != nil {
                self = .word
            } else {
                self = .other
            }
        }
    }

    /// Calls `body` with each grapheme of `text`, in order: its class and the
    /// range of its UTF-8 bytes in `bytes`, the text's. (Inlinable, so that
    /// each caller's `body` is compiled into the loop: called through a
    /// closure, a call per byte was most of the walk.)
    @inlinable
    public static func forEach(in text: String, _ body: (_ kind: Class, _ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) throws -> Void) rethrows {
        var text = text
        text.makeContiguousUTF8()  // a no-op for native strings
        _ = try asciiClasses.withUnsafeBufferPointer { classes in
            try text.utf8.withContiguousStorageIfAvailable { bytes in
                var offset = 0
                while offset < bytes.count {
                    let start = offset
                    let byte = bytes[offset]
                    let kind: Class
                    if byte < 0x80, offset + 1 == bytes.count || bytes[offset + 1] < 0x80 {
                        kind = classes[Int(byte)]
                        offset += byte == 0x0D && offset + 1 < bytes.count && bytes[offset + 1] == 0x0A ? 2 : 1
                    } else {
                        (kind, offset) = grapheme(in: text, at: offset)
                    }
                    try body(kind, bytes, start..<offset)
                }
            }
        }
    }

    /// `text.trimmingCharacters(in: .whitespacesAndNewlines)`, without
    /// asking Foundation when both ends are ASCII other than whitespace
    /// (then there is nothing to trim): Foundation's trim bridges through
    /// `NSString`, 27,000 instructions for a URL of an import's row.
    public static func trimmingWhitespace(_ text: String) -> String {
        func isKept(_ byte: UInt8?) -> Bool { byte.map { $0 > 0x20 && $0 < 0x80 } ?? false }
        if isKept(text.utf8.first) && isKept(text.utf8.last) { return text }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// `text` with every run of whitespace made one space, and none at either
    /// end: `text.split(whereSeparator: \.isWhitespace).joined(separator: " ")`.
    public static func collapsingWhitespace(_ text: String) -> String {
        var collapsed: [UInt8] = []
        collapsed.reserveCapacity(text.utf8.count)
        var spaceDue = false
        forEach(in: text) { kind, bytes, range in
            guard kind != .whitespace else {
                spaceDue = !collapsed.isEmpty
                return
            }
            if spaceDue {
                collapsed.append(0x20)
                spaceDue = false
            }
            if range.count == 1 {
                collapsed.append(bytes[range.lowerBound])
            } else {
                collapsed.append(contentsOf: bytes[range])
            }
        }
        return String(decoding: collapsed, as: UTF8.self)
    }

    /// The 128 ASCII scalars' classes, from the same Unicode properties.
    @usableFromInline static let asciiClasses: [Class] = (0..<128).map { Class(Unicode.Scalar(UInt8($0))) }

    /// The class of the grapheme that starts at UTF-8 offset `offset` (a
    /// grapheme boundary), and the offset where it ends.
    public static func grapheme(in text: String, at offset: Int) -> (kind: Class, end: Int) {
        let utf8 = text.utf8
        // A substring's graphemes start at its start, which is one here.
        let rest = text[utf8.index(utf8.startIndex, offsetBy: offset)...]
        let end = rest.index(after: rest.startIndex)
        return (Class(rest.unicodeScalars.first!), utf8.distance(from: utf8.startIndex, to: end))
    }
}
