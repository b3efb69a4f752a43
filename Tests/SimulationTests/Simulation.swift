import Foundation
import GRDB
import ReadSyncArticles
import ReadSyncCore
import ReadSyncServer
import ReadSyncTestSupport
import SeededRandom

@testable import ReadSyncClient

/// A deterministic simulation of one user's devices and the server: random
/// edits, sync steps split into their real parts with network faults between
/// them, clocks that are skewed, run backwards or stand still, devices that
/// go away for longer than the server keeps track of them, and the server
/// collecting deleted articles. Everything derives from the seed, so a
/// failure reproduces from it.
final class Simulation {
    let seed: UInt64
    private var rng: SeededGenerator
    /// The true time, which the server's clock follows (the server store
    /// tells when it saw devices by it too).
    let serverClock: ManualWallClock
    static let start: Int64 = 1_750_000_000_000
    /// Simulated time passes at about 1.5 seconds a step: devices away for
    /// 30 seconds are retired.
    static let collection = CollectionPolicy(retireAfter: 30, keepTrash: 0)
    let server: any SteppedSyncStore
    let user: UserID
    private(set) var replicas: [Replica] = []
    private var trace: [String] = []
    /// Every write any replica made, by register, version vector and the
    /// replica that made it (a write's identity: two replicas that share a
    /// node id may make writes with one vector); re-stamping updates its
    /// timestamp.
    private var writes: [RegisterKey: [WriteID: Register]] = [:]

    struct WriteID: Hashable {
        let vector: VersionVector
        let replica: String
    }
    /// The server's data as last backed up (a copy of its data folder).
    private var backup: StoreCopy?
    /// Batches the network holds back, to deliver late and out of order.
    private var delayed: [(changes: [Change], node: NodeID, known: KnownHistory, chain: PushChain)] = []
    /// Every version a push delivered to the server, by field: a device's
    /// own writes, or its merge of them with versions it had received (a
    /// push sends a field's current version), and the server's own purges
    /// when it collects a deleted article. A write overwritten on its device
    /// before any push reached nobody: it is in `writes` only.
    private var delivered: [RegisterKey: Set<Register>] = [:]
    private(set) var stats = Stats()

    struct Stats {
        var operations = 0, pushes = 0, pulls = 0, faults = 0, refusedForSkew = 0, restamped = 0, resyncs = 0
        var backups = 0, restores = 0, copiedHomes = 0, nodeMoves = 0
        var absences = 0, collections = 0, collectedArticles = 0, retirements = 0, returnsFromRetirement = 0
    }

    final class Replica {
        let name: String
        let list: ReadingList
        let clock: ManualWallClock
        var mode: ClockMode = .accurate
        /// Until when (server time) it is away: it edits, but reaches no server.
        var awayUntil: Int64 = 0
        var store: ClientStore { list.store }

        convenience init(name: String, index: Int, clock: ManualWallClock) throws {
            try self.init(name: name, index: index, clock: clock, store: ClientStore(inMemoryWith: clock, node: NodeID("n\(index)")!))
        }

        /// A copy of `original`'s home on another machine (a cloned virtual
        /// machine: nothing tells the copy it is one), node id included.
        convenience init(copying original: Replica, name: String, index: Int, clock: ManualWallClock) throws {
            try self.init(name: name, index: index, clock: clock, store: ClientStore(inMemoryCopyOf: original.store, wallClock: clock))
        }

        private init(name: String, index: Int, clock: ManualWallClock, store: ClientStore) throws {
            self.name = name
            self.clock = clock
            list = ReadingList(store: store)
            // Note ids from a counter, so that runs repeat exactly.
            var next = 0
            list.makeNoteID = {
                next += 1
                return "\(index)-\(next)"  // digits and a dash: a valid note id
            }
        }
    }

    enum ClockMode: CustomStringConvertible {
        case accurate
        case skewed(Int64)
        case backwards(from: Int64)
        case frozen(at: Int64)

        var description: String {
            switch self {
            case .accurate: return "accurate"
            case .skewed(let ms): return "skewed \(ms / 60_000) min"
            case .backwards: return "running backwards"
            case .frozen: return "frozen"
            }
        }
    }

    static let urls = (0..<5).map { CanonicalURL("https://news.example/story-\($0)?utm_source=sim")! }
    static let tags = ["later", "work", "long read"]
    static let maxSkew: Int64 = 24 * 3_600_000

