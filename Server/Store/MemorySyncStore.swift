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
        var wallabag: WallabagCredentialHashes?
        var webPasswordHash: String?
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
        var devices: [NodeID: Device] = [:]
        /// Per deleted article, since when its family has held still, and
        /// through which sequence number (`SQLiteSyncStore.collect`).
        var trash: [String: (since: Date, through: Int64)] = [:]

        struct Device {
            var name = ""
            var firstSeen: Date
            var lastSeen: Date
            var pulled: Int64 = 0
            var retiredAt: Date?
        }

        /// A push (no `pulled`) or a pull from `pulled` (which brings a retired device back).
        mutating func saw(_ node: NodeID, at now: Date, name: String? = nil, pulled: Int64? = nil) {
            var device = devices[node] ?? Device(firstSeen: now, lastSeen: now)
            device.lastSeen = now
            if let name { device.name = name }
            if let pulled {
                device.pulled = max(device.pulled, pulled)
                device.retiredAt = nil
            }
            devices[node] = device
        }

        /// Merges one change into its field's versions, numbering it `seq` when new.
        mutating func merge(_ change: Change, from node: NodeID, seq: Int64) throws -> ServerMerge.Outcome {
            let stored = (versions[change.key] ?? [:]).sorted { $0.key < $1.key }
            guard let superseded = try ServerMerge.accept(change, over: stored.map(\.value.change.register)) else { return .absorbed }
            for index in superseded { versions[change.key]![stored[index].key] = nil }
            versions[change.key, default: [:]][seq] = (change, node)
            return ServerMerge.outcome(superseded: superseded, of: stored.count)
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
    /// The time devices are seen at (a simulation's, in tests).
    private let clock: @Sendable () -> Date

    public init(epoch: String = NodeID.random().rawValue, clock: @escaping @Sendable () -> Date = Date.init) {
        self.epoch = epoch
        self.clock = clock
    }

    public func close() throws {}

    /// Always ready, and nothing on disk: it lives in memory (simulations).
    public func checkReady() async throws {}
    public func databaseBytes() async throws -> Int { 0 }
    public func observePushes(_ handler: @escaping @Sendable (UserID, NodeID) -> Void) {}

    // MARK: Synchronous core

    public func pushNow(_ changes: [Change], from node: NodeID, for user: UserID, known: KnownHistory, chain: PushChain?) throws -> PushOutcome {
        try push(changes, from: node, for: user, known: known, chain: chain, byDevice: true)
    }

    public func pushAsServer(_ changes: [Change], from node: NodeID, for user: UserID) async throws -> PushOutcome {
        try push(changes, from: node, for: user, known: .nothing, chain: nil, byDevice: false)
    }

    private func push(_ changes: [Change], from node: NodeID, for user: UserID, known: KnownHistory, chain: PushChain?, byDevice: Bool) throws -> PushOutcome {
        try lock.withLock {
            var data = accounts[user.rawValue]!
            data.check(known, databaseEpoch: epoch)
            guard !known.isAnotherDevice(recordedPush: data.pushTokens[node], currentEpoch: data.epoch(epoch), pushing: chain, isPush: true) else {
                accounts[user.rawValue] = data
                throw PushRefusal.nodeInUse(node)
            }
            var outcome = PushOutcome()
            for change in changes {
                guard outcome.count(try data.merge(change, from: node, seq: data.lastSeq + 1)) else { continue }
                data.lastSeq += 1
            }
            if outcome.accepted > 0 {
                data.history.append((data.lastSeq, HistoryCheckpoint.randomToken()))
                outcome.checkpoint = data.checkpoint(at: data.lastSeq)
            }
            outcome.epoch = data.epoch(epoch)
            if byDevice {
                if let chain { data.pushTokens[node] = chain.token }
                data.saw(node, at: clock())
                outcome.pushToken = data.pushTokens[node]
            }
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
            var page = PageFiller(limit: limit)
            var last = cursor
            var more = false
            for (seq, version) in after {
                guard page.add(version.change) else {
                    more = true
                    break
                }
                last = seq
            }
            let next = more ? last : max(cursor, data.lastSeq)
            return ChangePage(
                changes: page.changes, next: next, more: more, latest: data.lastSeq,
                epoch: data.epoch(epoch), checkpoint: data.checkpoint(at: next),
                retired: origin.map { data.devices[$0]?.retiredAt != nil } ?? false)
        }
    }

    public func copy() -> StoreCopy { lock.withLock { StoreCopy(contents: accounts) } }

    public func restore(_ copy: StoreCopy) { lock.withLock { accounts = copy.contents as! [Int64: UserData] } }

    public func storedVersions(for user: UserID) -> [RegisterKey: [Register]] {
        lock.withLock {
            (accounts[user.rawValue]?.versions ?? [:]).mapValues { versions in versions.sorted { $0.key < $1.key }.map(\.value.change.register) }
        }
    }

    // MARK: SyncStore

    public func user(forTokenHash hash: String) async throws -> UserID? {
        lock.withLock { accounts.first { $0.value.tokenHash == hash }.map { UserID($0.key) } }
    }

    public func setWallabagCredentials(name: String, _ credentials: WallabagCredentialHashes?) throws {
        try lock.withLock {
            guard let id = accounts.first(where: { $0.value.name == name })?.key else { throw UserError.unknown(name) }
            accounts[id]?.wallabag = credentials
        }
    }

    public func setWebPassword(name: String, hash: String?) throws {
        try lock.withLock {
            guard let id = accounts.first(where: { $0.value.name == name })?.key else { throw UserError.unknown(name) }
            accounts[id]?.webPasswordHash = hash
        }
    }

    public func webPassword(ofUserNamed name: String) async throws -> (user: UserID, hash: String)? {
        lock.withLock {
            accounts.first { $0.value.name == name && $0.value.tokenHash != nil && $0.value.webPasswordHash != nil }
                .map { (UserID($0.key), $0.value.webPasswordHash!) }
        }
    }

    public func wallabagAccount(clientID: String) async throws -> WallabagAccount? {
        lock.withLock {
            accounts.first { $0.value.wallabag?.clientID == clientID && $0.value.tokenHash != nil }.map {
                WallabagAccount(user: UserID($0.key), name: $0.value.name, credentials: $0.value.wallabag!)
            }
        }
    }

    public func user(named name: String, secretHash hash: String) async throws -> UserID? {
        lock.withLock {
            accounts.first { $0.value.name == name && $0.value.tokenHash != nil && ($0.value.tokenHash == hash || $0.value.wallabag?.passwordHash == hash) }
                .map { UserID($0.key) }
        }
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

    public func state(for user: UserID, bodies: Bool) async throws -> (registers: [RegisterKey: Register], latest: Int64) {
        let latest = lock.withLock { accounts[user.rawValue]?.lastSeq ?? 0 }
        let registers = try registers(for: user)
        return (bodies ? registers : registers.filter { !($0.key.kind == .article && $0.key.field == ArticleField.content.rawValue) }, latest)
    }

    public func versions(of entities: [EntitiesRequest.Address], for user: UserID) async throws -> [Change] {
        let wanted = Set(entities)
        return lock.withLock {
            (accounts[user.rawValue]?.versions ?? [:]).filter { wanted.contains(EntitiesRequest.Address(kind: $0.key.kind, entity: $0.key.entity)) }
                .flatMap { $0.value.sorted { $0.key < $1.key }.map(\.value.change) }
        }
    }

    public func recordSighting(of node: NodeID, for user: UserID, name: String?, pulled: Int64) {
        let now = clock()
        lock.withLock { accounts[user.rawValue]?.saw(node, at: now, name: name, pulled: pulled) }
    }

    public func devices(ofUserNamed name: String) throws -> [DeviceSummary] {
        try lock.withLock {
            guard let data = accounts.values.first(where: { $0.name == name }) else { throw UserError.unknown(name) }
            return data.devices.map {
                DeviceSummary(
                    node: $0.key.rawValue, name: $0.value.name, firstSeen: $0.value.firstSeen.formatted(.iso8601),
                    lastSeen: $0.value.lastSeen.formatted(.iso8601), pulled: $0.value.pulled, latest: data.lastSeq,
                    retiredAt: $0.value.retiredAt?.formatted(.iso8601))
            }
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

    // MARK: Collecting (as `SQLiteSyncStore.collect`)

    public func collectGarbage(now: Date, policy: CollectionPolicy) throws -> CollectionReport {
        try lock.withLock {
            var report = CollectionReport()
            for id in accounts.keys.sorted() {
                var data = accounts[id]!
                try collect(&data, now: now, policy: policy, into: &report)
                accounts[id] = data
            }
            return report
        }
    }

    private func collect(_ data: inout UserData, now: Date, policy: CollectionPolicy, into report: inout CollectionReport) throws {
        // Seconds, as the SQLite store keeps times.
        func seconds(_ date: Date) -> Date { Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.down)) }
        for (node, device) in data.devices where device.retiredAt == nil && seconds(device.lastSeen) < seconds(now.addingTimeInterval(-policy.retireAfter)) {
            data.devices[node]!.retiredAt = now
            report.retiredDevices += 1
        }
        guard !data.devices.isEmpty else { return }
        let horizon = data.devices.values.filter { $0.retiredAt == nil }.map(\.pulled).min() ?? data.lastSeq
        let candidates = data.versions.filter { key, versions in
            key.kind == .article && key.field == ArticleField.deleted.rawValue
                && ServerMerge.state(of: versions.sorted { $0.key < $1.key }.map(\.value.change.register))?.value == .bool(true)
        }.keys.map(\.entity).sorted()
        var notes: [String: Set<String>] = [:]
        for (key, versions) in data.versions where key.kind == .note && key.field == NoteField.articleID.rawValue {
            for version in versions.values { if let article = version.change.value.text { notes[article, default: []].insert(key.entity) } }
        }
        let collector = NodeID("gc-" + data.epoch(epoch))!
        let before = data.lastSeq
        for article in candidates {
            let family = data.versions.filter { key, _ in
                Tombstone.article(of: key.kind, entity: key.entity, noteArticle: notes[article]?.contains(key.entity) == true ? article : nil) == article
            }
            let purgeable = family.filter { key, versions in
                Tombstone.isPurged(kind: key.kind, field: key.field) && versions.values.contains { $0.change.value != .null }
            }
            guard !purgeable.isEmpty else { continue }
            let latest = family.values.flatMap(\.keys).max()!
            if latest > data.trash[article]?.through ?? 0 { data.trash[article] = (now, latest) }
            guard seconds(data.trash[article]!.since) <= seconds(now.addingTimeInterval(-policy.keepTrash)), latest <= horizon else { continue }
            for (key, versions) in purgeable.sorted(by: { $0.key.description < $1.key.description }) {
                let purge = Tombstone.purge(over: versions.values.map(\.change.register), by: collector)
                guard try data.merge(Change(key: key, register: purge), from: collector, seq: data.lastSeq + 1) != .absorbed else {
                    preconditionFailure("a collection's version was not taken")
                }
                data.lastSeq += 1
            }
            data.trash[article]!.through = data.lastSeq
            report.articles += 1
            report.fields += purgeable.count
        }
        if data.lastSeq > before {
            data.history.append((data.lastSeq, HistoryCheckpoint.randomToken()))
        }
    }

    public func users() throws -> [UserSummary] {
        lock.withLock {
            accounts.values.sorted { $0.name < $1.name }
                .map { UserSummary(name: $0.name, createdAt: "", active: $0.tokenHash != nil, changes: $0.lastSeq) }
        }
    }
}
