import FaultPoints
import Foundation
import GRDB
import PrivateStorage
import ReadSyncCore
import SQLiteStatements
import Synchronization

/// The embedded SQLite store (WAL), one file in the data directory.
public final class SQLiteSyncStore: SteppedSyncStore {
    // DatabasePool is Sendable and serialises writes itself.
    let database: DatabasePool
    public let epoch: String
    /// The data folder and files that other local accounts could read when
    /// the store was opened, now tightened (`ServerDatabase.open` logs them).
    public let permissionChanges: [PermissionChange]
    /// The data folder's files that hold users' data. (`serve.lock` holds
    /// only a process id; `DataFolderLock` makes it 0600 itself.)
    static let privateFiles = ["server.sqlite", "server.sqlite-wal", "server.sqlite-shm"]
    /// The time devices are seen at (a simulation's, in tests).
    private let clock: @Sendable () -> Date
    /// Copies the WAL into the database file beside the writer, not inside
    /// its commits: the push that grew it is answered first, and the next
    /// one is merged while the copy runs.
    let checkpointer: LogCheckpointer
    /// The page size of a new database, in bytes (SQLite's default is
    /// 4,096). Most of what the store writes is appended: a push's versions
    /// at the end of `field_versions` and its indexes, article bodies of a
    /// few KB among them, which on 4 KB pages each spilled into an overflow
    /// page. On 32 KB pages the server's CPU was lower in every measured
    /// pair: in a library's first push by 3–16 % (medians 2.14 → 2.01 s),
    /// in a fresh device's pull by about 15 %; the file was no larger, and
    /// an incremental round cost the same (BENCHMARKS, twentieth pass). An
    /// existing database keeps its size (`NewDatabaseFile`).
    static let pageSize = 32_768
    /// Whether `close` ran.
    private let closed = Mutex(false)
    /// Pushes waiting for the writer (see `push`).
    private let waitingPushes = Mutex<[WaitingPush]>([])
    /// Devices seen pulling and not yet written (see `recordSighting`), and
    /// whether a write of them is already asked for.
    private let sightings = Mutex<(seen: [DeviceKey: Sighting], writeAsked: Bool)>(([:], false))

    private struct DeviceKey: Hashable {
        let user: UserID
        let node: NodeID
    }

    private struct Sighting {
        let name: String?
        let pulled: Int64
        let at: String
    }

    private struct WaitingPush: Sendable {
        let changes: [Change]
        let node: NodeID
        let user: UserID
        let known: KnownHistory
        let chain: PushChain?
        /// False for the server's own writes (`pushAsServer`).
        let byDevice: Bool
        let answer: CheckedContinuation<PushOutcome, any Error>
    }

    /// Opens (creating and migrating if needed) `directory/server.sqlite`.
    /// `clock` tells when devices are seen. `willUpgrade` is told the
    /// migrations an existing database is about to go through, before they
    /// run: one that rewrites every stored version (`v9-entities`) takes
    /// seconds for a large library, with the server not yet answering.
    public init(
        directory: URL, clock: @escaping @Sendable () -> Date = Date.init, willUpgrade: ([String]) -> Void = { _ in }
    ) throws {
        self.clock = clock
        // The folder 0700 and the database 0600 before SQLite opens it (it
        // would make it 0644 under the usual umask; its -wal and -shm take
        // the main file's permissions): see `PrivateFiles`.
        permissionChanges = try PrivateFiles.prepare(folder: directory, files: Self.privateFiles)
        let path = directory.appendingPathComponent("server.sqlite").path
        try PrivateFiles.makeFile(path)
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        try NewDatabaseFile.settle(path, pragmas: "PRAGMA page_size = \(Self.pageSize)", configuration: configuration)
        database = try DatabasePool(path: path, configuration: configuration)
        // GRDB sets `synchronous = NORMAL` on a WAL pool (after any
        // `prepareDatabase`), under which a power cut may undo the last
        // commits. An acknowledged push has left its client's outbox, so it
        // must be on disk first: FULL syncs the WAL at every commit. Only the
        // writer connection commits, and a pool keeps it for its lifetime.
        try database.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        // Pushes committed together each have a savepoint (see `push`): keep
        // the copies of the pages they change in memory, not in a temporary file.
        try database.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA temp_store = MEMORY") }
        let migrator = ServerSchema.migrator
        let applied = try database.read { db in try migrator.appliedIdentifiers(db) }
        // A new database (nothing applied yet) is created, not upgraded.
        if !applied.isEmpty, case let pending = migrator.migrations.filter({ !applied.contains($0) }), !pending.isEmpty {
            willUpgrade(pending)
        }
        try migrator.migrate(database)
        epoch = try database.write { db in
            if let epoch = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'epoch'") { return epoch }
            let epoch = NodeID.random().rawValue
            try db.execute(sql: "INSERT INTO meta (key, value) VALUES ('epoch', ?)", arguments: [epoch])
            return epoch
        }
        // Last, once nothing else can fail: a store that failed to open is
        // not kept by a checkpointer no one closes.
        checkpointer = try LogCheckpointer(database)
    }

    /// `PRAGMA synchronous` of the connection that commits pushes (2 is FULL).
    var writerSynchronousSetting: Int {
        get throws { try database.write { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1 } }
    }

