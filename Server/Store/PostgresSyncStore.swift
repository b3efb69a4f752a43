import FaultPoints
import Foundation
import Logging
import PostgresNIO
import ReadSyncCore
import Synchronization

/// The PostgreSQL store: the SQLite store's tables and rules on a database
/// that any number of `readsync serve` processes share. Nothing a request
/// needs is kept in one process's memory (the sightings waiting to be
/// written are only a delay, as in the SQLite store).
///
/// **A change feed without holes.** A pull reads "the user's versions with
/// sequence > cursor"; a device moves its cursor to the last one it got. If
/// two pushes took sequence numbers 41 and 42 and committed in the order 42,
/// 41, a pull in between would see 42, move past 41 and never see it. So
/// every transaction that gives out a user's sequence numbers (a push, a
/// collection round) first locks the user's row (`SELECT … FOR NO KEY UPDATE`) and
/// reads `last_seq` under that lock: the next one cannot even read the
/// counter before the previous one has committed, and PostgreSQL makes a
/// commit visible before it releases its locks. A user's commits therefore
/// become visible in sequence order, and a pull (one snapshot, REPEATABLE
/// READ) always sees a prefix of the feed. Different users never wait for
/// each other.
public final class PostgresSyncStore: SteppedSyncStore {
    public let epoch: String
    /// Where the database is (no password).
    public let url: PostgresURL
    private let client: PostgresClient
    private let running: Task<Void, Never>
    private let logger: Logger
    /// The time devices are seen at (a simulation's, in tests).
    private let clock: @Sendable () -> Date
    /// The schema the tables live in (tests give each store its own).
    private let schema: String?
    /// Devices seen pulling and not yet written, and the one task writing
    /// them while there are any (see `recordSighting`).
    private let sightings = Mutex<(seen: [DeviceKey: Sighting], writer: Task<(any Error)?, Never>?)>(([:], nil))
    /// Copies taken by `copy` (tests): table-name prefixes.
    private let copies = Atomic<Int>(0)
    /// The task listening for other servers' pushes (`observePushes`).
    private let listener = Mutex<Task<Void, Never>?>(nil)

    private struct DeviceKey: Hashable, Comparable {
        let user: UserID
        let node: NodeID

        static func < (a: Self, b: Self) -> Bool { (a.user.rawValue, a.node.rawValue) < (b.user.rawValue, b.node.rawValue) }
    }

    private struct Sighting {
        let name: String?
        let pulled: Int64
        let at: String
    }

    /// Connects to `url`, creating and migrating the tables if needed (in
    /// `schema`, created if missing, when one is given; tests use that).
    /// Throws `DatabaseUnavailable`, naming the database without its
    /// password, when it cannot be reached or refuses.
    public init(
        url: PostgresURL, schema: String? = nil, maximumConnections: Int = 20, clock: @escaping @Sendable () -> Date = Date.init,
        logger: Logger = Logger(label: "readsync.postgres")
    ) throws {
        self.url = url
        self.schema = schema
        self.clock = clock
        self.logger = logger
        var configuration = PostgresClient.Configuration(
            host: url.host, port: url.port, username: url.user, password: url.password,
            database: url.database, tls: url.clientTLS)
        configuration.options.maximumConnections = maximumConnections
        // A server that stops answering without its connection closing (a
        // frozen machine, a partition) must not hold a user's row for hours:
        // its transaction is ended, and others wait for a lock at most so long.
        configuration.options.additionalStartupParameters =
            [
                ("idle_in_transaction_session_timeout", "60s"), ("lock_timeout", "30s"), ("statement_timeout", "120s"),
            ] + (schema.map { [("search_path", $0)] } ?? [])
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.client = client
        running = Task(executorPreference: BlockingWait.executor) { await client.run() }
        do {
            epoch = try BlockingWait.run { try await Self.prepare(url, schema: schema, logger: logger) }
        } catch {
            running.cancel()
            throw DatabaseUnavailable(database: url.description, reason: Self.reason(error))
        }
    }

