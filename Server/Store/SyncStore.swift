import Foundation
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
    /// Accepted changes that stay beside a concurrent version of their
    /// field (a conflict, resolved the same way on every device).
    public var conflicts = 0
    /// The user's epoch after the push (see `KnownHistory`).
    public var epoch = ""
    /// Where the accepted changes went in the user's history; nil when none was.
    public var checkpoint: HistoryCheckpoint?
    /// The token of the pusher's last push (`PushChain`).
    public var pushToken: String?
}

extension PushOutcome {
    /// Counts what the store did with one change; returns whether it was stored.
    mutating func count(_ merged: ServerMerge.Outcome) -> Bool {
        switch merged {
        case .absorbed:
            ignored += 1
            return false
        case .stored(let concurrent):
            accepted += 1
            if concurrent { conflicts += 1 }
            return true
        }
    }
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
    /// Whether the asking device was retired (`CollectionPolicy.retireAfter`).
    public var retired = false
}

extension PullResponse {
    /// `page` as a pull's answer, from a server that takes `changesPerRequest`.
    public init(_ page: ChangePage, serverTime: Int64, changesPerRequest: Int) {
        self.init(
            epoch: page.epoch, changes: page.changes, next: page.next, more: page.more, latest: page.latest, serverTime: serverTime,
            checkpoint: page.checkpoint, retired: page.retired, changesPerRequest: changesPerRequest)
    }
}

extension PushOutcome {
    /// What the device that sent `push` knows of the user's history once it
    /// has this answer, as its next pull would show it (`KnownHistory`): the
    /// epoch, the furthest checkpoint, the push token now recorded, none
    /// pending. Nil when the answer sends the device to resynchronise (the
    /// user's epoch is not the one it knew): a pull would be of no use to it.
    public func historyKnown(after push: PushRequest) -> KnownHistory? {
        if let known = push.epoch, known != epoch { return nil }
        return KnownHistory(epoch: epoch, checkpoint: checkpoint ?? push.checkpoint, lastPush: pushToken)
    }
}

/// Fills a pull page in sequence order: at most `limit` versions and, past
/// the first, at most `SyncProtocol.maxPageTextBytes` of text. Every store
/// cuts its pages so.
struct PageFiller {
    let limit: Int
    private(set) var changes: [Change] = []
    private var bytes = 0

    init(limit: Int) { self.limit = limit }

    /// Adds `change` when it fits; when it does not, the page is full and
    /// another follows.
    mutating func add(_ change: Change) -> Bool {
        let size = (change.value.text?.utf8.count ?? 8) + 100
        guard changes.count < limit, changes.isEmpty || bytes + size <= SyncProtocol.maxPageTextBytes else { return false }
        bytes += size
        changes.append(change)
        return true
    }
}

/// A user's epoch: the database's, and the user's lineage once one was
/// started (a store that lost part of the user's history starts one).
enum UserEpoch {
    static func of(databaseEpoch: String, lineage: String) -> String {
        lineage.isEmpty ? databaseEpoch : databaseEpoch + "-" + lineage
    }
}

/// A device as `readsync user devices` shows it.
public struct DeviceSummary: Sendable, Equatable, Codable {
    public let node: String
    /// What the device calls itself (`client init --name`); empty if it never said.
    public let name: String
    public let firstSeen: String
    public let lastSeen: String
    /// The cursor it asked from at its last pull (what it had applied), and
    /// the user's latest sequence number.
    public let pulled: Int64
    public let latest: Int64
    /// When it was retired for being away too long (`CollectionPolicy`); nil while it holds the horizon.
    public let retiredAt: String?
}

/// What a user's wallabag apps sign in with, as the store keeps it: the
/// client id, and the SHA-256 of the client secret and of the password
/// (`WallabagCredentials`).
public struct WallabagCredentialHashes: Sendable, Equatable {
    public let clientID: String
    public let secretHash: String
    public let passwordHash: String

    public init(clientID: String, secretHash: String, passwordHash: String) {
        self.clientID = clientID
        self.secretHash = secretHash
        self.passwordHash = passwordHash
    }
}

/// A user who can sign in from wallabag apps.
public struct WallabagAccount: Sendable, Equatable {
    public let user: UserID
    public let name: String
    public let credentials: WallabagCredentialHashes
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
/// store, PostgreSQL and the in-memory one; all apply the Core merge.
public protocol SyncStore: Sendable {
    /// Identifies this database; a new database gets a new epoch.
    var epoch: String { get }

    /// The user a token hash belongs to, if any and not revoked.
    func user(forTokenHash hash: String) async throws -> UserID?
    /// The user called `name`, not revoked, if `hash` is the hash of their
    /// sync token or of their wallabag password (HTTP Basic sign-in, where
    /// e-readers send a user name and a password).
    func user(named name: String, secretHash hash: String) async throws -> UserID?