    /// `server` sees devices at the time of `serverClock`.
    init(seed: UInt64, replicaCount: Int, server: any SteppedSyncStore, serverClock: ManualWallClock) throws {
        self.seed = seed
        self.server = server
        self.serverClock = serverClock
        rng = SeededGenerator(seed: seed)
        user = try server.addUserNow(name: "alice", tokenHash: "simulated")
        for index in 0..<replicaCount {
            let clock = ManualWallClock(milliseconds: serverClock.nowMilliseconds())
            replicas.append(try Replica(name: "r\(index)", index: index, clock: clock))
        }
    }

    // MARK: Running

    /// Runs `steps` random steps, then heals clocks and network and syncs
    /// every replica until nothing moves.
    func run(steps: Int) throws {
        do {
            try runSteps(steps)
        } catch let failure as SimulationFailure {
            throw failure
        } catch {
            // An error from a store or the engine: reported with the steps that led to it.
            throw SimulationFailure(seed: seed, problem: "\(error)", trace: trace)
        }
    }

    private func runSteps(_ steps: Int) throws {
        for _ in 0..<steps {
            advanceTime()
            let replica = replicas.randomElement(using: &rng)!
            switch Int.random(in: 0..<100, using: &rng) {
            case 0..<45: try randomEdit(on: replica)
            case 45..<65: try pushStep(replica)
            case 65..<85: try pullStep(replica)
            case 85..<91: changeClock(of: replica)
            case 91..<93: try backUpOrRestoreServer()
            case 93: try copyHome(of: replica)
            case 94: goAway(replica)
            case 95..<97: try collect(policy: Self.collection)
            default: try deliverDelayed()
            }
        }
        try quiesce()
        // Past any delete a clock ahead may have stamped (as far as the server
        // allows), with every device seen since, everything deleted is
        // collected (twice: edits that reached an article after an earlier
        // collection wait one round), and every device purges it too.
        serverClock.advance(by: SyncProtocol.maxClockSkewMilliseconds + 1_000)
        try quiesce()
        try collect(policy: Self.collection)
        try collect(policy: Self.collection)
        try quiesce()
    }

    private func advanceTime() {
        let elapsed = Int64.random(in: 0...3_000, using: &rng)
        serverClock.advance(by: elapsed)
        let now = serverClock.nowMilliseconds()
        for replica in replicas {
            switch replica.mode {
            case .accurate: replica.clock.set(now)
            case .skewed(let skew): replica.clock.set(now + skew)
            case .backwards: replica.clock.advance(by: -2 * elapsed)
            case .frozen(let at): replica.clock.set(at)
            }
        }
    }

    private func changeClock(of replica: Replica) {
        let now = serverClock.nowMilliseconds()
        switch Int.random(in: 0..<4, using: &rng) {
        case 0: replica.mode = .accurate
        case 1: replica.mode = .skewed(Int64.random(in: -Self.maxSkew...Self.maxSkew, using: &rng))
        case 2: replica.mode = .backwards(from: replica.clock.nowMilliseconds())
        default: replica.mode = .frozen(at: now + Int64.random(in: -Self.maxSkew...Self.maxSkew, using: &rng))
        }
        if case .frozen(let at) = replica.mode { replica.clock.set(at) }
        log("\(replica.name) clock \(replica.mode)")
    }

    // MARK: Edits

    private func randomEdit(on replica: Replica) throws {
        stats.operations += 1
        try recordingWrites(of: replica) { try edit(on: replica) }
    }

