import Foundation

// `package`, not public: the client trims with these too (one copy), but
// they are no part of the library's API.

extension Substring {
    /// What `trimmingCharacters(in:)` gives — the scalars in `set` removed
    /// from both ends — without its trip through NSString, which on Linux
    /// copies the whole text to UTF-16 and back (a visible share of every
    /// saved article and note).
    package func trimmingScalars(in set: CharacterSet) -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !set.contains($0) }),
            let last = scalars.lastIndex(where: { !set.contains($0) })
        else { return "" }
        return String(scalars[first...last])
    }
}

extension String {
    /// What `trimmingCharacters(in:)` gives, without NSString (see `Substring`'s).
    package func trimmingScalars(in set: CharacterSet) -> String {
        self[...].trimmingScalars(in: set)
    }
}

extension String {
    /// What `replacingOccurrences(of: "\r\n", with: "\n")` gives, without
    /// NSString (a whole article's text goes through it on every `add`).
    func normalizingLineEndings() -> String {
        // Over the bytes in place: `utf8.contains` went through the view a byte at a time.
        let hasCarriageReturn = utf8.withContiguousStorageIfAvailable { $0.contains(UInt8(ascii: "\r")) } ?? utf8.contains(UInt8(ascii: "\r"))
        guard hasCarriageReturn else { return self }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count)
        var previous: UInt8?
        for byte in utf8 {
            if byte == UInt8(ascii: "\n"), previous == UInt8(ascii: "\r") { bytes[bytes.count - 1] = byte } else { bytes.append(byte) }
            previous = byte
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
