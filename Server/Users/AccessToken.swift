import Crypto
import Foundation
import ReadSyncCore

/// Bearer tokens: 32 random bytes shown once as hex; the server keeps only
/// their SHA-256, so a copy of its database does not let anyone sync.
public enum AccessToken {
    /// A new token, 64 hex characters, from the system's secure generator.
    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<4).map { _ in
            let digits = String(generator.next() as UInt64, radix: 16)
            return String(repeating: "0", count: 16 - digits.count) + digits
        }.joined()
    }

    /// What the server stores and compares: the SHA-256 as hex (swift-crypto).
    public static func hash(_ token: String) -> String {
        Hex.string(Crypto.SHA256.hash(data: Data(token.utf8)))
    }

    /// User names: 1–64 of letters, digits, `.`, `_`, `-`.
    public static func isValidUserName(_ name: String) -> Bool {
        (1...64).contains(name.count) && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }
    }
}