    private func edit(on replica: Replica) throws {
        let list = replica.list
        let live = try list.list().map(\.id)
        let article = live.randomElement(using: &rng)
        do {
            switch Int.random(in: 0..<12, using: &rng) {
            case 0, 1, 2:
                let url = Self.urls.randomElement(using: &rng)!
                let variant = Int.random(in: 0..<2, using: &rng)
                let id = try list.add(ArticleDraft(url: url, title: "Story \(url.slug!) v\(variant)", content: "Body of \(url.string), version \(variant)")).id
                log("\(replica.name) add \(id.prefix(6)) v\(variant)")
            case 3:
                guard let article else { return }
                let note = try list.addNote(to: article, body: "note \(Int.random(in: 0..<1000, using: &rng))")
                log("\(replica.name) note \(note.prefix(6)) on \(article.prefix(6))")
            case 4:
                guard let article, let note = try list.show(article).notes.randomElement(using: &rng) else { return }
                if Bool.random(using: &rng) {
                    try list.editNote(note.id, body: "edited \(Int.random(in: 0..<1000, using: &rng))")
                    log("\(replica.name) note-edit \(note.id.prefix(6))")
                } else {
                    try list.deleteNote(note.id)
                    log("\(replica.name) note-delete \(note.id.prefix(6))")
                }
            case 5:
                guard let article else { return }
                let read = Bool.random(using: &rng)
                try list.setRead(article, read)
                log("\(replica.name) \(read ? "read" : "unread") \(article.prefix(6))")
            case 6:
                guard let article else { return }
                let percent = Double(Int.random(in: 0...100, using: &rng))
                try list.setProgress(article, percent: percent)
                log("\(replica.name) progress \(article.prefix(6)) \(Int(percent))")
            case 7:
                guard let article else { return }
                let on = Bool.random(using: &rng)
                if Bool.random(using: &rng) { try list.setFavorite(article, on) } else { try list.setArchived(article, on) }
                log("\(replica.name) flag \(article.prefix(6)) \(on)")
            case 8, 9:
                guard let article else { return }
                let tag = Self.tags.randomElement(using: &rng)!
                let add = Bool.random(using: &rng)
                try list.tag(article, add: add ? [tag] : [], remove: add ? [] : [tag])
                log("\(replica.name) tag \(article.prefix(6)) \(add ? "+" : "-")\(tag)")
            case 10:
                guard let article else { return }
                try list.delete(article)
                log("\(replica.name) delete \(article.prefix(6))")
            default:
                guard let deleted = try list.trash().randomElement(using: &rng) else { return }
                try list.restore(deleted.id)
                log("\(replica.name) restore \(deleted.id.prefix(6))")
            }
        } catch is any LibraryRefusal {
            return  // e.g. restoring what a sync just restored: refused, nothing written
        }
    }

    /// The current versions of the fields waiting in the replica's outbox.
    private func waitingVersions(of replica: Replica) throws -> [RegisterKey: Register] {
        let changes = try replica.store.pendingBatch(limit: Int.max, maxBytes: Int.max)?.changes ?? []
        return Dictionary(uniqueKeysWithValues: changes.map { ($0.key, $0.register) })
    }

    /// Runs a local operation (a command, or re-stamping) and remembers, for
    /// the reference model, the versions it wrote: the waiting fields whose
    /// version it changed (nothing else changes a field while it runs). A
    /// re-stamped write keeps its vector, so its entry is replaced.
    private func recordingWrites<T>(of replica: Replica, _ operation: () throws -> T) throws -> T {
        let before = try waitingVersions(of: replica)
        let result = try operation()
        for (key, register) in try waitingVersions(of: replica) where before[key] != register {
            writes[key, default: [:]][WriteID(vector: register.vector, replica: replica.name)] = register
        }
        return result
    }

    // MARK: Sync steps, with faults

    private func isAway(_ replica: Replica) -> Bool { serverClock.nowMilliseconds() < replica.awayUntil }

    private func pushStep(_ replica: Replica) throws {
        guard !isAway(replica) else { return }
        guard let batch = try replica.store.pendingBatch(limit: Int.random(in: 1...6, using: &rng)) else { return }
        stats.pushes += 1
        guard try settlePendingPush(of: replica) else { return }
        let fault = Int.random(in: 0..<10, using: &rng)
        if fault == 0 {
            stats.faults += 1
            log("\(replica.name) push \(batch.changes.count): request lost")
            return
        }
        if fault == 1 {
            // It arrives later, out of order.
            delayed.append((batch.changes, replica.store.node, try replica.store.syncState().known, try replica.store.nextPushChain()))
            stats.faults += 1
            log("\(replica.name) push \(batch.changes.count): held back by the network")
            return
        }
        if SyncProtocol.excessiveSkew(of: batch.changes, serverTime: serverClock.nowMilliseconds()) != nil {
            stats.refusedForSkew += 1
            log("\(replica.name) push \(batch.changes.count): refused, clock ahead")
            // What `SyncEngine` does on the same refusal.
            if ClockSkewRecovery.clockAgrees(replica.store.wallClock, serverTime: serverClock.nowMilliseconds()) {
                let count = try recordingWrites(of: replica) {
                    try ClockSkewRecovery.restampRefused(replica.store, serverTime: serverClock.nowMilliseconds())
                }
                stats.restamped += count
                log("\(replica.name) re-stamped \(count)")
            }
            return
        }
        let known = try replica.store.syncState().known
        let chain = try replica.store.nextPushChain()
        let outcome: PushOutcome
        do {
            outcome = try deliver(batch.changes, from: replica.store.node, known: known, chain: chain)
        } catch PushRefusal.nodeInUse {
            try moveToNewNode(replica)
            return
        }
        if fault == 2 {
            _ = try deliver(batch.changes, from: replica.store.node, known: known, chain: chain)  // delivered twice
            stats.faults += 1
        }
        if fault == 3 {
            stats.faults += 1
            log("\(replica.name) push \(batch.changes.count): accepted \(outcome.accepted), ack lost")
            return
        }
        guard try sameServer(outcome.epoch, replica) else {
            log("\(replica.name) push \(batch.changes.count): the server has a new epoch, resync")
            return
        }
        // `SyncEngine` acknowledges in two steps; it may stop between them.
        try replica.store.recordStored(batch, checkpoint: outcome.checkpoint, pushToken: outcome.pushToken)
        if fault == 4 {
            stats.faults += 1
            log("\(replica.name) push \(batch.changes.count): accepted \(outcome.accepted), stopped before its fields left the outbox")
            return
        }
        try replica.store.takeOutOfOutbox(batch)
        log("\(replica.name) push \(batch.changes.count): accepted \(outcome.accepted)")
    }