    /// Checkpoints the WAL into the main file, then closes every connection.
    /// Closing again does nothing (a closed pool's connections are gone:
    /// using one crashed the process).
    public func close() throws {
        let alreadyClosed = closed.withLock { closed in
            defer { closed = true }
            return closed
        }
        guard !alreadyClosed else { return }
        checkpointer.close(detachingFrom: database)
        try database.writeWithoutTransaction { db in
            try writeSightings(db)
            _ = try db.checkpoint(.truncate)
        }
        try database.close()
    }

    public func user(forTokenHash hash: String) async throws -> UserID? {
        try await database.read { db in
            try Int64.fetchOne(db.cachedStatement(sql: "SELECT id FROM users WHERE token_hash = ?"), arguments: [hash]).map(UserID.init)
        }
    }

    public func user(named name: String, secretHash hash: String) async throws -> UserID? {
        try await database.read { db in
            try Int64.fetchOne(
                db.cachedStatement(
                    sql: """
                        SELECT id FROM users WHERE name = ? AND token_hash IS NOT NULL AND (token_hash = ? OR wallabag_password_hash = ?)
                        """), arguments: [name, hash, hash]
            ).map(UserID.init)
        }
    }

    /// Commits pushes in groups: each push waits in `waitingPushes` and asks
    /// the writer for a turn, and the first turn to come takes every push
    /// waiting by then into one transaction, so concurrent pushes share one
    /// commit and its WAL sync (`synchronous = FULL`) instead of queueing for
    /// one sync each. Each push is its own savepoint: one that is refused
    /// leaves nothing and fails alone. No push is answered before its commit.
    public func push(_ changes: [Change], from node: NodeID, for user: UserID, known: KnownHistory, chain: PushChain?) async throws -> PushOutcome {
        try await withCheckedThrowingContinuation { answer in
            waitingPushes.withLock {
                $0.append(WaitingPush(changes: changes, node: node, user: user, known: known, chain: chain, byDevice: true, answer: answer))
            }
            database.asyncWriteWithoutTransaction { db in self.commitWaitingPushes(db) }
        }
    }

    public func pushAsServer(_ changes: [Change], from node: NodeID, for user: UserID) async throws -> PushOutcome {
        try await withCheckedThrowingContinuation { answer in
            waitingPushes.withLock {
                $0.append(WaitingPush(changes: changes, node: node, user: user, known: .nothing, chain: nil, byDevice: false, answer: answer))
            }
            database.asyncWriteWithoutTransaction { db in self.commitWaitingPushes(db) }
        }
    }

    /// How many pushes wait for the writer (for tests).
    var waitingPushCount: Int { waitingPushes.withLock { $0.count } }

    private func commitWaitingPushes(_ db: Database) {
        let group = waitingPushes.withLock { waiting in
            defer { waiting.removeAll() }
            return waiting
        }
        // An earlier turn took them all.
        guard !group.isEmpty else { return }
        var outcomes: [Result<PushOutcome, any Error>] = []
        do {
            try db.inTransaction {
                if let push = group.first, group.count == 1 {
                    // Alone (a device's full sync): no savepoint, whose
                    // sub-journal would copy every page the push changes
                    // first; a refused push rolls the transaction back.
                    outcomes = [
                        .success(
                            try Self.store(
                                push.changes, from: push.node, for: push.user, known: push.known, chain: push.chain,
                                byDevice: push.byDevice, at: now(), db))
                    ]
                } else {
                    outcomes = group.map { push in
                        Result {
                            var outcome = PushOutcome()
                            try db.inSavepoint {
                                outcome = try Self.store(
                                    push.changes, from: push.node, for: push.user, known: push.known, chain: push.chain,
                                    byDevice: push.byDevice, at: now(), db)
                                return .commit
                            }
                            return outcome
                        }
                    }
                }
                FaultPoint.serverPushBeforeCommit.reach()
                return .commit
            }
        } catch {
            outcomes = group.map { _ in .failure(error) }
        }
        for (push, outcome) in zip(group, outcomes) { push.answer.resume(with: outcome) }
    }

