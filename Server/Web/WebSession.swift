import Crypto
import Foundation
import Hummingbird
import ReadSyncCore

/// A browser signed in to the web reader.
///
/// Nothing is stored for a session: the cookie names the user and when it
/// expires, signed (HMAC-SHA256) with a key made from the user's password
/// hash. The hash is secret (it never leaves the database) and changes with
/// the password, so `readsync user password` signs out every browser at
/// once, and a cookie cannot be made without the database.
///
/// Every form carries a token made from the session the same way (`csrf`),
/// which another site's page cannot read: a post without it is refused,
/// even from a browser that would send the cookie.
struct WebSession: Sendable {
    static let cookieName = "readsync_session"
    /// How long a sign-in lasts.
    static let lifetime: Int64 = 30 * 24 * 3600

    let user: UserID
    let name: String
    /// The cookie as the browser sent it.
    let cookie: String
    private let key: SymmetricKey

    /// The session a browser's cookie proves, or nil (none, malformed,
    /// expired, forged, or signed before the password last changed).
    static func of(_ request: Request, store: any SyncStore, now: Int64) async throws -> WebSession? {
        guard let cookie = request.cookies[cookieName]?.value else { return nil }
        let parts = cookie.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let nameData = Base64URL.decode(parts[0]), let name = String(data: nameData, encoding: .utf8),
            let expires = Int64(parts[1]), expires > now, let mac = Base64URL.decode(parts[2]),
            let (user, hash) = try await store.webPassword(ofUserNamed: name)
        else { return nil }
        let key = signingKey(hash)
        guard HMAC<Crypto.SHA256>.isValidAuthenticationCode(mac, authenticating: Data("\(parts[0]).\(parts[1])".utf8), using: key) else { return nil }
        return WebSession(user: user, name: name, cookie: cookie, key: key)
    }

    /// A new session's cookie value for `name`, whose password hash is `hash`.
    static func cookieValue(name: String, passwordHash hash: String, now: Int64) -> String {
        let signed = "\(Base64URL.encode(Data(name.utf8))).\(now + lifetime)"
        let mac = HMAC<Crypto.SHA256>.authenticationCode(for: Data(signed.utf8), using: signingKey(hash))
        return "\(signed).\(Base64URL.encode(Data(mac)))"
    }

    /// The cookie that keeps a session: script cannot read it (`HttpOnly`),
    /// other sites' pages do not send it with their posts (`SameSite=Lax`),
    /// and over TLS it is never sent in the clear (`Secure`).
    static func cookie(_ value: String, secure: Bool) -> Cookie {
        Cookie(name: cookieName, value: value, maxAge: Int(lifetime), path: "/", secure: secure, httpOnly: true, sameSite: .lax)
    }

    /// The cookie that ends a session in this browser.
    static func signedOut(secure: Bool) -> Cookie {
        Cookie(name: cookieName, value: "", maxAge: 0, path: "/", secure: secure, httpOnly: true, sameSite: .lax)
    }

    /// The token this session's forms carry.
    var csrfToken: String {
        Base64URL.encode(Data(HMAC<Crypto.SHA256>.authenticationCode(for: Data("csrf.\(cookie)".utf8), using: key)))
    }

    /// Whether a post carried this session's token (compared in constant time).
    func accepts(csrfToken token: String?) -> Bool {
        guard let token, let mac = Base64URL.decode(Substring(token)) else { return false }
        return HMAC<Crypto.SHA256>.isValidAuthenticationCode(mac, authenticating: Data("csrf.\(cookie)".utf8), using: key)
    }

    private static func signingKey(_ passwordHash: String) -> SymmetricKey {
        SymmetricKey(data: Crypto.SHA256.hash(data: Data("readsync web session\u{0}\(passwordHash)".utf8)))
    }
}

/// Base64 with the URL's alphabet and no padding: cookie values and form fields as they are.
enum Base64URL {
    static func encode(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func decode(_ text: Substring) -> Data? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        return Data(base64Encoded: base64)
    }
}