    /// What `SyncEngine` does before it sends writes after a push whose
    /// answer was lost: two empty pushes, so that the chain moves on with a
    /// token of this device's alone (a copy of the home holds the pending one).
    /// Returns false when the step ends here (a new node id, or a new server).
    private func settlePendingPush(of replica: Replica) throws -> Bool {
        guard try replica.store.syncState().pendingPush != nil else { return true }
        for _ in 0..<2 {
            let outcome: PushOutcome
            do {
                outcome = try deliver([], from: replica.store.node, known: try replica.store.syncState().known, chain: try replica.store.nextPushChain())
            } catch PushRefusal.nodeInUse {
                try moveToNewNode(replica)
                return false
            }
            guard try sameServer(outcome.epoch, replica) else {
                log("\(replica.name) settling its pending push: the server has a new epoch, resync")
                return false
            }
            try replica.store.recordPushToken(outcome.pushToken)
        }
        log("\(replica.name) settled its pending push")
        return true
    }

    /// The engine's rule: adopt the first epoch; on another, start again from zero.
    private func sameServer(_ epoch: String, _ replica: Replica) throws -> Bool {
        guard let known = try replica.store.syncState().epoch else {
            try replica.store.adoptEpoch(epoch)
            return true
        }
        guard known != epoch else { return true }
        try replica.store.resetForResync(epoch: epoch)
        stats.resyncs += 1
        return false
    }

    /// The server saw another device push under `replica`'s node id.
    private func moveToNewNode(_ replica: Replica) throws {
        try record(try replica.store.moveToNewNode(), of: replica)
    }

    /// A waiting write stamped again under a new node id is the same write
    /// under a new identity (its vector changed with its stamp).
    private func record(_ move: DeviceIdentity.Fork, of replica: Replica) throws {
        for restamp in move.restamped {
            // Its earlier versions overwritten on this replica before any push
            // reached the server were seen by nobody: they go with it.
            // (A waiting write made before the home was copied is the
            // original's, which may still send it as it is.)
            let sent = delivered[restamp.key] ?? []
            for (id, write) in writes[restamp.key] ?? [:]
            where id.replica == replica.name && id.vector.compare(restamp.before.vector) == .before && !sent.contains(write) {
                writes[restamp.key]![id] = nil
            }
            writes[restamp.key]?[WriteID(vector: restamp.before.vector, replica: replica.name)] = nil
            writes[restamp.key, default: [:]][WriteID(vector: restamp.after.vector, replica: replica.name)] = restamp.after
            // Sent before, accepted, then lost in a restore of the server,
            // and held by nobody now: this re-stamped copy is all that is
            // left of it, and the final state cannot merge it any more.
            if delivered[restamp.key]?.contains(restamp.before) == true, try !isHeld(restamp.before, at: restamp.key) {
                delivered[restamp.key]!.remove(restamp.before)
            }
        }
        stats.nodeMoves += 1
        log("\(replica.name): the server saw its node id \(move.from) in use elsewhere; now \(move.to), \(move.restamped.count) writes re-stamped")
    }

    /// Whether the server, a device or a batch still on its way holds
    /// `version`, or a version that saw it.
    private func isHeld(_ version: Register, at key: RegisterKey) throws -> Bool {
        let held =
            try server.storedVersions(for: user)[key] ?? []
            + replicas.compactMap { try $0.store.registers()[key] }
            + delayed.flatMap { $0.changes.filter { $0.key == key }.map(\.register) }
        return held.contains { [.equal, .before].contains(version.vector.compare($0.vector)) }
    }