    // Every statement of a request is a cached (prepared once) statement:
    // compiling them per request showed in profiles of many small syncs.
    private static func store(
        _ changes: [Change], from node: NodeID, for user: UserID, known: KnownHistory, chain: PushChain?,
        byDevice: Bool = true, at now: String, _ db: Database
    ) throws -> PushOutcome {
        try startLineageIfLost(known, user, db)
        let recorded = try String.fetchOne(
            db.cachedStatement(sql: "SELECT push_token FROM devices WHERE user_id = ? AND node = ?"),
            arguments: [user.rawValue, node.rawValue])
        guard try !known.isAnotherDevice(recordedPush: recorded, currentEpoch: Self.epoch(of: user, db), pushing: chain, isPush: true) else {
            throw PushRefusal.nodeInUse(node)
        }
        var outcome = PushOutcome()
        var seq = try Self.lastSequence(of: user, db)
        var start = changes.startIndex
        while start < changes.endIndex {
            // A push sends an entity's changed fields together: their stored
            // versions are read in one step of the index, not one per field.
            let (kind, entity) = (changes[start].kind, changes[start].entity)
            var end = start + 1
            while end < changes.endIndex, changes[end].kind == kind, changes[end].entity == entity { end += 1 }
            var (born, stored) = try Self.storedClocks(of: kind, entity, fields: changes[start..<end].map(\.field), for: user, db)
            for change in changes[start..<end] {
                let merged = try Self.merge(
                    change, over: &stored[change.field, default: []], of: born ?? seq + 1, from: node, for: user, nextSequence: seq + 1, db)
                guard outcome.count(merged) else { continue }
                seq += 1
                if born == nil {
                    born = seq
                    try db.cachedStatement(sql: "INSERT INTO entities (user_id, kind, entity, born) VALUES (?, ?, ?, ?)").run([
                        user.rawValue.databaseValue, kind.rawValue.databaseValue, entity.databaseValue, seq.databaseValue,
                    ])
                }
            }
            start = end
        }
        if outcome.accepted > 0 {
            try db.cachedStatement(sql: "UPDATE users SET last_seq = ? WHERE id = ?").execute(arguments: [seq, user.rawValue])
            let token = HistoryCheckpoint.randomToken()
            try db.cachedStatement(sql: "INSERT INTO history (user_id, last_seq, token) VALUES (?, ?, ?)").execute(arguments: [user.rawValue, seq, token])
            outcome.checkpoint = HistoryCheckpoint(seq: seq, token: token)
        }
        outcome.epoch = try Self.epoch(of: user, db)
        guard byDevice else { return outcome }
        let pushToken = chain?.token ?? recorded
        try db.cachedStatement(
            sql: """
                INSERT INTO devices (user_id, node, first_seen, last_seen, push_token) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (user_id, node) DO UPDATE SET last_seen = excluded.last_seen, push_token = excluded.push_token
                """
        ).execute(arguments: [user.rawValue, node.rawValue, now, now, pushToken])
        outcome.pushToken = pushToken
        return outcome
    }

    /// The entity's number (`born`, see the `v9-entities` migration; nil
    /// when nothing of it is stored yet) and the
    /// versions stored for `fields` of it, by field and in the order they
    /// were stored, with their clocks: deciding needs no values.
    private static func storedClocks(
        of kind: EntityKind, _ entity: String, fields: [String], for user: UserID, _ db: Database
    ) throws -> (born: Int64?, versions: [String: [(seq: Int64, register: Register)]]) {
        // One statement: the entity's row (its number), then its versions
        // through the number; no row at all when nothing of it is stored.
        // Without INDEXED BY, SQLite (no ANALYZE statistics) may pick the
        // primary key's `user_id = ?` prefix and scan every version of
        // the user: each push would grow with the whole library. A change of
        // one field (an article's favourite flag) reads that field's versions
        // alone, not the clocks of the article's every field; several read
        // the entity's in one step of the index. (Naming several fields, as
        // a JSON array for `json_each`, took twice as long a lookup as the
        // whole entity's: a first push is mostly new entities of many fields.)
        var born: Int64?
        var stored: [String: [(seq: Int64, register: Register)]] = [:]
        let onlyField = fields.count == 1 ? fields.first : nil
        let arguments = (onlyField.map { [$0.databaseValue] } ?? []) + [user.rawValue.databaseValue, kind.rawValue.databaseValue, entity.databaseValue]
        try db.cachedStatement(
            sql: """
                SELECT e.born, v.field, v.seq, v.timestamp, v.vector FROM entities e
                LEFT JOIN field_versions v INDEXED BY field_versions_by_entity ON v.user_id = e.user_id AND v.born = e.born
                """ + (onlyField == nil ? "" : " AND v.field = ?") + " WHERE e.user_id = ? AND e.kind = ? AND e.entity = ?"
        ).forEachRow(arguments) { row in
            born = Int64.fromDatabaseValue(row[0])
            // The entity's row alone: none of the fields asked for is stored.
            if row[1].isNull { return }
            guard let field = String.fromDatabaseValue(row[1]), let seq = Int64.fromDatabaseValue(row[2]),
                let timestamp = String.fromDatabaseValue(row[3]).flatMap(HLCTimestamp.init(encoded:)),
                let vector = String.fromDatabaseValue(row[4])
            else {
                throw DatabaseError(resultCode: .SQLITE_CORRUPT, message: "invalid stored version of \(kind.rawValue) \(entity)")
            }
            stored[field, default: []].append((seq, Register(value: .null, timestamp: timestamp, vector: try WireCoding.vector(fromText: vector))))
        }
        return (born, stored)
    }