    /// Merges a batch of changes pushed by the device `node` into `user`'s
    /// fields, all or nothing. Pulls by `node` leave out the versions it
    /// pushed: it holds them. The device's `known` history is checked first,
    /// then its `chain` (a push from a second device under the same node id
    /// throws `PushRefusal.nodeInUse`).
    func push(_ changes: [Change], from node: NodeID, for user: UserID, known: KnownHistory, chain: PushChain?) async throws -> PushOutcome

    /// Merges changes the server wrote itself, as a replica with node id
    /// `node` (a change through the wallabag API), exactly as a device's
    /// push. The server is no device: it is not listed, keeps no push chain,
    /// and, never pulling, must not hold back collecting deleted articles.
    func pushAsServer(_ changes: [Change], from node: NodeID, for user: UserID) async throws -> PushOutcome

    /// The changes after `cursor`, at most `limit`, in sequence order,
    /// leaving out those pushed by `origin` (the asking device has them).
    /// The device's `known` history is checked first.
    func changes(for user: UserID, after cursor: Int64, limit: Int, excludingOrigin origin: NodeID?, known: KnownHistory) async throws -> ChangePage

    // MARK: Verifying

    /// A user's merged fields, and the latest sequence number they include.
    /// Without `bodies`, the articles' bodies (most of a library's bytes)
    /// are left out: for the views that list a library and read a body only
    /// where they show one (`bodies(of:for:)`).
    func state(for user: UserID, bodies: Bool) async throws -> (registers: [RegisterKey: Register], latest: Int64)
    /// Every stored version of every field of `entities`.
    func versions(of entities: [EntitiesRequest.Address], for user: UserID) async throws -> [Change]

    // MARK: Users

    /// Creates a user holding `tokenHash`; throws `UserError.exists` for a taken name.
    func addUser(name: String, tokenHash: String) throws
    /// Replaces a user's token (the old one stops working at once).
    func replaceToken(name: String, tokenHash: String) throws
    /// Revokes a user's token; their data stays.
    func revoke(name: String) throws
    func users() throws -> [UserSummary]

    // MARK: wallabag apps
    /// Gives the user called `name` these wallabag credentials, replacing
    /// any before (every token made with those stops working), or takes
    /// them away (`nil`). Throws `UserError.unknown` for no such user.
    func setWallabagCredentials(name: String, _ credentials: WallabagCredentialHashes?) throws
    /// The user whose wallabag client id is `clientID`, unless revoked.
    func wallabagAccount(clientID: String) async throws -> WallabagAccount?

    // MARK: The web reader
    /// Gives the user called `name` this hash of a web-reader password
    /// (`WebPassword`), replacing any before, or takes it away (`nil`).
    /// Throws `UserError.unknown` for no such user.
    func setWebPassword(name: String, hash: String?) throws
    /// The user called `name`, unless revoked, and the hash of their
    /// web-reader password, if they have one.
    func webPassword(ofUserNamed name: String) async throws -> (user: UserID, hash: String)?

    // MARK: Devices

    /// Notes that `node` of `user`, calling itself `name`, asked for the
    /// changes after `pulled` (so holds everything up to it); a retired
    /// device is back. Kept in memory and written soon after, with the
    /// others seen meanwhile: a pull itself writes nothing.
    func recordSighting(of node: NodeID, for user: UserID, name: String?, pulled: Int64)
    /// The devices of the user called `name`, last seen first.
    func devices(ofUserNamed name: String) throws -> [DeviceSummary]
    /// Forgets a device of a user (listed no more, its push chain dropped; a
    /// device still in use reappears at its next sync). Returns whether there was one.
    @discardableResult
    func forgetDevice(_ node: String, ofUserNamed name: String) throws -> Bool

    // MARK: Collecting (see `Tombstone`, `CollectionPolicy`)

    /// Retires the devices unseen for longer than the policy allows, then
    /// collects, for every user, the deleted articles every device not
    /// retired has pulled past (`Tombstone`).
    func collectGarbage(now: Date, policy: CollectionPolicy) throws -> CollectionReport

    // MARK: Serving (`/ready`, `/metrics`)

    /// Throws `StoreNotReady` when the store cannot take writes now: its
    /// database does not answer, or the disk it writes to is full.
    func checkReady() async throws
    /// The bytes the store's database takes on disk.
    func databaseBytes() async throws -> Int
    /// Calls `handler` with the user and the device of every push other
    /// servers commit into this store, for as long as the store is open
    /// (so that their pulls waiting here hear of it). A store that only one
    /// process serves hears nothing: its own pushes are known without it.
    func observePushes(_ handler: @escaping @Sendable (UserID, NodeID) -> Void)