    private func deliver(_ changes: [Change], from node: NodeID, known: KnownHistory, chain: PushChain?) throws -> PushOutcome {
        let outcome = try server.pushNow(changes, from: node, for: user, known: known, chain: chain)
        for change in changes { delivered[change.key, default: []].insert(change.register) }
        return outcome
    }

    private func deliverDelayed() throws {
        guard !delayed.isEmpty else { return }
        let (changes, node, known, chain) = delayed.remove(at: Int.random(in: 0..<delayed.count, using: &rng))
        if SyncProtocol.excessiveSkew(of: changes, serverTime: serverClock.nowMilliseconds()) == nil {
            do {
                let outcome = try deliver(changes, from: node, known: known, chain: chain)
                log("late push of \(changes.count) delivered: accepted \(outcome.accepted)")
            } catch PushRefusal.nodeInUse {
                log("late push of \(changes.count) refused: its node id is in use by another device")
            }
        }
    }

    private func pullStep(_ replica: Replica) throws {
        guard !isAway(replica) else { return }
        let state = try replica.store.syncState()
        let cursor = state.cursor
        let page: ChangePage
        do {
            page = try server.changesNow(
                for: user, after: cursor, limit: Int.random(in: 1...6, using: &rng), excludingOrigin: replica.store.node,
                known: state.known)
        } catch PushRefusal.nodeInUse {
            return try moveToNewNode(replica)
        }
        stats.pulls += 1
        // As the HTTP server notes every pull.
        server.recordSighting(of: replica.store.node, for: user, name: nil, pulled: cursor)
        guard try sameServer(page.epoch, replica) else {
            log("\(replica.name) pull after \(cursor): the server has a new epoch, resync")
            return
        }
        if cursor > page.latest {
            try replica.store.resetForResync(epoch: page.epoch)
            stats.resyncs += 1
            log("\(replica.name) pull after \(cursor): the server lost changes, resync")
            return
        }
        if page.retired, cursor > 0 {
            // The engine's rule: a device the server retired pulls everything again.
            try replica.store.prepareToPullEverything()
            stats.returnsFromRetirement += 1
            log("\(replica.name) pull after \(cursor): retired by the server; pulls everything")
            return
        }
        switch Int.random(in: 0..<10, using: &rng) {
        case 0:
            stats.faults += 1
            log("\(replica.name) pull after \(cursor): response lost")
        case 1:
            // The page was applied but the process died before the cursor was written.
            stats.faults += 1
            try replica.store.database.write { db in
                _ = try RemoteApply(db: db, node: replica.store.node, wallClock: replica.clock).apply(page.changes)
            }
            log("\(replica.name) pull after \(cursor): \(page.changes.count) applied, cursor write lost")
        case 2:
            stats.faults += 1
            _ = try replica.store.applyPulled(page.changes, cursor: page.next, checkpoint: page.checkpoint)
            _ = try replica.store.applyPulled(page.changes, cursor: page.next, checkpoint: page.checkpoint)
            log("\(replica.name) pull after \(cursor): \(page.changes.count) applied twice")
        default:
            _ = try replica.store.applyPulled(page.changes, cursor: page.next, checkpoint: page.checkpoint)
            log("\(replica.name) pull after \(cursor): \(page.changes.count) applied")
        }
    }

    // MARK: The server's disk

    /// Takes a copy of the server's data, or puts the last one back (the disk
    /// died): what was accepted since is lost to the server, and must come
    /// back from the devices that hold it.
    private func backUpOrRestoreServer() throws {
        // Not in a run with a copied home: see `copyHome`.
        guard stats.copiedHomes == 0 else { return }
        if let backup, Bool.random(using: &rng) {
            try server.restore(backup)
            stats.restores += 1
            log("server restored from its backup")
        } else {
            backup = try server.copy()
            stats.backups += 1
            log("server backed up")
        }
    }

    /// Copies `replica`'s home to a new machine, once per run: both go on
    /// writing under one node id until the server notices.
    ///
    /// Not in a run whose server was backed up: a server restored to a point
    /// between the two copies' pushes forgets which of them it had heard
    /// from, and both may then be accepted under one id. That case is open
    /// (README, Known limits).
    private func copyHome(of replica: Replica) throws {
        guard stats.copiedHomes == 0, stats.backups == 0 else { return }
        let clock = ManualWallClock(milliseconds: serverClock.nowMilliseconds())
        let copy = try Replica(copying: replica, name: "\(replica.name)-copy", index: replicas.count, clock: clock)
        replicas.append(copy)
        stats.copiedHomes += 1
        log("\(replica.name)'s home copied to \(copy.name), node id \(copy.store.node) and all")
    }

