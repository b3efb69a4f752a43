import Dispatch
import HummingbirdBcrypt

/// The password a user signs in to the web reader with (`readsync user
/// password`). Unlike tokens and wallabag credentials, which are random and
/// long, a person chooses it, so it is kept as a bcrypt hash: slow to try
/// guesses against if the database is ever copied.
public enum WebPassword {
    /// Refused below: short passwords fall to guessing however slow the hash.
    public static let minimumCharacters = 10
    /// bcrypt reads only the first 72 bytes: a longer password would be
    /// accepted by its start alone, so it is refused instead.
    public static let maximumBytes = 72
    /// bcrypt's work factor: about a quarter of a second a sign-in here.
    static let cost: UInt8 = 12

    /// A random password: four groups of six letters and digits (about 120
    /// bits), for `--generate`.
    public static func generate() -> String { WallabagCredentials.randomPassword() }

    /// The hash to store for `password`, or why it cannot be one.
    public static func hash(_ password: String) throws(WebPasswordError) -> String {
        guard password.count >= minimumCharacters else { throw .tooShort }
        guard password.utf8.count <= maximumBytes else { throw .tooLong }
        guard !password.contains(where: \.isNewline) else { throw .lineBreak }
        return Bcrypt.hash(password, cost: cost)
    }

    public static func verify(_ password: String, hash: String) -> Bool {
        password.utf8.count <= maximumBytes && Bcrypt.verify(password, hash: hash)
    }

    /// `verify` on a thread of its own: a quarter of a second of work would
    /// hold one of the few threads that serve every request. A user without
    /// a password (`hash` nil) is checked against a hash no password
    /// matches, so that a sign-in takes as long whether the name exists or not.
    static func verifyOffThePool(_ password: String, hash: String?) async -> Bool {
        await withCheckedContinuation { answer in
            DispatchQueue.global().async { answer.resume(returning: verify(password, hash: hash ?? unmatchableHash)) }
        }
    }

    /// The hash of a random password, made once (a quarter of a second).
    private static let unmatchableHash = Bcrypt.hash(generate(), cost: cost)
}

public enum WebPasswordError: Error, Equatable, CustomStringConvertible {
    case tooShort, tooLong, lineBreak

    public var description: String {
        switch self {
        case .tooShort: return "the password is too short: use at least \(WebPassword.minimumCharacters) characters (or --generate)"
        case .tooLong: return "the password is too long: at most \(WebPassword.maximumBytes) bytes"
        case .lineBreak: return "the password must be one line"
        }
    }
}