    /// The first contact, on a connection of its own (the pool would retry
    /// an unreachable database quietly for ever): creates the schema, migrates,
    /// and reads or sets the database's epoch.
    private static func prepare(_ url: PostgresURL, schema: String?, logger: Logger) async throws -> String {
        var configuration = PostgresConnection.Configuration(
            host: url.host, port: url.port, username: url.user, password: url.password,
            database: url.database, tls: try url.connectionTLS())
        configuration.options.connectTimeout = .seconds(10)
        let connection = try await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger)
        do {
            try await PostgresSchema.migrate(connection, schema: schema, logger: logger)
            let epoch = NodeID.random().rawValue
            try await connection.query("INSERT INTO meta (key, value) VALUES ('epoch', \(epoch)) ON CONFLICT (key) DO NOTHING", logger: logger)
            let stored = try await connection.query("SELECT value FROM meta WHERE key = 'epoch'", logger: logger).collect().first?.decode(String.self)
            try await connection.close()
            return stored ?? epoch
        } catch {
            try? await connection.close()
            throw error
        }
    }

    /// What went wrong, in words that carry no credentials (PostgresNIO's
    /// own description of an error says nothing, on purpose).
    static func reason(_ error: any Error) -> String {
        if let failed = error as? PostgresTransactionError, let inner = failed.closureError ?? failed.beginError ?? failed.commitError {
            return reason(inner)
        }
        guard let error = error as? PSQLError else { return "\(error)" }
        if let message = error.serverInfo?[.message] { return message + (error.serverInfo?[.sqlState].map { " (SQLSTATE \($0))" } ?? "") }
        if let underlying = error.underlying { return "\(underlying)" }
        return "\(error.code)"
    }

    public func close() throws {
        defer {
            running.cancel()
            listener.withLock { $0?.cancel() }
        }
        try BlockingWait.run { try await self.flushSightings() }
    }

    /// Closes the store and removes the schema it was opened in, with
    /// everything in it (a test's store; refused for one opened without a
    /// schema of its own).
    public func closeAndDropSchema() throws {
        guard let schema else { throw CorruptDatabase(reason: "only a store opened in a schema of its own can drop it") }
        defer {
            running.cancel()
            listener.withLock { $0?.cancel() }
        }
        try BlockingWait.run {
            try? await self.flushSightings()
            _ = try await self.client.query(PostgresQuery(unsafeSQL: "DROP SCHEMA \"\(schema)\" CASCADE"), logger: self.logger).collect()
        }
    }

    /// How a transaction sees the others: each statement the latest commits
    /// (and waits for the rows it locks), or one snapshot for a read.
    enum Isolation: String {
        case readCommitted = "BEGIN"
        case snapshot = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY"
        /// One snapshot, for a copy written beside it (`copy`).
        case snapshotCopy = "BEGIN ISOLATION LEVEL REPEATABLE READ"
    }

    /// Runs `body` in a transaction on a pooled connection; what `body`
    /// throws is rethrown as it is, after the rollback.
    private func transaction<T: Sendable>(
        _ isolation: Isolation = .readCommitted,
        _ body: @escaping @Sendable (Statements) async throws -> T
    ) async throws -> T {
        do {
            return try await onOwnExecutor {
                try await self.client.withConnection { connection in
                    let db = Statements(connection: connection, logger: self.logger)
                    do {
                        try await db.run(PostgresQuery(unsafeSQL: isolation.rawValue))
                        let result = try await body(db)
                        try await db.run("COMMIT")
                        return result
                    } catch {
                        // Never back to the pool inside a transaction: a
                        // connection that cannot roll back is closed.
                        do { try await db.run("ROLLBACK") } catch { try? await connection.close() }
                        throw error
                    }
                }
            }
        } catch let error as PSQLError {
            // PostgresNIO describes its errors in nothing but generic words.
            throw DatabaseFailure(reason: Self.reason(error), sqlState: error.serverInfo?[.sqlState])
        }
    }

    /// Runs database work on the store's own executor (`BlockingWait`'s),
    /// never on Swift's shared cooperative pool: a caller that holds a pool
    /// thread for long (a synchronous test, a blocked request) would
    /// otherwise leave a transaction open and idle, holding its locks, until
    /// PostgreSQL ends it.
    private func onOwnExecutor<T: Sendable>(_ work: () async throws -> T) async throws -> T {
        try await withTaskExecutorPreference(BlockingWait.executor) { try await work() }
    }

    /// What PostgreSQL answered when a statement failed, said plainly.
    public struct DatabaseFailure: Error, CustomStringConvertible {
        public let reason: String
        /// PostgreSQL's error code, when the server gave one (53100: its disk is full).
        public var sqlState: String? = nil
        public var description: String { "the database failed: \(reason)" }
    }

    /// A transaction's statements (the connection is only lent to it).
    struct Statements {
        let connection: PostgresConnection
        let logger: Logger

        func rows(_ query: PostgresQuery) async throws -> [PostgresRow] {
            try await connection.query(query, logger: logger).collect()
        }

        /// The rows as PostgreSQL sends them, for a reader that may stop
        /// early: leaving the loop discards the rest without holding them.
        func stream(_ query: PostgresQuery) async throws -> PostgresRowSequence {
            try await connection.query(query, logger: logger)
        }

        func run(_ query: PostgresQuery) async throws {
            _ = try await rows(query)
        }
    }

    public func user(forTokenHash hash: String) async throws -> UserID? {
        try await onOwnExecutor {
            try await self.client.query("SELECT id FROM users WHERE token_hash = \(hash)", logger: self.logger).collect().first.map {
                UserID(try $0.decode(Int64.self))
            }
        }
    }

    public func user(named name: String, secretHash hash: String) async throws -> UserID? {
        try await onOwnExecutor {
            try await self.client.query(
                """
                SELECT id FROM users WHERE name = \(name) AND token_hash IS NOT NULL AND (token_hash = \(hash) OR wallabag_password_hash = \(hash))
                """, logger: self.logger
            ).collect().first
                .map { UserID(try $0.decode(Int64.self)) }
        }
    }

    /// The database's size on disk (`pg_database_size`).
    /// The NOTIFY channel of the store's schema: stores in other schemas of
    /// the same database (tests) do not hear each other.
    static func pushChannel(_ schema: String?) -> String { "readsync_pushes" + (schema.map { "_" + $0 } ?? "") }

    /// Every push committed into this database, by any server, as
    /// PostgreSQL announces it (LISTEN on a connection of its own, opened
    /// again after a failure). A notice missed while reconnecting is not
    /// lost work: a waiting pull then answers at the end of its wait.
    public func observePushes(_ handler: @escaping @Sendable (UserID, NodeID) -> Void) {
        let (url, schema, logger) = (self.url, self.schema, self.logger)
        let task = Task(executorPreference: BlockingWait.executor) {
            while !Task.isCancelled {
                do {
                    var configuration = PostgresConnection.Configuration(
                        host: url.host, port: url.port, username: url.user, password: url.password,
                        database: url.database, tls: try url.connectionTLS())
                    configuration.options.connectTimeout = .seconds(10)
                    let connection = try await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger)
                    defer { Task { try? await connection.close() } }
                    try await connection.listen(on: Self.pushChannel(schema)) { notifications in
                        for try await notification in notifications {
                            let parts = notification.payload.split(separator: " ")
                            guard parts.count == 2, let user = Int64(parts[0]), let node = NodeID(String(parts[1])) else { continue }
                            handler(UserID(user), node)
                        }
                    }
                } catch {
                    if Task.isCancelled { return }
                    logger.warning("not hearing other servers' pushes; trying again in a second", metadata: ["rs.error": "\(Self.reason(error))"])
                }
                try? await Task.sleep(for: .seconds(1))
            }
        }
        listener.withLock {
            $0?.cancel()
            $0 = task
        }
    }

    /// Ready when PostgreSQL answers. (It refuses writes itself when its
    /// disk is full, which a push then answers with 507.)
    /// An orchestrator's probe wants an answer, not a wait for the pool's
    /// next attempt to connect: at most `readinessTimeout`.
    public func checkReady() async throws {
        let answered: Bool
        do {
            answered = try await withThrowingTaskGroup(of: Bool.self) { group in
                group.addTask {
                    _ = try await self.onOwnExecutor { try await self.client.query("SELECT 1", logger: self.logger).collect() }
                    return true
                }
                group.addTask {
                    try await Task.sleep(for: Self.readinessTimeout)
                    return false
                }
                defer { group.cancelAll() }
                return try await group.next() ?? false
            }
        } catch {
            throw StoreNotReady(reason: "PostgreSQL does not answer: \(Self.reason(error))")
        }
        guard answered else { throw StoreNotReady(reason: "PostgreSQL does not answer within \(Self.readinessTimeout)") }
    }

    static let readinessTimeout: Duration = .seconds(5)

    public func databaseBytes() throws -> Int {
        try BlockingWait.run {
            Int(try await self.client.query("SELECT pg_database_size(current_database())", logger: self.logger).collect().first!.decode(Int64.self))
        }
    }

    // MARK: Pushing

    public func push(_ changes: [Change], from node: NodeID, for user: UserID, known: KnownHistory, chain: PushChain?) async throws -> PushOutcome {
        let (now, channel) = (now(), Self.pushChannel(schema))
        return try await transaction { db in
            let outcome = try await Self.store(changes, from: node, for: user, known: known, chain: chain, at: now, announcingOn: channel, db)
            FaultPoint.serverPushBeforeCommit.reach()
            return outcome
        }
    }

    public func pushAsServer(_ changes: [Change], from node: NodeID, for user: UserID) async throws -> PushOutcome {
        let (now, channel) = (now(), Self.pushChannel(schema))
        return try await transaction { db in
            try await Self.store(changes, from: node, for: user, known: .nothing, chain: nil, byDevice: false, at: now, announcingOn: channel, db)
        }
    }

    private static func store(
        _ changes: [Change], from node: NodeID, for user: UserID, known: KnownHistory, chain: PushChain?,
        byDevice: Bool = true, at now: String, announcingOn channel: String, _ db: Statements
    ) async throws -> PushOutcome {
        // First the user's row, locked until commit: see the type's comment.
        var state = try await userState(user, locking: true, device: node, known: known, db)
        if state.lostHistory { state = try await startLineage(of: user, device: node, db) }
        var seq = state.lastSequence
        let (epoch, recorded) = (state.epoch, state.recordedPush)
        guard !known.isAnotherDevice(recordedPush: recorded, currentEpoch: epoch, pushing: chain, isPush: true) else {
            throw PushRefusal.nodeInUse(node)
        }
        var outcome = PushOutcome()
        var batch = try await FieldVersionBatch.load(changes.map(\.key), of: user, db)
        for change in changes {
            guard outcome.count(try batch.merge(change, from: node, seq: seq + 1)) else { continue }
            seq += 1
        }
        try await batch.save(for: user, db)
        if outcome.accepted > 0 {
            let token = HistoryCheckpoint.randomToken()
            try await commitHistory(of: user, through: seq, token: token, db)
            // Delivered at commit to every server listening (`observePushes`).
            try await db.run("SELECT pg_notify(\(channel), \("\(user.rawValue) \(node.rawValue)"))")
            outcome.checkpoint = HistoryCheckpoint(seq: seq, token: token)
        }
        outcome.epoch = epoch
        guard byDevice else { return outcome }
        let pushToken = chain?.token ?? recorded
        try await db.run(
            """
            INSERT INTO devices (user_id, node, first_seen, last_seen, push_token) VALUES (\(user.rawValue), \(node.rawValue), \(now), \(now), \(pushToken))
            ON CONFLICT (user_id, node) DO UPDATE SET last_seen = excluded.last_seen, push_token = excluded.push_token
            """)
        outcome.pushToken = pushToken
        return outcome
    }

    /// What a request needs to know first, read in one statement: the last
    /// sequence number given out to the user, the user's epoch, what the
    /// store recorded of the asking `device`, and whether the store lost the
    /// history the device has seen (`known`). With `locking`, the user's row
    /// stays locked until commit.
    private struct UserState {
        var lastSequence: Int64 = 0
        var epoch = ""
        /// The token of the device's last push (`PushChain`), and whether it is retired.
        var recordedPush: String?
        var retired = false
        /// Whether the device's checkpoint names history this store has not got (`KnownHistory.isLost`).
        var lostHistory = false
    }

    private static func userState(
        _ user: UserID, locking: Bool, device: NodeID? = nil, known: KnownHistory = .nothing,
        _ db: Statements
    ) async throws -> UserState {
        let select: PostgresQuery = """
            SELECT users.last_seq, users.lineage, meta.value, devices.push_token, devices.retired_at IS NOT NULL,
                (SELECT token FROM history WHERE history.user_id = users.id AND history.last_seq >= \(known.checkpoint?.seq)::bigint
                 ORDER BY history.last_seq LIMIT 1)
            FROM users JOIN meta ON meta.key = 'epoch'
                LEFT JOIN devices ON devices.user_id = users.id AND devices.node = \(device?.rawValue)::text
            WHERE users.id = \(user.rawValue)
            """
        // NO KEY UPDATE: it excludes another holder as FOR UPDATE does, but
        // not the key-share lock that inserting a row referencing the user takes.
        let rows = try await db.rows(locking ? PostgresQuery(unsafeSQL: select.sql + " FOR NO KEY UPDATE OF users", binds: select.binds) : select)
        guard let (lastSequence, lineage, epoch, recordedPush, retired, token) = try rows.first?.decode((Int64, String, String, String?, Bool?, String?).self)
        else {
            return UserState()
        }
        var state = UserState(
            lastSequence: lastSequence, epoch: UserEpoch.of(databaseEpoch: epoch, lineage: lineage), recordedPush: recordedPush,
            retired: retired ?? false)
        state.lostHistory = known.isLost(currentEpoch: state.epoch) { _ in token }
        return state
    }

    /// Records a commit that gave out sequence numbers through `seq`.
    private static func commitHistory(of user: UserID, through seq: Int64, token: String, _ db: Statements) async throws {
        try await db.run(
            """
            WITH moved AS (UPDATE users SET last_seq = \(seq) WHERE id = \(user.rawValue))
            INSERT INTO history (user_id, last_seq, token) VALUES (\(user.rawValue), \(seq), \(token))
            """)
    }

    /// The stored versions of some of a user's fields, read in one
    /// statement, merged into in memory (`ServerMerge`), and written back in
    /// two: a push of thousands of changes is a handful of round trips.
    private struct FieldVersionBatch {
        var versions: [RegisterKey: [(seq: Int64, register: Register)]] = [:]
        var deleted: [Int64] = []
        var inserted: [Int64: (key: RegisterKey, origin: NodeID, register: Register)] = [:]

        /// Reads the clocks of `keys`' versions (deciding needs no values).
        static func load(_ keys: [RegisterKey], of user: UserID, _ db: Statements) async throws -> FieldVersionBatch {
            var batch = FieldVersionBatch()
            guard !keys.isEmpty else { return batch }
            let rows = try await db.rows(
                """
                SELECT seq, kind, entity, field, timestamp, vector FROM field_versions
                WHERE user_id = \(user.rawValue) AND (kind, entity, field) IN
                    (SELECT * FROM unnest(\(keys.map(\.kind.rawValue))::text[], \(keys.map(\.entity))::text[], \(keys.map(\.field))::text[]))
                ORDER BY seq
                """)
            for row in rows {
                let (seq, kind, entity, field, timestamp, vector) = try row.decode((Int64, String, String, String, String, String).self)
                let register = Register(value: .null, timestamp: try PostgresSyncStore.timestamp(timestamp), vector: try WireCoding.vector(fromText: vector))
                batch.versions[RegisterKey(kind: try PostgresSyncStore.kind(kind), entity: entity, field: field), default: []].append((seq, register))
            }
            return batch
        }

        /// Merges one change, numbering it `seq` when it is new.
        mutating func merge(_ change: Change, from node: NodeID, seq: Int64) throws -> ServerMerge.Outcome {
            let stored = versions[change.key] ?? []
            guard let superseded = try ServerMerge.accept(change, over: stored.map(\.register)) else { return .absorbed }
            let gone = Set(superseded.map { stored[$0].seq })
            for old in gone where inserted.removeValue(forKey: old) == nil { deleted.append(old) }
            versions[change.key] = stored.filter { !gone.contains($0.seq) } + [(seq, change.register)]
            inserted[seq] = (change.key, node, change.register)
            return ServerMerge.outcome(superseded: superseded, of: stored.count)
        }

        func save(for user: UserID, _ db: Statements) async throws {
            if !deleted.isEmpty {
                try await db.run("DELETE FROM field_versions WHERE user_id = \(user.rawValue) AND seq = ANY(\(deleted)::bigint[])")
            }
            guard !inserted.isEmpty else { return }
            let rows = inserted.sorted { $0.key < $1.key }
            try await db.run(
                """
                INSERT INTO field_versions (user_id, seq, origin, kind, entity, field, value, timestamp, vector)
                SELECT \(user.rawValue), * FROM unnest(\(rows.map(\.key))::bigint[], \(rows.map(\.value.origin.rawValue))::text[],
                    \(rows.map(\.value.key.kind.rawValue))::text[], \(rows.map(\.value.key.entity))::text[], \(rows.map(\.value.key.field))::text[],
                    \(try rows.map { try WireCoding.text($0.value.register.value) })::text[], \(rows.map(\.value.register.timestamp.encoded))::text[],
                    \(try rows.map { try WireCoding.text($0.value.register.vector) })::text[])
                """)
        }
    }

    // MARK: History (see `KnownHistory`)

    /// The token of the commit that gave out `seq`.
    private static func token(of user: UserID, at seq: Int64, _ db: Statements) async throws -> String? {
        try await db.rows(
            """
            SELECT token FROM history WHERE user_id = \(user.rawValue) AND last_seq >= \(seq) ORDER BY last_seq LIMIT 1
            """
        ).first?.decode(String.self)
    }

    /// Starts a new lineage for the user (the user's row locked); returns the state after it.
    private static func startLineage(of user: UserID, device: NodeID?, _ db: Statements) async throws -> UserState {
        try await db.run("UPDATE users SET lineage = \(HistoryCheckpoint.randomToken()) WHERE id = \(user.rawValue)")
        // The push chains recorded may be older than the devices' own.
        try await db.run("UPDATE devices SET push_token = NULL WHERE user_id = \(user.rawValue)")
        return try await userState(user, locking: true, device: device, db)
    }

    // MARK: Pulling

    public func changes(for user: UserID, after cursor: Int64, limit: Int, excludingOrigin origin: NodeID?, known: KnownHistory) async throws -> ChangePage {
        // One snapshot for the whole page: the rows, `latest` and the checkpoint agree.
        if let page = try await transaction(
            .snapshot,
            { db in
                try await Self.page(for: user, after: cursor, limit: limit, excludingOrigin: origin, known: known, db)
            })
        {
            return page
        }
        // The store lost history this device has seen: a new lineage, then the page.
        try await transaction { db in
            if try await Self.userState(user, locking: true, known: known, db).lostHistory { _ = try await Self.startLineage(of: user, device: nil, db) }
        }
        return try await transaction(.snapshot) { db in
            guard let page = try await Self.page(for: user, after: cursor, limit: limit, excludingOrigin: origin, known: known, db) else {
                // The database itself was replaced meanwhile: the device asks again.
                throw DatabaseFailure(reason: "the user's history changed while it was read; try again")
            }
            return page
        }
    }

    /// A page of the feed; nil when the store lost history the device has
    /// seen (a new lineage must be started first).
    private static func page(
        for user: UserID, after cursor: Int64, limit: Int, excludingOrigin origin: NodeID?, known: KnownHistory,
        _ db: Statements
    ) async throws -> ChangePage? {
        let state = try await userState(user, locking: false, device: origin, known: known, db)
        guard !state.lostHistory else { return nil }
        let (latest, epoch) = (state.lastSequence, state.epoch)
        if let origin, known.isAnotherDevice(recordedPush: state.recordedPush, currentEpoch: epoch, isPush: false) {
            throw PushRefusal.nodeInUse(origin)
        }
        // One more than asked tells whether another page follows. Read as
        // streamed: a page full of text stops reading, rather than holding
        // up to thousands of 4 MiB versions in memory first.
        let rows = try await db.stream(
            """
            SELECT seq, kind, entity, field, value, timestamp, vector FROM field_versions
            WHERE user_id = \(user.rawValue) AND seq > \(cursor) AND origin IS DISTINCT FROM \(origin?.rawValue) ORDER BY seq LIMIT \(limit + 1)
            """)
        var page = PageFiller(limit: limit)
        var last: Int64 = cursor
        var more = false
        for try await row in rows {
            let (seq, key, register) = try version(row)
            guard page.add(Change(key: key, register: register)) else {
                more = true
                break
            }
            last = seq
        }
        let changes = page.changes
        // Without more rows, everything up to `latest` has been looked at
        // (the rest, if any, were the asker's own changes).
        let next = more ? last : max(cursor, latest)
        let checkpoint = next > 0 ? try await token(of: user, at: next, db).flatMap { HistoryCheckpoint(seq: next, token: $0) } : nil
        return ChangePage(changes: changes, next: next, more: more, latest: latest, epoch: epoch, checkpoint: checkpoint, retired: state.retired)
    }

    /// A row of `seq, kind, entity, field, value, timestamp, vector`.
    private static func version(_ row: PostgresRow) throws -> (seq: Int64, key: RegisterKey, register: Register) {
        let (seq, kind, entity, field, value, timestamp, vector) = try row.decode((Int64, String, String, String, String, String, String).self)
        return (
            seq, RegisterKey(kind: try PostgresSyncStore.kind(kind), entity: entity, field: field),
            Register(value: try WireCoding.value(fromText: value), timestamp: try Self.timestamp(timestamp), vector: try WireCoding.vector(fromText: vector))
        )
    }

    private static func kind(_ text: String) throws -> EntityKind {
        guard let kind = EntityKind(rawValue: text) else { throw CorruptDatabase(reason: "invalid stored entity kind '\(text)'") }
        return kind
    }

    private static func timestamp(_ text: String) throws -> HLCTimestamp {
        guard let timestamp = HLCTimestamp(encoded: text) else { throw CorruptDatabase(reason: "invalid stored timestamp '\(text)'") }
        return timestamp
    }

    struct CorruptDatabase: Error, CustomStringConvertible {
        let reason: String
        var description: String { "the database holds something readsync did not write: \(reason)" }
    }

    // MARK: Verifying

    public func state(for user: UserID, bodies: Bool) async throws -> (registers: [RegisterKey: Register], latest: Int64) {
        try await transaction(.snapshot) { db in
            let versions = try await Self.storedVersions(of: user, bodies: bodies, db)
            let latest = try await Self.userState(user, locking: false, db).lastSequence
            return (versions.compactMapValues(ServerMerge.state), latest)
        }
    }

    public func versions(of entities: [EntitiesRequest.Address], for user: UserID) async throws -> [Change] {
        try await transaction(.snapshot) { db in
            var changes: [Change] = []
            for address in entities {
                for row in try await db.rows(
                    """
                    SELECT seq, kind, entity, field, value, timestamp, vector FROM field_versions
                    WHERE user_id = \(user.rawValue) AND kind = \(address.kind.rawValue) AND entity = \(address.entity) ORDER BY seq
                    """)
                {
                    let (_, key, register) = try Self.version(row)
                    changes.append(Change(key: key, register: register))
                }
            }
            return changes
        }
    }

    private static func storedVersions(of user: UserID, bodies: Bool = true, _ db: Statements) async throws -> [RegisterKey: [Register]] {
        var versions: [RegisterKey: [Register]] = [:]
        for row in try await db.rows(
            """
            SELECT seq, kind, entity, field, value, timestamp, vector FROM field_versions WHERE user_id = \(user.rawValue)
            AND (\(bodies) OR NOT (kind = 'article' AND field = 'content')) ORDER BY seq
            """)
        {
            let (_, key, register) = try version(row)
            versions[key, default: []].append(register)
        }
        return versions
    }

    // MARK: Stepped, for the simulation

    public func pushNow(_ changes: [Change], from node: NodeID, for user: UserID, known: KnownHistory, chain: PushChain?) throws -> PushOutcome {
        try BlockingWait.run { try await self.push(changes, from: node, for: user, known: known, chain: chain) }
    }

    public func changesNow(for user: UserID, after cursor: Int64, limit: Int, excludingOrigin origin: NodeID?, known: KnownHistory) throws -> ChangePage {
        try BlockingWait.run { try await self.changes(for: user, after: cursor, limit: limit, excludingOrigin: origin, known: known) }
    }

    public func storedVersions(for user: UserID) throws -> [RegisterKey: [Register]] {
        try BlockingWait.run { try await self.transaction { db in try await Self.storedVersions(of: user, db) } }
    }

    public func addUserNow(name: String, tokenHash: String) throws -> UserID {
        try addUser(name: name, tokenHash: tokenHash)
        return try BlockingWait.run {
            UserID(try await self.client.query("SELECT id FROM users WHERE name = \(name)", logger: self.logger).collect().first!.decode(Int64.self))
        }
    }

    /// Copies every table beside itself (`copy<N>_<table>`), in one snapshot.
    public func copy() throws -> StoreCopy {
        let prefix = "copy\(copies.add(1, ordering: .relaxed).newValue)_"
        try BlockingWait.run {
            try await self.transaction(.snapshotCopy) { db in
                for table in PostgresSchema.tables {
                    try await db.run(PostgresQuery(unsafeSQL: "CREATE TABLE \(prefix)\(table) AS TABLE \(table)"))
                }
            }
        }
        return StoreCopy(contents: prefix)
    }

    public func restore(_ copy: StoreCopy) throws {
        let prefix = copy.contents as! String
        try BlockingWait.run {
            try await self.transaction { db in
                // The devices first: a sighting being written holds them, then waits for the users.
                try await db.run("LOCK TABLE devices IN ACCESS EXCLUSIVE MODE")
                try await db.run(PostgresQuery(unsafeSQL: "TRUNCATE \(PostgresSchema.tables.joined(separator: ", "))"))
                for table in PostgresSchema.tables {
                    try await db.run(PostgresQuery(unsafeSQL: "INSERT INTO \(table) SELECT * FROM \(prefix)\(table)"))
                }
                try await db.run("SELECT setval(pg_get_serial_sequence('users', 'id'), GREATEST((SELECT max(id) FROM users), 1))")
            }
        }
    }

    // MARK: Users

    public func addUser(name: String, tokenHash: String) throws {
        let now = Date().formatted(.iso8601)
        let added = try BlockingWait.run {
            try await self.transaction { db in
                try await db.rows(
                    """
                    INSERT INTO users (name, token_hash, created_at) VALUES (\(name), \(tokenHash), \(now)) ON CONFLICT (name) DO NOTHING RETURNING id
                    """
                ).count
            }
        }
        guard added == 1 else { throw UserError.exists(name) }
    }

    public func replaceToken(name: String, tokenHash: String) throws {
        try updateUser(name, "UPDATE users SET token_hash = \(tokenHash) WHERE name = \(name) RETURNING id")
    }

    public func revoke(name: String) throws {
        try updateUser(name, "UPDATE users SET token_hash = NULL WHERE name = \(name) RETURNING id")
    }

    public func setWallabagCredentials(name: String, _ credentials: WallabagCredentialHashes?) throws {
        try updateUser(
            name,
            """
            UPDATE users SET wallabag_client_id = \(credentials?.clientID), wallabag_secret_hash = \(credentials?.secretHash),
                             wallabag_password_hash = \(credentials?.passwordHash)
            WHERE name = \(name) RETURNING id
            """)
    }

    public func setWebPassword(name: String, hash: String?) throws {
        try updateUser(name, "UPDATE users SET web_password_hash = \(hash) WHERE name = \(name) RETURNING id")
    }

    public func webPassword(ofUserNamed name: String) async throws -> (user: UserID, hash: String)? {
        try await onOwnExecutor {
            try await self.client.query(
                """
                SELECT id, web_password_hash FROM users WHERE name = \(name) AND token_hash IS NOT NULL AND web_password_hash IS NOT NULL
                """, logger: self.logger
            ).collect().first.map { row in
                let (id, hash) = try row.decode((Int64, String).self)
                return (UserID(id), hash)
            }
        }
    }

    public func wallabagAccount(clientID: String) async throws -> WallabagAccount? {
        try await onOwnExecutor {
            let rows = try await self.client.query(
                """
                SELECT id, name, wallabag_secret_hash, wallabag_password_hash FROM users
                WHERE wallabag_client_id = \(clientID) AND token_hash IS NOT NULL
                """, logger: self.logger
            ).collect()
            return try rows.first.map { row in
                let (id, name, secretHash, passwordHash) = try row.decode((Int64, String, String, String).self)
                return WallabagAccount(
                    user: UserID(id), name: name,
                    credentials: WallabagCredentialHashes(clientID: clientID, secretHash: secretHash, passwordHash: passwordHash))
            }
        }
    }

    private func updateUser(_ name: String, _ update: PostgresQuery) throws {
        let updated = try BlockingWait.run { try await self.transaction { db in try await db.rows(update).count } }
        guard updated == 1 else { throw UserError.unknown(name) }
    }

    public func users() throws -> [UserSummary] {
        try BlockingWait.run {
            try await self.transaction { db in
                try await db.rows("SELECT name, created_at, token_hash IS NOT NULL, last_seq FROM users ORDER BY name").map { row in
                    let (name, createdAt, active, changes) = try row.decode((String, String, Bool, Int64).self)
                    return UserSummary(name: name, createdAt: createdAt, active: active, changes: changes)
                }
            }
        }
    }

    // MARK: Devices

    /// As `SQLiteSyncStore.recordSighting`: kept in memory and written soon
    /// after by one writer task at a time, which takes every sighting waiting
    /// and loops until none is left.
    public func recordSighting(of node: NodeID, for user: UserID, name: String?, pulled: Int64) {
        let at = now()
        sightings.withLock { state in
            let earlier = state.seen[DeviceKey(user: user, node: node)]
            state.seen[DeviceKey(user: user, node: node)] = Sighting(name: name ?? earlier?.name, pulled: max(pulled, earlier?.pulled ?? 0), at: at)
            if state.writer == nil { state.writer = startWriter() }
        }
    }

    /// The writer: returns the error that stopped it, its sightings kept for the next one.
    private func startWriter() -> Task<(any Error)?, Never> {
        Task(executorPreference: BlockingWait.executor) {
            while true {
                let seen = self.sightings.withLock { state in
                    defer { state.seen = [:] }
                    if state.seen.isEmpty { state.writer = nil }
                    return state.seen
                }
                if seen.isEmpty { return nil }
                do {
                    try await self.write(seen)
                } catch {
                    // Kept for the next writer rather than lost (newer sightings win).
                    self.sightings.withLock { state in
                        state.seen.merge(seen) { newer, _ in newer }
                        state.writer = nil
                    }
                    self.logger.warning("could not record devices seen", metadata: ["rs.error": "\(Self.reason(error))"])
                    return error
                }
            }
        }
    }

    /// Writes every sighting recorded so far (before a collection round, a
    /// device list, closing).
    private func flushSightings() async throws {
        while let writer = sightings.withLock({ state in
            state.writer
                ?? (state.seen.isEmpty
                    ? nil
                    : {
                        state.writer = startWriter()
                        return state.writer
                    }())
        }) {
            if let error = await writer.value { throw error }
        }
    }

    /// Each device's sighting is a statement of its own: it never holds one
    /// device's row while waiting for another (a push holds its user's row
    /// and then its device's), so it cannot deadlock with pushes or collection rounds.
    private func write(_ seen: [DeviceKey: Sighting]) async throws {
        for (key, sighting) in seen.sorted(by: { $0.key < $1.key }) {
            do {
                _ = try await client.query(
                    """
                    INSERT INTO devices (user_id, node, name, first_seen, last_seen, pulled)
                    VALUES (\(key.user.rawValue), \(key.node.rawValue), \(sighting.name ?? ""), \(sighting.at), \(sighting.at), \(sighting.pulled))
                    ON CONFLICT (user_id, node) DO UPDATE SET last_seen = GREATEST(devices.last_seen, excluded.last_seen),
                        pulled = GREATEST(devices.pulled, excluded.pulled),
                        name = CASE WHEN excluded.name = '' THEN devices.name ELSE excluded.name END, retired_at = NULL
                    """, logger: logger
                ).collect()
            } catch let error as PSQLError {
                throw DatabaseFailure(reason: Self.reason(error), sqlState: error.serverInfo?[.sqlState])
            }
        }
    }

    public func devices(ofUserNamed name: String) throws -> [DeviceSummary] {
        try BlockingWait.run {
            try await self.flushSightings()
            return try await self.transaction(.snapshot) { db in
                guard let user = try await db.rows("SELECT id, last_seq FROM users WHERE name = \(name)").first?.decode((Int64, Int64).self) else {
                    throw UserError.unknown(name)
                }
                return try await db.rows(
                    """
                    SELECT node, name, first_seen, last_seen, pulled, retired_at FROM devices WHERE user_id = \(user.0) ORDER BY last_seen DESC, node DESC
                    """
                ).map { row in
                    let (node, deviceName, firstSeen, lastSeen, pulled, retiredAt) = try row.decode((String, String, String, String, Int64, String?).self)
                    return DeviceSummary(
                        node: node, name: deviceName, firstSeen: firstSeen, lastSeen: lastSeen, pulled: pulled, latest: user.1,
                        retiredAt: retiredAt)
                }
            }
        }
    }

    public func forgetDevice(_ node: String, ofUserNamed name: String) throws -> Bool {
        try BlockingWait.run {
            try await self.transaction { db in
                guard let user = try await db.rows("SELECT id FROM users WHERE name = \(name)").first?.decode(Int64.self) else {
                    throw UserError.unknown(name)
                }
                return try await !db.rows("DELETE FROM devices WHERE user_id = \(user) AND node = \(node) RETURNING 1").isEmpty
            }
        }
    }

    private func now() -> String { clock().formatted(.iso8601) }

    // MARK: Collecting (see `Tombstone`)

    public func collectGarbage(now: Date, policy: CollectionPolicy) throws -> CollectionReport {
        try BlockingWait.run {
            // The devices' latest pulls first: they set the horizon.
            try await self.flushSightings()
            var report = CollectionReport()
            let users = try await self.client.query("SELECT id FROM users ORDER BY id", logger: self.logger).collect().map { try $0.decode(Int64.self) }
            for user in users {
                let part = try await self.transaction { db in try await Self.collect(UserID(user), now: now, policy: policy, db) }
                report.retiredDevices += part.retiredDevices
                report.articles += part.articles
                report.fields += part.fields
            }
            return report
        }
    }

    /// One user's round, in one transaction (as `SQLiteSyncStore.collect`).
    private static func collect(_ user: UserID, now: Date, policy: CollectionPolicy, _ db: Statements) async throws -> CollectionReport {
        var report = CollectionReport()
        // The user's row first: the purges take sequence numbers.
        let state = try await userState(user, locking: true, db)
        let (first, epoch) = (state.lastSequence, state.epoch)
        var seq = first
        report.retiredDevices = try await db.rows(
            """
            UPDATE devices SET retired_at = \(now.formatted(.iso8601))
            WHERE user_id = \(user.rawValue) AND retired_at IS NULL AND last_seen < \(now.addingTimeInterval(-policy.retireAfter).formatted(.iso8601))
            RETURNING 1
            """
        ).count
        // The horizon: the least cursor a device not retired last asked
        // from. No device known at all (nothing ever pushed): nothing to collect.
        let (devices, least) = try await db.rows(
            """
            SELECT count(*), min(pulled) FILTER (WHERE retired_at IS NULL) FROM devices WHERE user_id = \(user.rawValue)
            """
        ).first!.decode((Int64, Int64?).self)
        guard devices > 0 else { return report }
        let horizon = least ?? seq

        // The deleted articles.
        var deletes: [String: [Register]] = [:]
        for row in try await db.rows(
            """
            SELECT seq, kind, entity, field, value, timestamp, vector FROM field_versions
            WHERE user_id = \(user.rawValue) AND kind = 'article' AND field = 'deleted'
            """)
        {
            let (_, key, register) = try version(row)
            deletes[key.entity, default: []].append(register)
        }
        let candidates = deletes.filter { ServerMerge.state(of: $0.value)?.value == .bool(true) }.keys.sorted()
        guard !candidates.isEmpty else { return report }
        var notes: [String: Set<String>] = [:]
        for row in try await db.rows(
            """
            SELECT entity, value FROM field_versions WHERE user_id = \(user.rawValue) AND kind = 'note' AND field = 'article_id'
            """)
        {
            let (note, value) = try row.decode((String, String).self)
            if let article = try WireCoding.value(fromText: value).text { notes[article, default: []].insert(note) }
        }
        let collector = NodeID("gc-" + epoch)!
        let (nowText, trashCutoff) = (now.formatted(.iso8601), now.addingTimeInterval(-policy.keepTrash).formatted(.iso8601))
        for article in candidates {
            // Every version of the family: the article, its read state, its
            // tags (`<article>/<name>`) and its notes.
            let familyNotes = Array(notes[article] ?? [])
            let rows = try await db.rows(
                """
                SELECT seq, kind, entity, field, value, timestamp, vector FROM field_versions WHERE user_id = \(user.rawValue) AND (
                    (kind IN ('article', 'read_state') AND entity = \(article))
                    OR (kind = 'tag' AND entity > \(article + "/") AND entity < \(article + "0"))
                    OR (kind = 'note' AND entity = ANY(\(familyNotes)::text[])))
                ORDER BY seq
                """)
            // The fields to purge: those the tombstone does not keep that still
            // hold a value in any version (a concurrent edit that lost to an
            // earlier purge included).
            var purgeable: [RegisterKey: [Register]] = [:]
            var latest: Int64 = 0
            for row in rows {
                let (seq, key, register) = try version(row)
                latest = max(latest, seq)
                guard Tombstone.isPurged(kind: key.kind, field: key.field) else { continue }
                purgeable[key, default: []].append(register)
            }
            purgeable = purgeable.filter { $0.value.contains { $0.value != .null } }
            guard !purgeable.isEmpty else { continue }
            // The trash clock: the server's time since the family last
            // changed, whatever the devices' clocks said.
            let trash = try await db.rows("SELECT since, through FROM trash WHERE user_id = \(user.rawValue) AND article = \(article)")
                .first?.decode((String, Int64).self)
            var since = trash?.0 ?? nowText
            if latest > trash?.1 ?? 0 {
                since = nowText
                try await db.run(
                    """
                    INSERT INTO trash (user_id, article, since, through) VALUES (\(user.rawValue), \(article), \(since), \(latest))
                    ON CONFLICT (user_id, article) DO UPDATE SET since = excluded.since, through = excluded.through
                    """)
            }
            // In the trash long enough, and everything written to it has
            // reached every device that holds the horizon.
            guard since <= trashCutoff, latest <= horizon else { continue }
            var batch = try await FieldVersionBatch.load(Array(purgeable.keys), of: user, db)
            for (key, versions) in purgeable.sorted(by: { $0.key.description < $1.key.description }) {
                seq += 1
                guard try batch.merge(Change(key: key, register: Tombstone.purge(over: versions, by: collector)), from: collector, seq: seq) != .absorbed else {
                    throw CorruptDatabase(reason: "a collection's version was not taken")
                }
            }
            try await batch.save(for: user, db)
            // The purges themselves do not restart the clock.
            try await db.run("UPDATE trash SET through = \(seq) WHERE user_id = \(user.rawValue) AND article = \(article)")
            report.articles += 1
            report.fields += purgeable.count
        }
        if seq > first {
            try await commitHistory(of: user, through: seq, token: HistoryCheckpoint.randomToken(), db)
        }
        return report
    }
}

/// A database that cannot be reached or refused readsync, named without
/// its password.
public struct DatabaseUnavailable: Error, CustomStringConvertible {
    public let database: String
    public let reason: String

    public var description: String { "cannot use the database \(database): \(reason)" }
}
