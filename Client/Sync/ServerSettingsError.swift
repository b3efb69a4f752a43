import Foundation

/// Settings of the sync server (`client server`) that cannot be used.
public enum ServerSettingsError: LibraryRefusal, Equatable, LocalizedError {
    case invalidServerURL(String)
    case invalidToken
    /// A server URL with a user name or password in it.
    case credentialsInServerURL
    case unreadableCAFile(path: String, reason: String)
    case caFileWithoutHTTPS(String)

    public var description: String {
        switch self {
        case .invalidServerURL(let text): return "not an http(s) server URL: \(text)"
        case .invalidToken: return "the token must be non-empty and printable"
        case .credentialsInServerURL:
            return "the server URL must not hold a user name or password (the device's status and sync messages show the URL)"
        case .unreadableCAFile(let path, let reason): return "cannot use \(path) as the certificate authority: \(reason)"
        case .caFileWithoutHTTPS(let url): return "a certificate authority is for an https:// server, and \(url) is not one"
        }
    }

    public var errorDescription: String? { description }
}
