import Foundation
import ReadSyncCore

/// The server store in memory: the same merge and log rules as the SQLite
/// store, for simulations that run thousands of schedules. Synchronous
/// entry points let a simulated network call it step by step.
public final class MemorySyncStore: SteppedSyncStore, @unchecked Sendable {
    // @unchecked: every stored property is guarded by `lock`.
    private struct UserData {
        var tokenHash: String?
        var name: String
        /// Each field's current versions: seq → (change, the node that pushed it).
        var versions: [RegisterKey: [Int64: (change: Change, origin: NodeID)]] = [:]
        var lastSeq: Int64 = 0
        /// Each commit's last sequence number and token, in order.
        var history: [(lastSeq: Int64, token: String)] = []
        /// Empty until the store lost part of this user's history (`KnownHistory`).
        var lineage = ""
        /// Per node, the token of its last push (`PushChain`).
        var pushTokens: [NodeID: String] = [:]
        /// Per node, what `user devices` lists.
        var devices: [NodeID: (name: String, firstSeen: String, lastSeen: String, pulled: Int64)] = [:]

        mutating func saw(_ node: NodeID, name: String? = nil, pulled: Int64? = nil) {
            let now = Date().formatted(.iso8601)
            var device = devices[node] ?? (name: "", firstSeen: now, lastSeen: now, pulled: 0)
            device.lastSeen = now
            if let name { device.name = name }
            if let pulled { device.pulled = max(device.pulled, pulled) }
            devices[node] = device
        }

        func epoch(_ databaseEpoch: String) -> String { UserEpoch.of(databaseEpoch: databaseEpoch, lineage: lineage) }

        /// The token of the commit that gave out `seq`.
        func token(at seq: Int64) -> String? {
            history.first { $0.lastSeq >= seq }?.token
        }

        func checkpoint(at seq: Int64) -> HistoryCheckpoint? {
            token(at: seq).flatMap { HistoryCheckpoint(seq: seq, token: $0) }
        }

        /// Starts a new lineage when `known` shows history this store lost.
        mutating func check(_ known: KnownHistory, databaseEpoch: String) {
            if known.isLost(currentEpoch: epoch(databaseEpoch), token: token(at:)) {
                lineage = HistoryCheckpoint.randomToken()
                // The chains recorded may be older than the devices' own.
                pushTokens = [:]
            }
        }
    }

    private let lock = NSLock()
    private var accounts: [Int64: UserData] = [:]
    public let epoch: String

    public init(epoch: String = NodeID.random().rawValue) {
        self.epoch = epoch
    }

    public func close() throws {}

    // MARK: Synchronous core

    public func pushNow(_ changes: [Change], from node: NodeID, for user: UserID, known: KnownHistory, chain: PushChain?) throws -> PushOutcome {
        try lock.withLock {
            var data = accounts[user.rawValue]!
            data.check(known, databaseEpoch: epoch)
            guard !known.isAnotherDevice(recordedPush: data.pushTokens[node], currentEpoch: data.epoch(epoch), pushing: chain, isPush: true) else {
                accounts[user.rawValue] = data
                throw PushRefusal.nodeInUse(node)
            }
            var outcome = PushOutcome()
            for change in changes {
                let stored = (data.versions[change.key] ?? [:]).sorted { $0.key < $1.key }
                guard let superseded = try ServerMerge.accept(change, over: stored.map(\.value.change.register)) else {
                    outcome.ignored += 1
                    continue
                }
                for index in superseded { data.versions[change.key]![stored[index].key] = nil }
                data.lastSeq += 1
                data.versions[change.key, default: [:]][data.lastSeq] = (change, node)
                outcome.accepted += 1
            }
            if outcome.accepted > 0 {
                data.history.append((data.lastSeq, HistoryCheckpoint.randomToken()))
                outcome.checkpoint = data.checkpoint(at: data.lastSeq)
            }
            if let chain { data.pushTokens[node] = chain.token }
            data.saw(node)
            outcome.pushToken = data.pushTokens[node]
            outcome.epoch = data.epoch(epoch)
            accounts[user.rawValue] = data
            return outcome
        }
    }

    public func changesNow(for user: UserID, after cursor: Int64, limit: Int, excludingOrigin origin: NodeID?, known: KnownHistory) throws -> ChangePage {
        try lock.withLock {
            accounts[user.rawValue]!.check(known, databaseEpoch: epoch)
            let data = accounts[user.rawValue]!
            if let origin, known.isAnotherDevice(recordedPush: data.pushTokens[origin], currentEpoch: data.epoch(epoch), isPush: false) {
                throw PushRefusal.nodeInUse(origin)
            }
            let after = data.versions.values.flatMap { $0 }.filter { $0.key > cursor && $0.value.origin != origin }.sorted { $0.key < $1.key }
            let page = Array(after.prefix(limit))
            let more = after.count > limit
            let next = more ? page.last!.key : max(cursor, data.lastSeq)
            return ChangePage(changes: page.map(\.value.change), next: next, more: more, latest: data.lastSeq,
                              epoch: data.epoch(epoch), checkpoint: data.checkpoint(at: next))
        }
    }

