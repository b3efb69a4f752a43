import Crypto
import Foundation
import ReadSyncCore

/// wallabag apps name entries and tags by integers (KOReader writes them into
/// file names). readsync's ids are 16 hex digits; an entry's integer is the
/// first 13 of them: 52 bits, exact in every JSON reader (Lua's and
/// JavaScript's numbers are doubles), the same on every server and after
/// every restart, and nothing to store. Two articles of one library share
/// one only with a chance of about n²/2⁵³ (one in 90 million for 10,000
/// articles).
enum WallabagID {
    static func of(_ articleID: String) -> Int64 {
        Int64(articleID.prefix(13), radix: 16) ?? 0
    }

    /// A note's (an annotation's) integer: the first 13 hex digits of its
    /// UUID, as an entry's.
    static func of(note id: String) -> Int64 {
        Int64(String(id.filter(\.isHexDigit).prefix(13)), radix: 16) ?? 0
    }

    /// A tag's integer: the same from its name, as tags have no id of their own.
    static func of(tag name: String) -> Int64 {
        Int64(String(sha1Hex(name).prefix(13)), radix: 16) ?? 0
    }

    static func sha1Hex(_ text: String) -> String {
        Hex.string(Insecure.SHA1.hash(data: Data(text.utf8)))
    }
}