    // MARK: Absence and collection

    /// `replica` goes away (a drawer, a long trip) for longer than the
    /// server keeps track of devices, still editing offline.
    private func goAway(_ replica: Replica) {
        guard !isAway(replica) else { return }
        replica.awayUntil = serverClock.nowMilliseconds() + Int64.random(in: 40_000...90_000, using: &rng)
        stats.absences += 1
        log("\(replica.name) goes away")
    }

    /// The server retires devices away too long and collects deleted
    /// articles: its purges are writes, in the reference model too.
    private func collect(policy: CollectionPolicy) throws {
        let before = try server.registers(for: user)
        let now = Date(timeIntervalSince1970: Double(serverClock.nowMilliseconds()) / 1000)
        let report = try server.collectGarbage(now: now, policy: policy)
        for (key, register) in try server.registers(for: user) where before[key] != register {
            guard register.value == .null, register.timestamp.node.rawValue.hasPrefix("gc-") else {
                throw SimulationFailure(seed: seed, problem: "\(key) changed in a collection but not to a purge", trace: trace)
            }
            delivered[key, default: []].insert(register)
            writes[key, default: [:]][WriteID(vector: register.vector, replica: "collector")] = register
        }
        stats.collections += 1
        stats.collectedArticles += report.articles
        stats.retirements += report.retiredDevices
        log("server collected \(report.articles) articles (\(report.fields) fields), retired \(report.retiredDevices) devices")
    }

    // MARK: Quiescence

    /// Every clock set right, every held-back batch delivered, and the real
    /// sync engine run on every replica until a whole round moves nothing.
    private func quiesce() throws {
        for replica in replicas {
            replica.mode = .accurate
            replica.clock.set(serverClock.nowMilliseconds())
            replica.awayUntil = 0
        }
        while !delayed.isEmpty { try deliverDelayed() }
        log("-- clocks set right; syncing to quiescence")
        for round in 0..<6 {
            var moved = 0
            for replica in replicas {
                let transport = InProcessTransport(server: server, user: user, clock: serverClock)
                // Every other round the server is an older one, which answers
                // no pull within a push: the device pulls on its own.
                transport.answersPullsInPushes = round % 2 == 0
                // Pushed changes carry the final timestamps of re-stamped writes.
                // A push sends each waiting field's current version, which may
                // be a merge of writes rather than a write: what it records is
                // only a write re-stamped by the engine (same vector, value and
                // writer as one already recorded, a new timestamp).
                transport.onPush = { [unowned self] changes in
                    for change in changes {
                        delivered[change.key, default: []].insert(change.register)
                        let id = WriteID(vector: change.vector, replica: replica.name)
                        guard let recorded = writes[change.key]?[id], recorded.value == change.value,
                            recorded.timestamp.node == change.timestamp.node
                        else { continue }
                        writes[change.key]![id] = change.register
                    }
                }
                let summary = try SyncEngine(store: replica.store, transport: transport, server: "sim", pageSize: 4).run()
                if let move = summary.movedToNode { try record(move, of: replica) }
                moved += summary.pushed + summary.pulled
                stats.restamped += summary.restamped
                if summary.resynchronised { stats.resyncs += 1 }
                if summary.returnedFromRetirement { stats.returnsFromRetirement += 1 }
                if summary.pushed + summary.pulled > 0 {
                    log(
                        "\(replica.name) sync: pushed \(summary.pushed), pulled \(summary.pulled)"
                            + (summary.returnedFromRetirement ? ", back from retirement" : "") + (summary.resynchronised ? ", resynchronised" : ""))
                }
            }
            if moved == 0 { return }
            if round == 5 { throw SimulationFailure(seed: seed, problem: "still moving changes after 6 sync rounds", trace: trace) }
        }
    }

    // MARK: Checks

