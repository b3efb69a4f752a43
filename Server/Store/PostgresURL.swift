import Foundation
import PostgresNIO

/// Where a PostgreSQL database is, from `postgres://USER[:PASSWORD]@HOST[:PORT]/DB[?sslmode=MODE]`
/// (`readsync serve --database`, `READSYNC_DATABASE_URL`). The password is
/// kept for connecting and appears nowhere else: `description` leaves it out,
/// so errors and logs can name the database safely.
public struct PostgresURL: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public let user: String
    let password: String?
    public let host: String
    public let port: Int
    public let database: String
    public let sslMode: SSLMode

    /// libpq's modes: `disable`; `allow` and `prefer` (TLS if the server offers
    /// it, unverified); `require` (TLS, unverified); `verify-ca` (the
    /// certificate's chain); `verify-full` (its chain and host name).
    public enum SSLMode: String, Sendable, CaseIterable {
        case disable, allow, prefer, require
        case verifyCA = "verify-ca"
        case verifyFull = "verify-full"
    }

    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
    }

    /// Parses `text`; the error never repeats a password.
    public init(_ text: String) throws {
        guard let components = URLComponents(string: text), let scheme = components.scheme,
            ["postgres", "postgresql"].contains(scheme.lowercased())
        else {
            throw Invalid(description: "the database must be a URL like postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE")
        }
        guard let user = components.user, !user.isEmpty else { throw Invalid(description: "the database URL names no user (postgres://USER@HOST/DATABASE)") }
        guard let host = components.host, !host.isEmpty else { throw Invalid(description: "the database URL names no host (postgres://USER@HOST/DATABASE)") }
        let database = String(components.path.drop { $0 == "/" })
        guard !database.isEmpty, !database.contains("/") else {
            throw Invalid(description: "the database URL names no database (postgres://USER@HOST/DATABASE)")
        }
        var sslMode = SSLMode.prefer
        for item in components.queryItems ?? [] {
            guard item.name == "sslmode" else {
                throw Invalid(description: "unknown database URL parameter '\(item.name)' (readsync takes sslmode only)")
            }
            guard let mode = item.value.flatMap(SSLMode.init(rawValue:)) else {
                throw Invalid(description: "unknown sslmode '\(item.value ?? "")': use one of \(SSLMode.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            sslMode = mode
        }
        self.user = user
        self.password = components.password
        self.host = host
        self.port = components.port ?? 5432
        self.database = database
        self.sslMode = sslMode
    }

    /// The URL without its password.
    public var description: String {
        var components = URLComponents()
        components.scheme = "postgres"
        components.user = user
        components.host = host
        components.port = port
        components.path = "/" + database
        return components.string ?? "postgres://\(user)@\(host):\(port)/\(database)"
    }

    public var debugDescription: String { description }
    /// What `dump` and debuggers show: no password either.
    public var customMirror: Mirror { Mirror(self, children: ["url": description, "sslmode": sslMode.rawValue]) }

    /// TLS as `sslMode` asks: none, preferred or required, and how the
    /// server's certificate is checked.
    var tlsMode: TLSMode? {
        var verified = TLSConfiguration.makeClientConfiguration()
        var unverified = verified
        unverified.certificateVerification = .none
        switch sslMode {
        case .disable: return nil
        case .allow, .prefer: return .prefer(unverified)
        case .require: return .require(unverified)
        case .verifyCA:
            verified.certificateVerification = .noHostnameVerification
            return .require(verified)
        case .verifyFull: return .require(verified)
        }
    }

    enum TLSMode {
        case prefer(TLSConfiguration)
        case require(TLSConfiguration)
    }

    /// `tls` for the connection pool.
    var clientTLS: PostgresClient.Configuration.TLS {
        switch tlsMode {
        case nil: return .disable
        case .prefer(let configuration): return .prefer(configuration)
        case .require(let configuration): return .require(configuration)
        }
    }

    /// The same, for a single connection (`PostgresSyncStore`'s first contact).
    func connectionTLS() throws -> PostgresConnection.Configuration.TLS {
        switch tlsMode {
        case nil: return .disable
        case .prefer(let configuration): return .prefer(try NIOSSLContext(configuration: configuration))
        case .require(let configuration): return .require(try NIOSSLContext(configuration: configuration))
        }
    }
}
