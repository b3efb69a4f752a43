import Foundation
import Logging
import PostgresNIO
import ReadSyncServer

/// The PostgreSQL cluster the tests run beside: `scripts/with-postgres.sh`
/// starts a throwaway one and names it in READSYNC_TEST_DATABASE_URL
/// (`scripts/test.sh` runs every test that way). Without it, a PostgreSQL
/// test fails, saying so: none is skipped.
public enum TestPostgres {
    public static let variable = "READSYNC_TEST_DATABASE_URL"

    public struct NotConfigured: Error, CustomStringConvertible {
        public var description: String {
            "the PostgreSQL tests need a throwaway cluster: run them through ./scripts/test.sh or scripts/with-postgres.sh swift test (\(TestPostgres.variable) is not set)"
        }
    }

    /// The cluster's database.
    public static func url() throws -> PostgresURL {
        guard let text = ProcessInfo.processInfo.environment[variable], !text.isEmpty else { throw NotConfigured() }
        return try PostgresURL(text)
    }

    /// A new, empty store in a schema of its own, and how to dispose of it
    /// (the schema goes with it).
    public static func makeStore(maximumConnections: Int = 4, clock: @escaping @Sendable () -> Date = Date.init) throws
        -> (store: PostgresSyncStore, dispose: () -> Void)
    {
        let (stores, dispose) = try makeServers(1, maximumConnections: maximumConnections, clock: clock)
        return (stores[0], dispose)
    }

    /// `count` stores on one new, empty schema, each with a connection pool
    /// of its own: what `count` servers sharing one database hold.
    public static func makeServers(_ count: Int, maximumConnections: Int = 4, clock: @escaping @Sendable () -> Date = Date.init) throws
        -> (stores: [PostgresSyncStore], dispose: () -> Void)
    {
        let schema = "test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let stores = try (0..<count).map { _ in
            try PostgresSyncStore(url: url(), schema: schema, maximumConnections: maximumConnections, clock: clock)
        }
        return (
            stores,
            {
                for store in stores.dropFirst() { try? store.close() }
                try? stores[0].closeAndDropSchema()
            }
        )
    }

    /// A new, empty database in the cluster (for `readsync serve` processes,
    /// which use a database's default schema), as a URL.
    public static func makeDatabase() async throws -> String {
        let base = try url()
        let name = "e2e_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let configuration = PostgresConnection.Configuration(
            host: base.host, port: base.port, username: base.user, password: nil,
            database: base.database, tls: .disable)
        let connection = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: Logger(label: "readsync.test-postgres"))
        try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: Logger(label: "readsync.test-postgres"))
        try await connection.close()
        return "postgres://\(base.user)@\(base.host):\(base.port)/\(name)"
    }
}