    /// Closes the database cleanly.
    func close() throws
}

/// Why a store cannot serve now (`SyncStore.checkReady`), in words for the
/// person running the server.
public struct StoreNotReady: Error, CustomStringConvertible {
    public let reason: String
    public var description: String { reason }
}

/// A store a deterministic simulation can drive step by step: the same
/// operations as `SyncStore`, synchronous, plus the merged state to check
/// replicas against. Both stores implement it, so the simulation runs
/// against each.
public protocol SteppedSyncStore: SyncStore {
    func pushNow(_ changes: [Change], from node: NodeID, for user: UserID, known: KnownHistory, chain: PushChain?) throws -> PushOutcome
    func changesNow(for user: UserID, after cursor: Int64, limit: Int, excludingOrigin origin: NodeID?, known: KnownHistory) throws -> ChangePage
    /// Every stored version of each of a user's fields, in sequence order.
    func storedVersions(for user: UserID) throws -> [RegisterKey: [Register]]
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
    /// A user's merged fields, bodies included.
    public func state(for user: UserID) async throws -> (registers: [RegisterKey: Register], latest: Int64) {
        try await state(for: user, bodies: true)
    }

    /// The merged bodies of these articles (an article without one is left out).
    func bodies(of articleIDs: [String], for user: UserID) async throws -> [String: String] {
        let addresses = articleIDs.map { EntitiesRequest.Address(kind: .article, entity: $0) }
        var versions: [String: [Register]] = [:]
        for change in try await self.versions(of: addresses, for: user) where change.field == ArticleField.content.rawValue {
            versions[change.entity, default: []].append(change.register)
        }
        return versions.compactMapValues { ServerMerge.state(of: $0)?.value.text }
    }

    /// A push from a device that shows no history (tests, first contact).
    public func push(_ changes: [Change], from node: NodeID, for user: UserID) async throws -> PushOutcome {
        try await push(changes, from: node, for: user, known: .nothing, chain: nil)
    }

    public func changes(for user: UserID, after cursor: Int64, limit: Int, excludingOrigin origin: NodeID?) async throws -> ChangePage {
        try await changes(for: user, after: cursor, limit: limit, excludingOrigin: origin, known: .nothing)
    }
}

extension SteppedSyncStore {
    /// A user's merged fields: what every replica must converge to.
    public func registers(for user: UserID) throws -> [RegisterKey: Register] {
        try storedVersions(for: user).compactMapValues(ServerMerge.state)
    }

    public func pushNow(_ changes: [Change], from node: NodeID, for user: UserID) throws -> PushOutcome {
        try pushNow(changes, from: node, for: user, known: .nothing, chain: nil)
    }

    public func changesNow(for user: UserID, after cursor: Int64, limit: Int, excludingOrigin origin: NodeID?) throws -> ChangePage {
        try changesNow(for: user, after: cursor, limit: limit, excludingOrigin: origin, known: .nothing)
    }
}

/// Why a store refused a push.
public enum PushRefusal: Error, Equatable, CustomStringConvertible {
    /// Another device pushes under this node id (`PushChain`).
    case nodeInUse(NodeID)

    /// The error code the HTTP answer carries.
    public var code: ErrorCode {
        switch self {
        case .nodeInUse: return .nodeInUse
        }
    }

    public var description: String {
        switch self {
        case .nodeInUse(let node):
            return "another device pushes under node id \(node) (a copy of this device's home, such as a cloned machine); this device must take a new node id"
        }
    }

}

/// Refusals of user management.
public enum UserError: Error, Equatable, CustomStringConvertible {
    case exists(String)
    case unknown(String)
    case invalidName(String)

    public var description: String {
        switch self {
        case .exists(let name): return "a user named '\(name)' already exists"
        case .unknown(let name): return "no user named '\(name)'"
        case .invalidName(let name): return "invalid user name '\(name)': use 1–64 letters, digits, '.', '_' or '-'"
        }
    }
}

/// When the server retires devices and collects deleted articles
/// (`readsync serve --retire-after`, `--keep-trash`).
public struct CollectionPolicy: Sendable, Equatable {
    /// A device unseen for longer is retired: it no longer holds back the
    /// collection, and is told to pull everything when it returns
    /// (`PullResponse.retired`).
    public var retireAfter: TimeInterval
    /// A deleted article stays whole in the trash for at least this long,
    /// whatever the devices pulled: measured from the delete's timestamp,
    /// and for edits that reach a collected article later (a device back
    /// from months away), from the first collection round that saw them.
    public var keepTrash: TimeInterval

    public static let days: TimeInterval = 86_400
    public static let standard = CollectionPolicy(retireAfter: 180 * days, keepTrash: 30 * days)

    public init(retireAfter: TimeInterval, keepTrash: TimeInterval) {
        self.retireAfter = retireAfter
        self.keepTrash = keepTrash
    }
}

/// What one `collectGarbage` did.
public struct CollectionReport: Sendable, Equatable {
    /// Devices newly retired.
    public var retiredDevices = 0
    /// Deleted articles collected, and the fields purged (`Tombstone`).
    public var articles = 0
    public var fields = 0

    public init() {}
}
