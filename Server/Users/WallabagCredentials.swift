import Crypto
import Foundation
import ReadSyncCore

/// What wallabag apps (KOReader's plugin, the Android and iOS apps, the
/// browser extension) sign in with: OAuth2's password grant needs a client
/// id and secret besides a user name and password. `readsync user wallabag`
/// makes all of them at random and shows them once; the store keeps the
/// client id and the SHA-256 of the rest (random, so a plain hash is as good
/// as a slow one).
public struct WallabagCredentials: Sendable, Equatable {
    public let clientID: String
    public let clientSecret: String
    public let password: String

    /// New credentials from the system's secure generator.
    public static func generate() -> WallabagCredentials {
        WallabagCredentials(
            clientID: "readsync_" + String(AccessToken.generate().prefix(24)),
            clientSecret: AccessToken.generate(),
            password: randomPassword())
    }

    /// 24 characters a person can type on an e-reader's keyboard: lower-case
    /// letters and digits without the look-alikes (0/o, 1/l), in groups of
    /// six. About 120 bits.
    static func randomPassword() -> String {
        let alphabet = Array("abcdefghijkmnpqrstuvwxyz23456789")
        var generator = SystemRandomNumberGenerator()
        let characters = (0..<24).map { _ in alphabet[Int(generator.next(upperBound: UInt32(alphabet.count)))] }
        return stride(from: 0, to: 24, by: 6).map { String(characters[$0..<$0 + 6]) }.joined(separator: "-")
    }

    /// What the store keeps.
    public var hashes: WallabagCredentialHashes {
        WallabagCredentialHashes(clientID: clientID, secretHash: AccessToken.hash(clientSecret), passwordHash: AccessToken.hash(password))
    }
}

/// The OAuth2 tokens handed to wallabag apps. Nothing is stored for them:
/// each names its client id, its kind and when it expires, signed with a
/// key made of the account's stored hashes, so any server process sharing
/// the database checks it, and new credentials (or `--revoke`) void every
/// token made before.
public enum WallabagToken {
    public enum Kind: String, Sendable {
        case access, refresh

        /// How long a token of this kind is good for.
        public var lifetime: Int64 {
            switch self {
            case .access: return 3_600
            case .refresh: return 14 * 86_400
            }
        }
    }

    /// A new token of `kind` for `account`, good until `now` + its lifetime (Unix seconds).
    public static func make(_ kind: Kind, for account: WallabagAccount, now: Int64) -> String {
        let nonce = String(AccessToken.generate().prefix(16))
        let claims = [account.credentials.clientID, kind.rawValue, String(now + kind.lifetime), nonce].joined(separator: ".")
        return claims + "." + signature(claims, account.credentials)
    }

    /// The client id a token claims to be for, to look its account up; nil for no token of ours.
    public static func clientID(of token: String) -> String? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 5, token.count <= 256 else { return nil }
        return String(parts[0])
    }

    /// Whether `token` is a `kind` token `account` signed and still good at `now`.
    public static func isValid(_ token: String, _ kind: Kind, for account: WallabagAccount, now: Int64) -> Bool {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 5, parts[0] == account.credentials.clientID, parts[1] == kind.rawValue,
            let expires = Int64(parts[2]), expires > now
        else { return false }
        let claims = parts[0..<4].joined(separator: ".")
        // Compared in constant time: the signature is the secret part.
        let expected = Array(signature(claims, account.credentials).utf8), given = Array(parts[4].utf8)
        return expected.count == given.count && zip(expected, given).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }

    private static func signature(_ claims: String, _ credentials: WallabagCredentialHashes) -> String {
        let key = SymmetricKey(data: Data((credentials.secretHash + credentials.passwordHash).utf8))
        return Hex.string(HMAC<Crypto.SHA256>.authenticationCode(for: Data(claims.utf8), using: key))
    }
}
