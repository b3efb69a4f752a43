import Foundation
import GRDB
import PrivateStorage
import ReadSyncCore
import SQLiteStatements

/// A device's library: one SQLite database (WAL) holding each entity's field
/// values and clocks (`StorageV2`), the outbox, the full-text index, and the
/// replica's identity and clock.
///
/// Every write goes through `command(_:)`, which commits values, clocks,
/// outbox marks, search entries and the clock in one transaction (or as one
/// command of a batch): a crash leaves all of a command's effect or none.
public final class ClientStore {
    /// A WAL pool on disk; an in-memory queue for simulations.
    let database: any DatabaseWriter
    /// This replica's node id, fixed when the database was created (or when
    /// it turned out to be a copy of another device's, see `DeviceIdentity`).
    public internal(set) var node: NodeID
    /// Set when opening found the library to be a copy and gave it a new node id.
    public let fork: DeviceIdentity.Fork?
    let wallClock: any WallClock
    /// The home's folder and files that other local accounts could read
    /// when it was opened, now tightened (see `ClientHome.prepare`).
    public private(set) var permissionChanges: [PermissionChange] = []
    /// The transaction `inOneTransaction` holds open, which commands join.
    private var openBatch: LocalWrite?
    /// The home folder, named when its storage fails (nil for a library in memory).
    let homePath: String?
    /// Copies the WAL into the database file beside the writer, not inside
    /// its commits (nil for a library in memory).
    private(set) var checkpointer: LogCheckpointer?