    /// Merges one change into `stored`, the versions of its field (see
    /// `ServerMerge`) of the entity numbered `born`, numbering it `seq`
    /// when it is new to the store, and leaves there the versions it keeps.
    private static func merge(
        _ change: Change, over stored: inout [(seq: Int64, register: Register)], of born: Int64, from node: NodeID, for user: UserID,
        nextSequence seq: Int64, _ db: Database
    ) throws -> ServerMerge.Outcome {
        guard let superseded = try ServerMerge.accept(change, over: stored.map(\.register)) else { return .absorbed }
        for index in superseded {
            try db.cachedStatement(sql: "DELETE FROM field_versions WHERE user_id = ? AND seq = ?").run([
                user.rawValue.databaseValue, stored[index].seq.databaseValue,
            ])
        }
        try db.cachedStatement(
            sql: """
                INSERT INTO field_versions (user_id, seq, origin, kind, entity, field, value, timestamp, vector, born)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        ).run([
            user.rawValue.databaseValue, seq.databaseValue, node.rawValue.databaseValue, change.kind.rawValue.databaseValue,
            change.entity.databaseValue, change.field.databaseValue, try WireCoding.text(change.value).databaseValue,
            change.timestamp.encoded.databaseValue, try WireCoding.text(change.vector).databaseValue, born.databaseValue,
        ])
        let outcome = ServerMerge.outcome(superseded: superseded, of: stored.count)
        stored = stored.indices.filter { !superseded.contains($0) }.map { stored[$0] }
        stored.append((seq, Register(value: .null, timestamp: change.timestamp, vector: change.vector)))
        return outcome
    }

    /// The time a device was seen, as `devices` keeps it.
    private func now() -> String { clock().formatted(.iso8601) }

    // MARK: History (see `KnownHistory`)

    /// The user's epoch: the database's, with the user's lineage if one was started.
    private static func epoch(of user: UserID, _ db: Database) throws -> String {
        let lineage = try String.fetchOne(db.cachedStatement(sql: "SELECT lineage FROM users WHERE id = ?"), arguments: [user.rawValue]) ?? ""
        return UserEpoch.of(
            databaseEpoch: try String.fetchOne(db.cachedStatement(sql: "SELECT value FROM meta WHERE key = 'epoch'")) ?? "",
            lineage: lineage)
    }

    /// The token of the commit that gave out `seq`.
    private static func token(of user: UserID, at seq: Int64, _ db: Database) throws -> String? {
        try String.fetchOne(
            db.cachedStatement(sql: "SELECT token FROM history WHERE user_id = ? AND last_seq >= ? ORDER BY last_seq LIMIT 1"),
            arguments: [user.rawValue, seq])
    }

    private static func isLost(_ known: KnownHistory, _ user: UserID, _ db: Database) throws -> Bool {
        try known.isLost(currentEpoch: try epoch(of: user, db)) { try token(of: user, at: $0, db) }
    }

    private static func startLineageIfLost(_ known: KnownHistory, _ user: UserID, _ db: Database) throws {
        guard try isLost(known, user, db) else { return }
        try db.execute(sql: "UPDATE users SET lineage = ? WHERE id = ?", arguments: [HistoryCheckpoint.randomToken(), user.rawValue])
        // The push chains recorded may be older than the devices' own.
        try db.execute(sql: "UPDATE devices SET push_token = NULL WHERE user_id = ?", arguments: [user.rawValue])
    }

    public func changes(for user: UserID, after cursor: Int64, limit: Int, excludingOrigin origin: NodeID?, known: KnownHistory) async throws -> ChangePage {
        // One read for the page, whose history check comes first (every
        // pull's; a read of its own was a second hop between threads): only
        // a device showing history the store lost waits for a write.
        let page = try await database.read { db in
            try Self.pageUnlessLost(for: user, after: cursor, limit: limit, excludingOrigin: origin, known: known, db)
        }
        if let page { return page }
        try await database.write { db in try Self.startLineageIfLost(known, user, db) }
        return try await database.read { db in try Self.page(for: user, after: cursor, limit: limit, excludingOrigin: origin, known: known, db) }
    }

    /// The page, or nil when `known` shows history the store lost (a new
    /// lineage must be started first, in a write).
    private static func pageUnlessLost(
        for user: UserID, after cursor: Int64, limit: Int, excludingOrigin origin: NodeID?, known: KnownHistory, _ db: Database
    ) throws -> ChangePage? {
        try isLost(known, user, db) ? nil : page(for: user, after: cursor, limit: limit, excludingOrigin: origin, known: known, db)
    }

    private static func isRetired(_ node: NodeID, _ user: UserID, _ db: Database) throws -> Bool {
        try Int.fetchOne(
            db.cachedStatement(sql: "SELECT 1 FROM devices WHERE user_id = ? AND node = ? AND retired_at IS NOT NULL"),
            arguments: [user.rawValue, node.rawValue]) != nil
    }

    private static func page(
        for user: UserID, after cursor: Int64, limit: Int, excludingOrigin origin: NodeID?, known: KnownHistory,
        _ db: Database
    ) throws -> ChangePage {
        if let origin {
            let recorded = try String.fetchOne(
                db.cachedStatement(sql: "SELECT push_token FROM devices WHERE user_id = ? AND node = ?"),
                arguments: [user.rawValue, origin.rawValue])
            guard try !known.isAnotherDevice(recordedPush: recorded, currentEpoch: epoch(of: user, db), isPush: false) else {
                throw PushRefusal.nodeInUse(origin)
            }
        }
        let latest = try Self.lastSequence(of: user, db)
        // One more than asked tells whether another page follows. Read
        // through a cursor: a page full of text stops reading.
        let rows = try Row.fetchCursor(
            db.cachedStatement(
                sql: """
                    SELECT seq, kind, entity, field, value, timestamp, vector FROM field_versions
                    WHERE user_id = ? AND seq > ? AND origin IS NOT ? ORDER BY seq LIMIT ?
                    """), arguments: [user.rawValue, cursor, origin?.rawValue, limit + 1])
        var page = PageFiller(limit: limit)
        var last = cursor
        var more = false
        while let row = try rows.next() {
            let change = Change(key: RegisterKey(kind: EntityKind(rawValue: row[1])!, entity: row[2], field: row[3]), register: try Self.register(row, from: 4))
            guard page.add(change) else {
                more = true
                break
            }
            last = row[0]
        }
        let changes = page.changes
        // Without more rows, everything up to `latest` has been looked at
        // (the rest, if any, were the asker's own changes).
        let next = more ? last : max(cursor, latest)
        let checkpoint = next > 0 ? try token(of: user, at: next, db).flatMap { HistoryCheckpoint(seq: next, token: $0) } : nil
        return ChangePage(
            changes: changes, next: next, more: more, latest: latest, epoch: try epoch(of: user, db), checkpoint: checkpoint,
            retired: try origin.map { try isRetired($0, user, db) } ?? false)
    }

    // MARK: Stepped, for the simulation

    public func pushNow(_ changes: [Change], from node: NodeID, for user: UserID, known: KnownHistory, chain: PushChain?) throws -> PushOutcome {
        try database.write { db in try Self.store(changes, from: node, for: user, known: known, chain: chain, at: now(), db) }
    }

    public func changesNow(for user: UserID, after cursor: Int64, limit: Int, excludingOrigin origin: NodeID?, known: KnownHistory) throws -> ChangePage {
        let page = try database.read { db in
            try Self.pageUnlessLost(for: user, after: cursor, limit: limit, excludingOrigin: origin, known: known, db)
        }
        if let page { return page }
        try database.write { db in try Self.startLineageIfLost(known, user, db) }
        return try database.read { db in try Self.page(for: user, after: cursor, limit: limit, excludingOrigin: origin, known: known, db) }
    }

    public func storedVersions(for user: UserID) throws -> [RegisterKey: [Register]] {
        try database.read { db in try Self.storedVersions(of: user, db) }
    }

    private static func storedVersions(of user: UserID, bodies: Bool = true, _ db: Database) throws -> [RegisterKey: [Register]] {
        var versions: [RegisterKey: [Register]] = [:]
        let leavingOutBodies = bodies ? "" : " AND NOT (kind = 'article' AND field = 'content')"
        for row in try Row.fetchAll(
            db, sql: "SELECT kind, entity, field, value, timestamp, vector FROM field_versions WHERE user_id = ?\(leavingOutBodies) ORDER BY seq",
            arguments: [user.rawValue])
        {
            versions[RegisterKey(kind: EntityKind(rawValue: row[0])!, entity: row[1], field: row[2]), default: []].append(try register(row, from: 3))
        }
        return versions
    }

    public func copy() throws -> StoreCopy {
        let copy = try DatabaseQueue()
        try database.backup(to: copy)
        return StoreCopy(contents: copy)
    }

    public func restore(_ copy: StoreCopy) throws {
        try (copy.contents as! DatabaseQueue).backup(to: database)
    }

    public func state(for user: UserID, bodies: Bool) async throws -> (registers: [RegisterKey: Register], latest: Int64) {
        // One read transaction: the fields and the sequence number agree.
        try await database.read { db in
            (try Self.storedVersions(of: user, bodies: bodies, db).compactMapValues(ServerMerge.state), try Self.lastSequence(of: user, db))
        }
    }

    public func versions(of entities: [EntitiesRequest.Address], for user: UserID) async throws -> [Change] {
        try await database.read { db in
            try entities.flatMap { address in
                try Row.fetchAll(
                    db.cachedStatement(
                        sql: """
                            SELECT v.field, v.value, v.timestamp, v.vector FROM entities e
                            CROSS JOIN field_versions v INDEXED BY field_versions_by_entity ON v.user_id = e.user_id AND v.born = e.born
                            WHERE e.user_id = ? AND e.kind = ? AND e.entity = ? ORDER BY v.seq
                            """), arguments: [user.rawValue, address.kind.rawValue, address.entity]
                ).map { row in
                    Change(key: RegisterKey(kind: address.kind, entity: address.entity, field: row[0]), register: try Self.register(row, from: 1))
                }
            }
        }
    }

    public func addUserNow(name: String, tokenHash: String) throws -> UserID {
        try addUser(name: name, tokenHash: tokenHash)
        return try database.read { db in UserID(try Int64.fetchOne(db, sql: "SELECT id FROM users WHERE name = ?", arguments: [name])!) }
    }

    private static func lastSequence(of user: UserID, _ db: Database) throws -> Int64 {
        try Int64.fetchOne(db.cachedStatement(sql: "SELECT last_seq FROM users WHERE id = ?"), arguments: [user.rawValue]) ?? 0
    }

    /// The register in `row`'s columns `value, timestamp, vector`, in that
    /// order from column `first`. (By position: a full sync of a 10k
    /// library reads ~165,000 rows, and a lookup by name compares names.)
    private static func register(_ row: Row, from first: Int) throws -> Register {
        guard let timestamp = HLCTimestamp(encoded: row[first + 1]) else {
            throw DatabaseError(resultCode: .SQLITE_CORRUPT, message: "invalid stored timestamp")
        }
        return Register(value: try WireCoding.value(fromText: row[first]), timestamp: timestamp, vector: try WireCoding.vector(fromText: row[first + 2]))
    }

    // MARK: Users

    public func addUser(name: String, tokenHash: String) throws {
        try database.write { db in
            guard try Int.fetchOne(db, sql: "SELECT 1 FROM users WHERE name = ?", arguments: [name]) == nil else { throw UserError.exists(name) }
            try db.execute(
                sql: "INSERT INTO users (name, token_hash, created_at) VALUES (?, ?, ?)",
                arguments: [name, tokenHash, Date().formatted(.iso8601)])
        }
    }

    public func replaceToken(name: String, tokenHash: String) throws {
        try database.write { db in
            try db.execute(sql: "UPDATE users SET token_hash = ? WHERE name = ?", arguments: [tokenHash, name])
            guard db.changesCount == 1 else { throw UserError.unknown(name) }
        }
    }

    public func revoke(name: String) throws {
        try database.write { db in
            try db.execute(sql: "UPDATE users SET token_hash = NULL WHERE name = ?", arguments: [name])
            guard db.changesCount == 1 else { throw UserError.unknown(name) }
        }
    }

    public func setWallabagCredentials(name: String, _ credentials: WallabagCredentialHashes?) throws {
        try database.write { db in
            try db.execute(
                sql: """
                    UPDATE users SET wallabag_client_id = ?, wallabag_secret_hash = ?, wallabag_password_hash = ? WHERE name = ?
                    """, arguments: [credentials?.clientID, credentials?.secretHash, credentials?.passwordHash, name])
            guard db.changesCount == 1 else { throw UserError.unknown(name) }
        }
    }

    public func setWebPassword(name: String, hash: String?) throws {
        try database.write { db in
            try db.execute(sql: "UPDATE users SET web_password_hash = ? WHERE name = ?", arguments: [hash, name])
            guard db.changesCount == 1 else { throw UserError.unknown(name) }
        }
    }

    public func webPassword(ofUserNamed name: String) async throws -> (user: UserID, hash: String)? {
        try await database.read { db in
            try Row.fetchOne(
                db.cachedStatement(
                    sql: """
                        SELECT id, web_password_hash FROM users WHERE name = ? AND token_hash IS NOT NULL AND web_password_hash IS NOT NULL
                        """), arguments: [name]
            ).map { (UserID($0[0]), $0[1]) }
        }
    }

    public func wallabagAccount(clientID: String) async throws -> WallabagAccount? {
        try await database.read { db in
            try Row.fetchOne(
                db.cachedStatement(
                    sql: """
                        SELECT id, name, wallabag_secret_hash, wallabag_password_hash FROM users
                        WHERE wallabag_client_id = ? AND token_hash IS NOT NULL
                        """), arguments: [clientID]
            ).map { row in
                WallabagAccount(
                    user: UserID(row["id"]), name: row["name"],
                    credentials: WallabagCredentialHashes(
                        clientID: clientID, secretHash: row["wallabag_secret_hash"],
                        passwordHash: row["wallabag_password_hash"]))
            }
        }
    }

    // MARK: Devices

    /// Pulls write nothing themselves: sightings wait in memory, and the
    /// first one asks the writer for one turn that writes all waiting by then
    /// (as pushes are grouped), so many devices pulling share one commit.
    public func recordSighting(of node: NodeID, for user: UserID, name: String?, pulled: Int64) {
        let askWrite = sightings.withLock { state in
            let earlier = state.seen[DeviceKey(user: user, node: node)]
            state.seen[DeviceKey(user: user, node: node)] = Sighting(name: name ?? earlier?.name, pulled: max(pulled, earlier?.pulled ?? 0), at: now())
            defer { state.writeAsked = true }
            return !state.writeAsked
        }
        if askWrite { database.asyncWriteWithoutTransaction { db in try? self.writeSightings(db) } }
    }

    private func writeSightings(_ db: Database) throws {
        let seen = sightings.withLock { state in
            defer { state = ([:], false) }
            return state.seen
        }
        guard !seen.isEmpty else { return }
        do {
            try writeSightings(seen, db)
        } catch {
            // Kept for the next turn rather than lost (newer sightings win).
            sightings.withLock { state in state.seen.merge(seen) { newer, _ in newer } }
            throw error
        }
    }

    private func writeSightings(_ seen: [DeviceKey: Sighting], _ db: Database) throws {
        try db.inTransaction {
            for (key, sighting) in seen {
                try db.cachedStatement(
                    sql: """
                        INSERT INTO devices (user_id, node, name, first_seen, last_seen, pulled) VALUES (?, ?, COALESCE(?, ''), ?, ?, ?)
                        ON CONFLICT (user_id, node) DO UPDATE SET last_seen = max(last_seen, excluded.last_seen), pulled = max(pulled, excluded.pulled),
                            name = CASE WHEN excluded.name = '' THEN name ELSE excluded.name END, retired_at = NULL
                        """
                ).execute(arguments: [key.user.rawValue, key.node.rawValue, sighting.name, sighting.at, sighting.at, sighting.pulled])
            }
            return .commit
        }
    }

    public func devices(ofUserNamed name: String) throws -> [DeviceSummary] {
        try database.read { db in
            guard let user = try Row.fetchOne(db, sql: "SELECT id, last_seq FROM users WHERE name = ?", arguments: [name]) else {
                throw UserError.unknown(name)
            }
            return try Row.fetchAll(
                db,
                sql: """
                    SELECT node, name, first_seen, last_seen, pulled, retired_at FROM devices WHERE user_id = ? ORDER BY last_seen DESC, node DESC
                    """, arguments: [user["id"] as Int64]
            ).map {
                DeviceSummary(
                    node: $0["node"], name: $0["name"], firstSeen: $0["first_seen"], lastSeen: $0["last_seen"], pulled: $0["pulled"],
                    latest: user["last_seq"], retiredAt: $0["retired_at"])
            }
        }
    }

    public func forgetDevice(_ node: String, ofUserNamed name: String) throws -> Bool {
        try database.write { db in
            guard let user = try Int64.fetchOne(db, sql: "SELECT id FROM users WHERE name = ?", arguments: [name]) else { throw UserError.unknown(name) }
            try db.execute(sql: "DELETE FROM devices WHERE user_id = ? AND node = ?", arguments: [user, node])
            return db.changesCount > 0
        }
    }

    // MARK: Collecting (see `Tombstone`)

    public func collectGarbage(now: Date, policy: CollectionPolicy) throws -> CollectionReport {
        // The devices' latest pulls first: they set the horizon.
        try database.writeWithoutTransaction { db in try writeSightings(db) }
        var report = CollectionReport()
        for user in try database.read({ db in try Int64.fetchAll(db, sql: "SELECT id FROM users ORDER BY id") }) {
            try database.write { db in try Self.collect(UserID(user), now: now, policy: policy, into: &report, db) }
        }
        return report
    }

    /// One user's round, in one transaction.
    private static func collect(_ user: UserID, now: Date, policy: CollectionPolicy, into report: inout CollectionReport, _ db: Database) throws {
        try db.execute(
            sql: "UPDATE devices SET retired_at = ? WHERE user_id = ? AND retired_at IS NULL AND last_seen < ?",
            arguments: [now.formatted(.iso8601), user.rawValue, now.addingTimeInterval(-policy.retireAfter).formatted(.iso8601)])
        report.retiredDevices += db.changesCount
        // The horizon: the least cursor a device not retired last asked
        // from (what it had applied). No device
        // known at all (nothing ever pushed): nothing to collect.
        let devices = try Row.fetchOne(
            db, sql: "SELECT count(*), min(pulled) FILTER (WHERE retired_at IS NULL) FROM devices WHERE user_id = ?",
            arguments: [user.rawValue])!
        guard (devices[0] as Int64) > 0 else { return }
        var seq = try lastSequence(of: user, db)
        let horizon: Int64 = devices[1] ?? seq

        // The deleted articles. The entities are the outer loop (CROSS JOIN
        // fixes SQLite's order): without statistics it would rather scan
        // every version of the user and look each one's entity up by kind
        // alone, reading the kind's every entity per version.
        var deletes: [String: [Register]] = [:]
        for row in try Row.fetchAll(
            db,
            sql: """
                SELECT e.entity, v.value, v.timestamp, v.vector FROM entities e
                CROSS JOIN field_versions v INDEXED BY field_versions_by_entity ON v.user_id = e.user_id AND v.born = e.born AND v.field = 'deleted'
                WHERE e.user_id = ? AND e.kind = 'article'
                """, arguments: [user.rawValue])
        {
            deletes[row["entity"], default: []].append(try register(row, from: 1))
        }
        let candidates = deletes.filter { ServerMerge.state(of: $0.value)?.value == .bool(true) }.keys.sorted()
        guard !candidates.isEmpty else { return }
        var notes: [String: Set<String>] = [:]
        for row in try Row.fetchAll(
            db,
            sql: """
                SELECT e.entity, v.value FROM entities e
                CROSS JOIN field_versions v INDEXED BY field_versions_by_entity ON v.user_id = e.user_id AND v.born = e.born AND v.field = 'article_id'
                WHERE e.user_id = ? AND e.kind = 'note'
                """, arguments: [user.rawValue])
        {
            if let article = try WireCoding.value(fromText: row["value"]).text { notes[article, default: []].insert(row["entity"]) }
        }
        let collector = try NodeID("gc-" + epoch(of: user, db))!
        let (nowText, trashCutoff) = (now.formatted(.iso8601), now.addingTimeInterval(-policy.keepTrash).formatted(.iso8601))
        for article in candidates {
            // Every version of the family.
            let select = """
                SELECT v.seq, v.kind, v.entity, v.field, v.value, v.timestamp, v.vector FROM entities e
                CROSS JOIN field_versions v INDEXED BY field_versions_by_entity ON v.user_id = e.user_id AND v.born = e.born
                """
            var rows = try Row.fetchAll(
                db.cachedStatement(sql: select + " WHERE e.user_id = ? AND e.kind = ? AND e.entity = ?"),
                arguments: [user.rawValue, "article", article])
            rows += try Row.fetchAll(
                db.cachedStatement(sql: select + " WHERE e.user_id = ? AND e.kind = ? AND e.entity = ?"),
                arguments: [user.rawValue, "read_state", article])
            // Tags are `<article>/<name>`: between "<article>/" and "<article>0".
            rows += try Row.fetchAll(
                db.cachedStatement(sql: select + " WHERE e.user_id = ? AND e.kind = 'tag' AND e.entity > ? AND e.entity < ?"),
                arguments: [user.rawValue, article + "/", article + "0"])
            for note in notes[article] ?? [] {
                rows += try Row.fetchAll(
                    db.cachedStatement(sql: select + " WHERE e.user_id = ? AND e.kind = ? AND e.entity = ?"),
                    arguments: [user.rawValue, "note", note])
            }
            // The fields to purge: those the tombstone does not keep that still
            // hold a value in any version (a concurrent edit that lost to an
            // earlier purge included).
            var purgeable: [RegisterKey: [Register]] = [:]
            for row in rows {
                let key = RegisterKey(kind: EntityKind(rawValue: row["kind"])!, entity: row["entity"], field: row["field"])
                guard Tombstone.isPurged(kind: key.kind, field: key.field) else { continue }
                purgeable[key, default: []].append(try register(row, from: 4))
            }
            purgeable = purgeable.filter { $0.value.contains { $0.value != .null } }
            guard !purgeable.isEmpty else { continue }
            // The trash clock: the server's time since the family last
            // changed, whatever the devices' clocks said.
            let latest = rows.map { $0["seq"] as Int64 }.max()!
            let trash = try Row.fetchOne(
                db.cachedStatement(sql: "SELECT since, through FROM trash WHERE user_id = ? AND article = ?"),
                arguments: [user.rawValue, article])
            var since: String = trash?["since"] ?? nowText
            if latest > trash?["through"] ?? 0 {
                since = nowText
                try db.cachedStatement(
                    sql: """
                        INSERT INTO trash (user_id, article, since, through) VALUES (?, ?, ?, ?)
                        ON CONFLICT (user_id, article) DO UPDATE SET since = excluded.since, through = excluded.through
                        """
                ).execute(arguments: [user.rawValue, article, since, latest])
            }
            // In the trash long enough, and everything written to it has
            // reached every device that holds the horizon.
            guard since <= trashCutoff, latest <= horizon else { continue }
            for (key, versions) in purgeable.sorted(by: { $0.key.description < $1.key.description }) {
                seq += 1
                let (born, clocks) = try storedClocks(of: key.kind, key.entity, fields: [key.field], for: user, db)
                var stored = clocks[key.field] ?? []
                // A purged field has versions, so its entity has a number.
                guard let born else { throw DatabaseError(resultCode: .SQLITE_CORRUPT, message: "\(key) has versions but no entity") }
                guard
                    try merge(
                        Change(key: key, register: Tombstone.purge(over: versions, by: collector)), over: &stored, of: born, from: collector,
                        for: user, nextSequence: seq, db) != .absorbed
                else {
                    throw DatabaseError(resultCode: .SQLITE_INTERNAL, message: "a collection's version was not taken")
                }
            }
            // The purges themselves do not restart the clock.
            try db.cachedStatement(sql: "UPDATE trash SET through = ? WHERE user_id = ? AND article = ?").execute(arguments: [seq, user.rawValue, article])
            report.articles += 1
            report.fields += purgeable.count
        }
        if seq > (try lastSequence(of: user, db)) {
            try db.execute(sql: "UPDATE users SET last_seq = ? WHERE id = ?", arguments: [seq, user.rawValue])
            try db.execute(
                sql: "INSERT INTO history (user_id, last_seq, token) VALUES (?, ?, ?)",
                arguments: [user.rawValue, seq, HistoryCheckpoint.randomToken()])
        }
    }

    public func users() throws -> [UserSummary] {
        try database.read { db in
            try Row.fetchAll(db, sql: "SELECT name, created_at, token_hash IS NOT NULL AS active, last_seq FROM users ORDER BY name")
                .map { UserSummary(name: $0["name"], createdAt: $0["created_at"], active: $0["active"], changes: $0["last_seq"]) }
        }
    }
}

// MARK: Serving

extension SQLiteSyncStore {
    /// Below this much free space on the data folder's disk the store says it
    /// is not ready: a push's commit may need several megabytes of log, and
    /// a commit that finds the disk full fails whole (nothing is lost, but
    /// nothing is stored either).
    static let minimumFreeBytes: Int64 = 8 << 20

    public func checkReady() async throws {
        do {
            try await database.read { db in try db.execute(sql: "SELECT 1 FROM meta LIMIT 1") }
        } catch {
            throw StoreNotReady(reason: "the database \(database.path) does not answer: \(error)")
        }
        let folder = (database.path as NSString).deletingLastPathComponent
        var disk = statvfs()
        guard statvfs(folder, &disk) == 0 else { return }
        let free = Int64(disk.f_bavail) * Int64(disk.f_frsize)
        if free < Self.minimumFreeBytes {
            throw StoreNotReady(reason: "the disk holding \(folder) is full (\(free / 1024) KiB free); free some space")
        }
    }

    /// One `readsync serve` per data folder (`DataFolderLock`): no other
    /// server pushes into it.
    public func observePushes(_ handler: @escaping @Sendable (UserID, NodeID) -> Void) {}

    /// The database file and its write-ahead log.
    public func databaseBytes() async throws -> Int {
        [database.path, database.path + "-wal"].reduce(0) { total, path in
            total + ((try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0)
        }
    }
}
