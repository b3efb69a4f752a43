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

    /// The token an `Authorization` header carries: "Bearer ", then 64 hex
    /// digits (spaces or tabs around them allowed), in lower case; nil for
    /// anything else. By bytes, not characters: it runs on every request.
    public static func fromAuthorization(_ header: String) -> String? {
        var token = Substring(header).utf8
        guard token.starts(with: "Bearer ".utf8) else { return nil }
        token = token.dropFirst(7)
        while let first = token.first, first == UInt8(ascii: " ") || first == UInt8(ascii: "\t") { token = token.dropFirst() }
        while let last = token.last, last == UInt8(ascii: " ") || last == UInt8(ascii: "\t") { token = token.dropLast() }
        guard token.count == 64 else { return nil }
        var lower: [UInt8] = []
        lower.reserveCapacity(64)
        for byte in token {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "f"): lower.append(byte)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): lower.append(byte + 32)
            default: return nil
            }
        }
        return String(decoding: lower, as: UTF8.self)
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
