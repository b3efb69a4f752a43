import ReadSyncCore

/// A user's id in the server store.
public struct UserID: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int64
    public init(_ rawValue: Int64) { self.rawValue = rawValue }
    public var description: String { String(rawValue) }
}

/// What a push did.
public struct PushOutcome: Sendable, Equatable {
    /// Changes the store did not have, now merged and given sequence numbers.
    public var accepted = 0
    /// Changes it already had, or that a merged write already supersedes.
    public var ignored = 0
    /// The user's epoch after the push (see `KnownHistory`).
    public var epoch = ""
    /// Where the accepted changes went in the user's history; nil when none was.
    public var checkpoint: HistoryCheckpoint?
}

/// One page of a user's changes.
public struct ChangePage: Sendable, Equatable {
    public var changes: [Change]
    /// The cursor for the next page.
    public var next: Int64
    public var more: Bool
    /// The user's latest sequence number.
    public var latest: Int64
    /// The user's epoch (see `KnownHistory`).
    public var epoch = ""
    /// The point of the user's history at `next`; nil while `next` is 0.
    public var checkpoint: HistoryCheckpoint?
}

/// A user's epoch: the database's, and the user's lineage once one was
/// started (a store that lost part of the user's history starts one).
enum UserEpoch {
    static func of(databaseEpoch: String, lineage: String) -> String {
        lineage.isEmpty ? databaseEpoch : databaseEpoch + "-" + lineage
    }
}

/// A user as `readsync user list` shows them.
public struct UserSummary: Sendable, Equatable {
    public let name: String
    public let createdAt: String
    public let active: Bool
    public let changes: Int64
}

/// The server's storage: per user, each field's current versions, numbered
/// by the sequence they were accepted under (see `ServerMerge`). The seam between the embedded SQLite
/// store and (later) PostgreSQL; both apply the Core merge.
public protocol SyncStore: Sendable {
    /// Identifies this database; a new database gets a new epoch.
    var epoch: String { get }

    /// The user a token hash belongs to, if any and not revoked.
    func user(forTokenHash hash: String) async throws -> UserID?

    /// Merges a batch of changes pushed by the device `node` into `user`'s
    /// fields, all or nothing. Pulls by `node` leave out the versions it
    /// pushed: it holds them. The device's `known` history is checked first.
    func push(_ changes: [Change], from node: NodeID, for user: UserID, known: KnownHistory) async throws -> PushOutcome

    /// The changes after `cursor`, at most `limit`, in sequence order,
    /// leaving out those pushed by `origin` (the asking device has them).
    /// The device's `known` history is checked first.
    func changes(for user: UserID, after cursor: Int64, limit: Int, excludingOrigin origin: NodeID?, known: KnownHistory) async throws -> ChangePage

    // MARK: Users

    /// Creates a user holding `tokenHash`; throws `UserError.exists` for a taken name.
    func addUser(name: String, tokenHash: String) throws
    /// Replaces a user's token (the old one stops working at once).
    func replaceToken(name: String, tokenHash: String) throws
    /// Revokes a user's token; their data stays.
    func revoke(name: String) throws
    func users() throws -> [UserSummary]

    /// Closes the database cleanly.
    func close() throws
}

/// A store a deterministic simulation can drive step by step: the same
/// operations as `SyncStore`, synchronous, plus the merged state to check
/// replicas against. Both stores implement it, so the simulation runs
/// against each.
public protocol SteppedSyncStore: SyncStore {
    func pushNow(_ changes: [Change], from node: NodeID, for user: UserID, known: KnownHistory) throws -> PushOutcome
    func changesNow(for user: UserID, after cursor: Int64, limit: Int, excludingOrigin origin: NodeID?, known: KnownHistory) throws -> ChangePage
    /// A user's merged fields: what every replica must converge to.
    func registers(for user: UserID) throws -> [RegisterKey: Register]
    func addUserNow(name: String, tokenHash: String) throws -> UserID
    /// Everything the store holds, as a copy of its data folder would (a
    /// nightly backup); `restore` puts it back, losing what came after.
    func copy() throws -> StoreCopy
    func restore(_ copy: StoreCopy) throws
}

/// What `SteppedSyncStore.copy` took: opaque, for the store that took it.
public struct StoreCopy: @unchecked Sendable {
    // @unchecked: the contents are never shared mutable state (a value, or
    // a database only the store that made it reads).
    let contents: Any
}

extension SyncStore {
    /// A push from a device that shows no history (tests, first contact).
    public func push(_ changes: [Change], from node: NodeID, for user: UserID) async throws -> PushOutcome {
        try await push(changes, from: node, for: user, known: .nothing)
    }

    public func changes(for user: UserID, after cursor: Int64, limit: Int, excludingOrigin origin: NodeID?) async throws -> ChangePage {
        try await changes(for: user, after: cursor, limit: limit, excludingOrigin: origin, known: .nothing)
    }
}

extension SteppedSyncStore {
    public func pushNow(_ changes: [Change], from node: NodeID, for user: UserID) throws -> PushOutcome {
        try pushNow(changes, from: node, for: user, known: .nothing)
    }

    public func changesNow(for user: UserID, after cursor: Int64, limit: Int, excludingOrigin origin: NodeID?) throws -> ChangePage {
        try changesNow(for: user, after: cursor, limit: limit, excludingOrigin: origin, known: .nothing)
    }
}

/// Refusals of user management.
public enum UserError: Error, Equatable, CustomStringConvertible {
    case exists(String)
    case unknown(String)
    case invalidName(String)

    public var description: String {
        switch self {
        case .exists(let name): return "a user named '\(name)' already exists; `readsync user token \(name)` gives them a new token"
        case .unknown(let name): return "no user named '\(name)' (see `readsync user list`)"
        case .invalidName(let name): return "invalid user name '\(name)': use 1–64 letters, digits, '.', '_' or '-'"
        }
    }
}
