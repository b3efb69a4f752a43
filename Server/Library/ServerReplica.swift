import ReadSyncCore
import Synchronization

/// The server writing as a replica of its own (DESIGN.md, "Reaching every
/// device"): a change made through the wallabag API is stamped with this
/// process's node id and hybrid logical clock, enters the user's change feed
/// like a device's push (`SyncStore.pushAsServer`), wakes the devices
/// waiting on the feed, and merges by the same rules, so a device's
/// concurrent edit of the same field is a conflict listed on the devices.
///
/// Each server process is a replica with a node id of its own, chosen at
/// start. Processes sharing one PostgreSQL database therefore never issue
/// the same version of a field twice: two of them changing one field at the
/// same moment write concurrent versions (a conflict, kept and listed), not
/// two different values under one version vector, which the merge would take
/// for the same write and keep only one of, silently. Within the process,
/// a user's writes take turns, for the same reason. The price is one entry
/// per process lifetime in the version vector of each field it writes
/// (a vector holds at most `ChangeValidation.maxVectorEntries`, 256: a field
/// written through the API after that many server restarts would be refused).
final class ServerReplica: Sendable {
    let node: NodeID
    private let store: any SyncStore
    private let notifier: ChangeNotifier
    private let clock: Mutex<HybridLogicalClock>
    private let turns = UserTurns()

    init(store: any SyncStore, notifier: ChangeNotifier, wallClock: any WallClock, node: NodeID = .random()) {
        self.node = node
        self.store = store
        self.notifier = notifier
        self.clock = Mutex(HybridLogicalClock(node: node, wallClock: wallClock))
    }

    /// Reads `entities` of `user` as the store has them merged, lets `edit`
    /// say which fields to write (reading them as it goes), and writes the
    /// fields whose value changes as one push. Returns what `edit` returned.
    func edit<T: Sendable>(
        _ user: UserID, reading entities: [EntitiesRequest.Address],
        _ edit: @Sendable (inout ReplicaEdit) throws -> T
    ) async throws -> T {
        try await turns.inTurn(of: user) {
            var versions: [RegisterKey: [Register]] = [:]
            for change in try await store.versions(of: entities, for: user) { versions[change.key, default: []].append(change.register) }
            var draft = ReplicaEdit(current: versions.compactMapValues(ServerMerge.state))
            let result = try edit(&draft)
            let changes = try stamp(draft)
            guard !changes.isEmpty else { return result }
            let outcome = try await store.pushAsServer(changes, from: node, for: user)
            if outcome.accepted > 0 { notifier.changed(user, by: node) }
            return result
        }
    }

    /// Each written field's new version: after every version of it the
    /// store holds (its vector incremented for this node, its timestamp past
    /// theirs by the hybrid logical clock), so that it supersedes them.
    private func stamp(_ edit: ReplicaEdit) throws -> [Change] {
        try clock.withLock { clock in
            try edit.writes.compactMap { key, value in
                let current = edit.current[key]
                guard (current?.value ?? .null) != value else { return nil }
                if let current { clock.observe(current.timestamp) }
                let timestamp = clock.tick()
                let register = current?.overwritten(with: value, at: timestamp) ?? .initial(value, at: timestamp)
                let change = Change(key: key, register: register)
                if let problem = ChangeValidation.problem(with: change) { throw ReplicaWriteRefused(reason: problem) }
                return change
            }
        }
    }
}

/// The fields one edit writes, over the merged state it read.
struct ReplicaEdit: Sendable {
    /// The merged version of each field read (absent: never written).
    let current: [RegisterKey: Register]
    /// What to write, in order, one value per field.
    private(set) var writes: [(key: RegisterKey, value: FieldValue)] = []

    init(current: [RegisterKey: Register]) { self.current = current }

    /// The field's value as this edit leaves it (nil: never written).
    func value(_ key: RegisterKey) -> FieldValue? {
        writes.last(where: { $0.key == key })?.value ?? current[key]?.value
    }

    mutating func set(_ key: RegisterKey, _ value: FieldValue) {
        writes.removeAll { $0.key == key }
        writes.append((key, value))
    }

    /// Writes `value` only where the field was never written (an article's first added-at).
    mutating func setIfAbsent(_ key: RegisterKey, _ value: FieldValue) {
        if self.value(key) == nil { set(key, value) }
    }
}

/// A write the server refuses for the same reason it would refuse a device's push.
struct ReplicaWriteRefused: Error, CustomStringConvertible {
    let reason: String
    var description: String { reason }
}

/// One turn at a time per user: the next edit of a user waits for the one
/// before it to finish (an actor would not do: it lets another call in at
/// every `await`).
private final class UserTurns: Sendable {
    private let waiting = Mutex<[UserID: [CheckedContinuation<Void, Never>]]>([:])

    func inTurn<T: Sendable>(of user: UserID, _ body: () async throws -> T) async throws -> T {
        await withCheckedContinuation { (turn: CheckedContinuation<Void, Never>) in
            let now = waiting.withLock { waiting -> Bool in
                guard waiting[user] != nil else {
                    waiting[user] = []
                    return true
                }
                waiting[user]!.append(turn)
                return false
            }
            if now { turn.resume() }
        }
        defer {
            let next = waiting.withLock { waiting -> CheckedContinuation<Void, Never>? in
                guard var queue = waiting[user], !queue.isEmpty else {
                    waiting[user] = nil
                    return nil
                }
                let first = queue.removeFirst()
                waiting[user] = queue
                return first
            }
            next?.resume()
        }
        return try await body()
    }
}