    public func copy() -> StoreCopy { lock.withLock { StoreCopy(contents: accounts) } }

    public func restore(_ copy: StoreCopy) { lock.withLock { accounts = copy.contents as! [Int64: UserData] } }

    /// A user's merged fields: what every replica must converge to.
    public func registers(for user: UserID) -> [RegisterKey: Register] {
        lock.withLock {
            (accounts[user.rawValue]?.versions ?? [:]).compactMapValues { versions in
                ServerMerge.state(of: versions.sorted { $0.key < $1.key }.map(\.value.change.register))
            }
        }
    }

    // MARK: SyncStore

    public func user(forTokenHash hash: String) async throws -> UserID? {
        lock.withLock { accounts.first { $0.value.tokenHash == hash }.map { UserID($0.key) } }
    }

    public func push(_ changes: [Change], from node: NodeID, for user: UserID, known: KnownHistory, chain: PushChain?) async throws -> PushOutcome {
        try pushNow(changes, from: node, for: user, known: known, chain: chain)
    }

    public func changes(for user: UserID, after cursor: Int64, limit: Int, excludingOrigin origin: NodeID?, known: KnownHistory) async throws -> ChangePage {
        try changesNow(for: user, after: cursor, limit: limit, excludingOrigin: origin, known: known)
    }

    @discardableResult
    public func addUserNow(name: String, tokenHash: String) throws -> UserID {
        try lock.withLock {
            guard !accounts.values.contains(where: { $0.name == name }) else { throw UserError.exists(name) }
            let id = Int64(accounts.count + 1)
            accounts[id] = UserData(tokenHash: tokenHash, name: name)
            return UserID(id)
        }
    }

    public func addUser(name: String, tokenHash: String) throws { try addUserNow(name: name, tokenHash: tokenHash) }

    public func replaceToken(name: String, tokenHash: String) throws { try setToken(name: name, tokenHash) }

    public func revoke(name: String) throws { try setToken(name: name, nil) }

    private func setToken(name: String, _ hash: String?) throws {
        try lock.withLock {
            guard let id = accounts.first(where: { $0.value.name == name })?.key else { throw UserError.unknown(name) }
            accounts[id]!.tokenHash = hash
        }
    }

    public func state(for user: UserID) async throws -> (registers: [RegisterKey: Register], latest: Int64) {
        let latest = lock.withLock { accounts[user.rawValue]?.lastSeq ?? 0 }
        return (registers(for: user), latest)
    }

    public func versions(of entities: [EntitiesRequest.Address], for user: UserID) async throws -> [Change] {
        let wanted = Set(entities)
        return lock.withLock {
            (accounts[user.rawValue]?.versions ?? [:]).filter { wanted.contains(EntitiesRequest.Address(kind: $0.key.kind, entity: $0.key.entity)) }
                .flatMap { $0.value.sorted { $0.key < $1.key }.map(\.value.change) }
        }
    }

    public func recordSighting(of node: NodeID, for user: UserID, name: String?, pulled: Int64) {
        lock.withLock { accounts[user.rawValue]?.saw(node, name: name, pulled: pulled) }
    }

    public func devices(ofUserNamed name: String) throws -> [DeviceSummary] {
        try lock.withLock {
            guard let data = accounts.values.first(where: { $0.name == name }) else { throw UserError.unknown(name) }
            return data.devices.map { DeviceSummary(node: $0.key.rawValue, name: $0.value.name, firstSeen: $0.value.firstSeen, lastSeen: $0.value.lastSeen,
                                                    pulled: $0.value.pulled, latest: data.lastSeq) }
                .sorted { ($0.lastSeen, $0.node) > ($1.lastSeen, $1.node) }
        }
    }

    public func forgetDevice(_ node: String, ofUserNamed name: String) throws -> Bool {
        try lock.withLock {
            guard let id = accounts.first(where: { $0.value.name == name })?.key else { throw UserError.unknown(name) }
            guard let node = NodeID(node), accounts[id]!.devices[node] != nil else { return false }
            accounts[id]!.devices[node] = nil
            accounts[id]!.pushTokens[node] = nil
            return true
        }
    }

    public func users() throws -> [UserSummary] {
        lock.withLock {
            accounts.values.sorted { $0.name < $1.name }
                .map { UserSummary(name: $0.name, createdAt: "", active: $0.tokenHash != nil, changes: $0.lastSeq) }
        }
    }
}