    /// The invariants of DESIGN.md, checked on the quiescent state.
    func check() throws {
        func fail(_ problem: String) -> SimulationFailure { SimulationFailure(seed: seed, problem: problem, trace: trace) }
        let serverRegisters = try server.registers(for: user)

        // 1. Every replica holds exactly the server's registers.
        for replica in replicas {
            let local = try replica.store.registers()
            guard local == serverRegisters else {
                for (key, register) in local where serverRegisters[key] != register {
                    log("\(replica.name) \(key): \(register) vs server \(String(describing: serverRegisters[key]))")
                }
                throw fail("\(replica.name) diverged from the server (\(local.count) registers vs \(serverRegisters.count))")
            }
            guard try replica.store.pendingChangeCount() == 0 else { throw fail("\(replica.name) still has unsynced changes") }
            // The full-text index holds exactly what its external content says.
            let outOfStep = try replica.store.database.write(SearchIndex.partsOutOfStep)
            guard outOfStep.isEmpty else { throw fail("\(replica.name)'s \(outOfStep.map(\.index).joined(separator: " and ")) differs from its library") }
        }

        // 2. That state is what a reference model computes from every version
        //    delivered: the merge of all of them, register by register.
        guard Set(writes.keys) == Set(serverRegisters.keys), Set(delivered.keys) == Set(writes.keys) else {
            throw fail("a written register is missing, or one appeared unwritten")
        }
        for (key, versions) in writes {
            let all = Array(delivered[key]!)
            let expected = all.dropFirst().reduce(all[0]) { Register.merge($0, $1).merged }
            guard serverRegisters[key] == expected else {
                func show(_ r: Register?) -> String {
                    r.map { "\($0.value) @\($0.timestamp) \($0.vector.counters.map { "\($0.key):\($0.value)" }.sorted())" } ?? "none"
                }
                throw fail(
                    "\(key) is not the merge of its writes: expected \(show(expected)), server has \(show(serverRegisters[key]))\nwrites: \(all.map(show).joined(separator: " | "))"
                )
            }

            // 3. A causally later write always carries a larger timestamp
            //    (among the writes that reached the server: one overwritten
            //    before it was sent, under a clock that was wrong, is
            //    re-stamped with its successor no more).
            let sent = versions.values.filter { all.contains($0) }
            for earlier in sent {
                for later in sent where earlier.vector.compare(later.vector) == .before {
                    guard later.timestamp > earlier.timestamp else { throw fail("\(key): a causally later write has a smaller timestamp") }
                }
            }
        }

        // 4. Nothing vanished: a write that is not the final value was either
        //    superseded by a write that saw it, or carries the final value, or
        //    is kept as a conflict loser (by its timestamp, or a loser with its
        //    value: concurrent writes of one value merge without a conflict
        //    and then lose as one, listed under the timestamp of whichever
        //    won among them; matching timestamps alone fails seed 267);
        //    a collection's purge is a write that saw what it purged.
        //    Bookkeeping times are exempt: the later simply wins.
        var losers = Set<String>()
        for replica in replicas {
            for conflict in try replica.store.read({ try Row.fetchAll($0, sql: "SELECT kind, entity, field, lost_timestamp, lost_value FROM conflicts") }) {
                let key = "\(conflict["kind"] as String)/\(conflict["entity"] as String)/\(conflict["field"] as String)"
                losers.insert("\(key)@\(conflict["lost_timestamp"] as String)")
                losers.insert("\(key)=\(conflict["lost_value"] as String)")
            }
        }
        for (key, versions) in writes where !key.kind.isBookkeeping(key.field) {
            let final = serverRegisters[key]
            for write in versions.values where write.timestamp != final?.timestamp && write.value != final?.value {
                let superseded = versions.values.contains { write.vector.compare($0.vector) == .before }
                let valueText = try WireCoding.text(write.value)
                let kept = losers.contains("\(key)@\(write.timestamp.encoded)") || losers.contains("\(key)=\(valueText)")
                guard superseded || kept else {
                    let versions = versions.values.map { "\($0.value) @\($0.timestamp) \($0.vector.counters.map { "\($0.key):\($0.value)" }.sorted())" }
                    throw fail(
                        """
                        \(key): a concurrent write vanished without being listed as a conflict: \(write.timestamp)
                        writes: \(versions.joined(separator: " | "))
                        final: \(serverRegisters[key].map { "\($0.value) @\($0.timestamp)" } ?? "none")
                        losers recorded: \(losers.filter { $0.hasPrefix(key.description) }.sorted())
                        """)
                }
            }
        }

        // 5. Every replica shows the same library, one article per URL.
        let reference = try Self.visibleLibrary(replicas[0].list)
        for replica in replicas.dropFirst() {
            guard try Self.visibleLibrary(replica.list) == reference else { throw fail("\(replica.name) shows a different library") }
        }
        let urls = reference.live.compactMap(\.url) + reference.trash.compactMap(\.url)
        guard Set(urls).count == urls.count else { throw fail("an article appears twice") }

        // 6. No resurrection: an article is live exactly when its tombstone register says so.
        for article in reference.live {
            guard serverRegisters[RegisterKey(kind: .article, entity: article.id, field: "deleted")]?.value == .bool(false) else {
                throw fail("\(article.id) is live but its tombstone says deleted")
            }
        }

        // 7. What the server keeps is the live library and tombstones: of a
        //    deleted article, no value but the tombstone's fields, in any
        //    version it stores (a concurrent one that lost to a purge included).
        let stored = try server.storedVersions(for: user)
        let deleted = Set(serverRegisters.filter { $0.key.kind == .article && $0.key.field == "deleted" && $0.value.value == .bool(true) }.keys.map(\.entity))
        let notes = Dictionary(grouping: serverRegisters.filter { $0.key.kind == .note && $0.key.field == NoteField.articleID.rawValue }) {
            $0.value.value.text ?? ""
        }
        for key in serverRegisters.keys {
            let noteArticle = notes.first { $0.value.contains { $0.key.entity == key.entity } }?.key
            guard let article = Tombstone.article(of: key.kind, entity: key.entity, noteArticle: noteArticle), deleted.contains(article) else { continue }
            guard !Tombstone.isPurged(kind: key.kind, field: key.field) || stored[key]?.allSatisfy({ $0.value == .null }) == true else {
                throw fail("\(key) of deleted article \(article) was not collected")
            }
        }
    }