    /// Opens (creating and migrating if needed) the library in `home`.
    public convenience init(home: ClientHome, wallClock: any WallClock = SystemWallClock()) throws {
        let permissionChanges = try home.prepare()
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            // A command of a batch that reads what it wrote is a savepoint
            // (`LocalWrite.command`): keep the copies of the pages it changes
            // in memory, not in a temporary file written for each command.
            try db.execute(sql: "PRAGMA temp_store = MEMORY")
        }
        // Created empty and 0600 here, before SQLite opens it: SQLite would
        // make it 0644 under the usual umask, and its -wal and -shm files
        // take the main file's permissions (see `PrivateFiles`).
        do {
            try PrivateFiles.makeFile(home.databaseURL.path)
        } catch let error as PrivateFileError {
            throw HomeError.unavailable(path: home.directory.path, reason: "its database cannot be created (\(error.reason))")
        }
        // A new library's free pages can be handed back (`releaseFreePages`);
        // an existing library keeps the mode it has.
        try NewDatabaseFile.settle(home.databaseURL.path, pragmas: "PRAGMA auto_vacuum = INCREMENTAL", configuration: configuration)
        let pool = try Self.saying(.command, home: home.directory.path) {
            try DatabasePool(path: home.databaseURL.path, configuration: configuration)
        }
        try self.init(database: pool, wallClock: wallClock, node: nil, file: DeviceIdentity.ofFile(at: home.databaseURL.path), homePath: home.directory.path)
        self.permissionChanges = permissionChanges
        // Last, once nothing else can fail: a library that failed to open is
        // not kept by a checkpointer no one closes.
        checkpointer = try Self.saying(.command, home: home.directory.path) { try LogCheckpointer(pool) }
    }

    /// A library in memory, gone when released: for simulations that run
    /// thousands of replicas. `node` fixes the replica's id (random if nil).
    public convenience init(inMemoryWith wallClock: any WallClock, node: NodeID? = nil) throws {
        // A copy of an empty library migrated once: running every migration
        // for each of thousands of replicas took a twentieth of a simulation.
        let database = try DatabaseQueue()
        try Self.emptyLibrary.get().backup(to: database)
        try self.init(database: database, wallClock: wallClock, node: node)
    }

    /// A copy of `other`, a library in memory, node id included (a home
    /// copied whole, as a cloned machine would: for simulations).
    convenience init(inMemoryCopyOf other: ClientStore, wallClock: any WallClock) throws {
        let database = try DatabaseQueue()
        try other.database.backup(to: database)
        try self.init(database: database, wallClock: wallClock, node: nil)
    }

    private static let emptyLibrary = Result<DatabaseQueue, any Error> {
        let database = try DatabaseQueue()
        try ClientSchema.migrator.migrate(database)
        return database
    }

    private init(database: any DatabaseWriter, wallClock: any WallClock, node: NodeID?, file: String? = nil, homePath: String? = nil) throws {
        self.database = database
        self.homePath = homePath
        self.wallClock = wallClock
        (self.node, self.fork) = try Self.saying(.command, home: homePath) {
            try ClientSchema.migrator.migrate(database)
            // Fields and entities an earlier version kept aside (rare: only after
            // an upgrade that taught this version a field or kind); a command that only reads opens
            // no write transaction for it.
            if try database.read(StoredEntity.hasKnownFieldsKeptAside) {
                try database.write(StoredEntity.adoptKnownFields)
            }
            return try database.write { db in try DeviceIdentity.resolve(requested: node, file: file, db) }
        }
    }

    deinit {
        // A command ends with its copy, as it did when SQLite copied inside
        // the commit, rather than leave the process to end in the middle of it.
        if let checkpointer, let pool = database as? DatabasePool { checkpointer.close(detachingFrom: pool) }
    }

    /// Returns once the WAL copy asked for so far, if any, has been made.
    public func finishCopyingLog() {
        checkpointer?.waitUntilIdle()
    }

    /// Runs `body` as one command, all or nothing: in a transaction of its
    /// own, or, while `inOneTransaction` runs, as a command of that one
    /// transaction (`LocalWrite.command`; the only place batching is
    /// decided). `body` writes through the `LocalWrite`, which stamps each
    /// field, marks it in the outbox and keeps the search index in step.
    func command<T>(_ body: (LocalWrite) throws -> T) throws -> T {
        // A command of a batch fails as SQLite said, so that the batch stops
        // (an import skips items that fail with a `LibraryRefusal`, and must
        // not skip on to the next item on a full disk); the batch says it.
        if let batch = openBatch { return try batch.command(body) }
        return try write(during: .command) { db in
            let clock = HybridLogicalClock(node: node, wallClock: wallClock, resumingAfter: try Self.storedClock(db))
            let write = LocalWrite(db: db, clock: clock, wallClock: wallClock)
            let result = try body(write)
            try write.finish()
            return result
        }
    }

    /// Runs `body`, whose commands all commit in one transaction (or none of
    /// them, if it throws). Each command is still all-or-nothing: one that
    /// fails leaves nothing behind. The full-text index is brought up to date
    /// once, at the end, for every article the commands touched.
    func inOneTransaction<T>(_ body: () throws -> T) throws -> T {
        precondition(openBatch == nil, "inOneTransaction does not nest")
        return try write(during: .batch) { db in
            let clock = HybridLogicalClock(node: node, wallClock: wallClock, resumingAfter: try Self.storedClock(db))
            let write = LocalWrite(db: db, clock: clock, wallClock: wallClock)
            openBatch = write
            defer { openBatch = nil }
            let result = try body()
            try write.finish()
            return result
        }
    }

    /// Every write transaction of the library: the storage failing under it
    /// (disk full, read-only, locked) is said as `HomeError.storage`,
    /// naming the home and what `activity` kept; other errors pass as they are.
    func write<T>(during activity: HomeStorageFault.Activity, _ updates: (Database) throws -> T) throws -> T {
        try Self.saying(activity, home: homePath) { try database.write(updates) }
    }

    /// Runs `body`, saying a storage fault it meets as `HomeError.storage`.
    static func saying<T>(_ activity: HomeStorageFault.Activity, home: String?, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch {
            guard let fault = HomeStorageFault(error, home: home) else { throw error }
            throw HomeError.storage(fault, home: home ?? "memory", during: activity)
        }
    }

    /// Runs `body` against a consistent snapshot of the database.
    func read<T>(_ body: (Database) throws -> T) throws -> T {
        // An in-memory queue has one connection that serialises every access,
        // so nothing can write between the statements of `body`: it already
        // reads a consistent state. GRDB's `read` on a queue would also set
        // `PRAGMA query_only` on and off, and setting a pragma expires every
        // prepared statement of the connection: SQLite then compiled each
        // cached statement again, a third of a simulated client's sync time.
        if let queue = database as? DatabaseQueue { return try queue.unsafeRead(body) }
        return try database.read(body)
    }

    /// Runs `body`, which runs a single statement, outside a transaction:
    /// one statement reads a consistent state by itself. GRDB's `read`
    /// wraps it in `BEGIN` and `COMMIT`, each prepared afresh at every
    /// call, and a sync reads its state at every step.
    func readOneStatement<T>(_ body: (Database) throws -> T) throws -> T {
        try database.unsafeRead(body)
    }

    static func storedClock(_ db: Database) throws -> HLCTimestamp? {
        try MetaKey.clock.read(db).flatMap(HLCTimestamp.init(encoded:))
    }
}

/// Keys of the `meta` table.
enum MetaKey: String {
    case node
    case clock
    case serverURL = "server_url"
    case serverToken = "server_token"
    /// The server's sequence number of the last change applied here.
    case cursor
    /// The server database's epoch the cursor belongs to.
    case epoch
    /// Which file the database is (`DeviceIdentity.ofFile`): a library
    /// opened from another file is a copy.
    case fileIdentity = "file_identity"
    /// The node id of the device this library was copied from.
    case copiedFrom = "copied_from"
    /// The token of this device's last push the server recorded, and the
    /// token of the push on its way (kept until the server records it, so
    /// that the same push sent again carries it again): see `PushChain`.
    case pushToken = "push_token"
    case pendingPushToken = "pending_push_token"
    /// What the server lists this device as (`client init --name`).
    case deviceName = "device_name"
    /// The absolute path of the PEM file of the certificate authority that
    /// signed the server's certificate (`client init --ca-file`), when it is
    /// a private one; else the system's authorities are trusted.
    case caFile = "ca_file"
    /// The furthest point of the server's history (in `epoch`) this device
    /// has seen, pulled up to or pushed into (`HistoryCheckpoint`, as text).
    case checkpoint
    /// The largest timestamp that may be known beyond this device: of
    /// acknowledged writes and of changes received. Re-stamping stays above it.
    case publicClock = "public_clock"
    /// ISO time of the last sync that completed.
    case lastSync = "last_sync"
    /// How many field versions the server said it takes in a push and
    /// gives in a page (`PushResponse.changesPerRequest`): a sync's first
    /// request is no larger. Absent until a server answered.
    case serverTakes = "server_takes"

    func read(_ db: Database) throws -> String? {
        try String.fetchOne(db.cachedStatement(sql: "SELECT value FROM meta WHERE key = ?"), arguments: [rawValue])
    }

    /// Every key's value (keys this version does not name are left out).
    static func readAll(_ db: Database) throws -> [MetaKey: String] {
        var values: [MetaKey: String] = [:]
        let rows = try Row.fetchCursor(db.cachedStatement(sql: "SELECT key, value FROM meta"))
        while let row = try rows.next() {
            if let key = MetaKey(rawValue: row[0]) { values[key] = row[1] }
        }
        return values
    }

    func write(_ value: String?, _ db: Database) throws {
        if let value {
            try db.cachedStatement(sql: "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value")
                .execute(arguments: [rawValue, value])
        } else {
            // Kept prepared too: every push clears its pending token once the
            // server has recorded it.
            try db.cachedStatement(sql: "DELETE FROM meta WHERE key = ?").execute(arguments: [rawValue])
        }
    }
}