    struct Library: Equatable {
        var live: [ArticleDetail]
        var trash: [ArticleSummary]
    }

    static func visibleLibrary(_ list: ReadingList) throws -> Library {
        Library(live: try list.list().map { try list.show($0.id) }, trash: try list.trash())
    }

    private func log(_ line: String) {
        trace.append("t=\(serverClock.nowMilliseconds() - Self.start)ms \(line)")
    }
}

/// A violated invariant, with the seed and the last steps that led to it.
struct SimulationFailure: Error, CustomStringConvertible {
    let seed: UInt64
    let problem: String
    let trace: [String]

    var description: String {
        "seed \(seed): \(problem)\nlast steps:\n" + trace.suffix(40).map { "  \($0)" }.joined(separator: "\n")
    }
}

/// The protocol in process: the server store's own entry points and the
/// same skew rule as the HTTP server.
final class InProcessTransport: SyncTransport {
    let server: any SteppedSyncStore
    let user: UserID
    let clock: any WallClock
    var onPush: ([Change]) -> Void = { _ in }
    /// Whether a push's answer brings the first page of the pull it asks for
    /// (`PushRequest.pull`), as the HTTP server's does.
    var answersPullsInPushes = true

    init(server: any SteppedSyncStore, user: UserID, clock: any WallClock) {
        self.server = server
        self.user = user
        self.clock = clock
    }

    func push(_ request: PushRequest) throws -> PushResponse {
        let now = clock.nowMilliseconds()
        if SyncProtocol.excessiveSkew(of: request.changes, serverTime: now) != nil {
            throw SyncError.clockSkew(server: "sim", message: "clock ahead", serverTime: now)
        }
        let outcome: PushOutcome
        do {
            outcome = try server.pushNow(
                request.changes, from: request.node, for: user,
                known: KnownHistory(epoch: request.epoch, checkpoint: request.checkpoint), chain: request.chain)
        } catch let refusal as PushRefusal {
            throw SyncError.refused(server: "sim", status: 409, code: refusal.code, message: refusal.description)
        }
        onPush(request.changes)
        var pulled: PullResponse?
        if answersPullsInPushes, let ask = request.pull, let known = outcome.historyKnown(after: request) {
            // As the HTTP server does: a page it cannot read is left out.
            pulled = try? pull(after: ask.after, limit: ask.limit, node: request.node, known: known)
        }
        return PushResponse(
            epoch: outcome.epoch, accepted: outcome.accepted, ignored: outcome.ignored, serverTime: now, checkpoint: outcome.checkpoint,
            pushToken: outcome.pushToken, pull: pulled, changesPerRequest: SyncProtocol.maxBatchChanges)
    }

    func pull(after cursor: Int64, limit: Int, node: NodeID, known: KnownHistory) throws -> PullResponse {
        let page: ChangePage
        do {
            page = try server.changesNow(for: user, after: cursor, limit: limit, excludingOrigin: node, known: known)
        } catch let refusal as PushRefusal {
            throw SyncError.refused(server: "sim", status: 409, code: refusal.code, message: refusal.description)
        }
        // As the HTTP server does.
        server.recordSighting(of: node, for: user, name: nil, pulled: cursor)
        return PullResponse(page, serverTime: clock.nowMilliseconds(), changesPerRequest: SyncProtocol.maxBatchChanges)
    }
}
