import FaultPoints
import Foundation
import ReadSyncCore

/// What one sync did.
public struct SyncSummary: Sendable, Equatable {
    public var server: String
    public var pushed = 0
    public var pulled = 0
    /// Conflicts newly recorded by this sync.
    public var conflicts = 0
    /// Whether the server was new to this device's cursor (new epoch or lost
    /// data), so everything was exchanged again.
    public var resynchronised = false
    /// Unsynced writes made while this device's clock ran ahead, re-stamped
    /// once the clock agreed with the server's again.
    public var restamped = 0
    /// Set when the server saw another device push under this one's node id,
    /// and this device took a new one (`ClientStore.moveToNewNode`).
    public var movedToNode: DeviceIdentity.Fork?
    /// Whether the server had retired this device for being away longer than
    /// it keeps track of devices, so that it pulled everything again.
    public var returnedFromRetirement = false
}

/// Progress of a long sync, for the terminal.
public struct SyncProgress: Sendable {
    public enum Phase: Sendable { case pushing, pulling }
    public let phase: Phase
    public let done: Int
    /// Known for pushing (the outbox's size); for pulling, the server's
    /// latest sequence number minus the starting cursor, an upper bound.
    public let total: Int
}

/// Push then pull until both are drained. Every step is its own transaction:
/// acknowledged batches leave the outbox only after the server answered,
/// and each pulled page is applied together with its cursor.
public struct SyncEngine {
    let store: ClientStore
    let transport: any SyncTransport
    let server: String
    /// The size of pushes and pages, lowered for a server that takes less.
    private let sizes: RequestSizes

    public init(
        store: ClientStore, transport: any SyncTransport, server: String,
        pageSize: Int = SyncProtocol.defaultPageSize, pushBatchSize: Int = SyncProtocol.maxBatchChanges
    ) {
        self.store = store
        self.transport = transport
        self.server = server
        self.sizes = RequestSizes(page: pageSize, pushBatch: pushBatchSize)
    }

    /// How many field versions a push carries and a page asks for: what
    /// the engine was made with, and no more than the server takes. Every
    /// answer says how much that is (`PushResponse.changesPerRequest`; a
    /// server built before 2026-12-07 says nothing and takes
    /// `SyncProtocol.changesEveryServerTakes`), and the library remembers
    /// it for the next sync's first request. On first contact such a
    /// server refuses a larger request (413 `too_large`): both sizes go
    /// down to what every server takes, and the request is made again.
    private final class RequestSizes {
        private let wanted: (page: Int, pushBatch: Int)
        /// What the server takes, as far as this sync knows.
        private var serverTakes: Int?
        /// What the library remembers of it.
        private var remembered: Int?

        var page: Int { min(wanted.page, serverTakes ?? wanted.page) }
        var pushBatch: Int { min(wanted.pushBatch, serverTakes ?? wanted.pushBatch) }

        init(page: Int, pushBatch: Int) {
            wanted = (page, pushBatch)
        }

        /// At the start of a sync, with what the library remembers.
        func start(remembering takes: Int?) {
            (serverTakes, remembered) = (takes.flatMap { $0 >= 1 ? $0 : nil }, takes)
        }

        /// An answer said what its server takes (nil: a server that says
        /// nothing). Returns what the library should remember, when that changed.
        func heard(_ takes: Int?) -> Int? {
            serverTakes = takes.flatMap { $0 >= 1 ? $0 : nil } ?? SyncProtocol.changesEveryServerTakes
            guard serverTakes != remembered else { return nil }
            remembered = serverTakes
            return serverTakes
        }

        /// A request was refused as too large: lowers both sizes to what
        /// every server takes; false when neither was above it.
        func lowerToWhatEveryServerTakes() -> Bool {
            let floor = SyncProtocol.changesEveryServerTakes
            guard page > floor || pushBatch > floor else { return false }
            serverTakes = floor
            return true
        }
    }

    /// Takes note of what the server that answered takes in one request.
    private func note(serverTakes takes: Int?) throws {
        if let changed = sizes.heard(takes) { try store.recordServerTakes(changed) }
    }

    public func run(progress: (SyncProgress) -> Void = { _ in }) throws -> SyncSummary {
        var summary = SyncSummary(server: server)
        // A resync restarts the exchange; more than twice in one run means the
        // server keeps changing under us. A move to a new node id (at most
        // one) restarts it too, and is not a resync.
        var starts = 0
        sizes.start(remembering: try store.syncState().serverTakes)
        while starts < 3 {
            let moved = summary.movedToNode != nil
            let retired = summary.returnedFromRetirement
            var answered: AnsweredPull?
            if try pushAll(&summary, progress, answered: &answered), try pullAll(&summary, progress, starting: answered) {
                try store.recordSuccessfulSync()
                return summary
            }
            if !moved && summary.movedToNode != nil { continue }
            if !retired && summary.returnedFromRetirement { continue }
            summary.resynchronised = true
            starts += 1
        }
        throw SyncError.loopingResync(server: server)
    }

    /// The first page of a pull, answered within the sync's last push
    /// (`PushRequest.pull`), with the cursor it was asked from.
    private struct AnsweredPull {
        let after: Int64
        let page: PullResponse
    }

    /// Returns false when the server turned out to be a new one (resync
    /// needed). Sets `answered` to the first page of the pull that a push
    /// brought, if one did.
    private func pushAll(_ summary: inout SyncSummary, _ progress: (SyncProgress) -> Void, answered: inout AnsweredPull?) throws -> Bool {
        do {
            guard try settlePendingPush() else { return false }
        } catch SyncError.refused(_, _, .nodeInUse, _) where summary.movedToNode == nil {
            summary.movedToNode = try store.moveToNewNode()
            return false
        }
        let total = try store.pendingChangeCount()
        var done = 0
        var restamped = false
        var next = try prepared(store.pendingBatch(limit: sizes.pushBatch))
        // The batch the server stored last, its fields still in the outbox:
        // they leave it while the next batch is on its way.
        var stored: ClientStore.PendingBatch?
        while let (batch, entities) = next {
            FaultPoint.clientPushBeforeSend.reach()
            let (inFlight, asked) = try send(batch, entities)
            // Now, before this batch's answer is looked at: an answer from a
            // new server starts a resync, which queues every field again.
            if let previous = stored {
                stored = nil
                do {
                    try store.takeOutOfOutbox(previous)
                } catch {
                    _ = try? inFlight.value()
                    throw error
                }
            }
            // The following batch is read from the outbox, and its entities
            // written and compressed, while this one is on its way and
            // stored by the server.
            var following: (ClientStore.PendingBatch, CompressedEntities)?
            do {
                following = try prepared(store.pendingBatch(after: batch, limit: sizes.pushBatch))
            } catch {
                _ = try? inFlight.value()
                throw error
            }
            let answer: PushResponse
            do {
                answer = try inFlight.value()
                FaultPoint.clientPushAfterAnswer.reach()
            } catch SyncError.refused(_, _, .nodeInUse, _) where summary.movedToNode == nil {
                summary.movedToNode = try store.moveToNewNode()
                return false
            } catch SyncError.refused(_, _, .tooLarge, _) where sizes.lowerToWhatEveryServerTakes() {
                // A server of an earlier build: the batch again, smaller.
                // (A batch read before an answer said what the server takes
                // is read again below, so it is never larger than that.)
                next = try prepared(store.pendingBatch(limit: sizes.pushBatch))
                continue
            } catch SyncError.clockSkew(_, _, let serverTime) where !restamped && ClockSkewRecovery.clockAgrees(store.wallClock, serverTime: serverTime) {
                // The clock was wrong when these were written and is right
                // now: re-stamp what the server refused, then send again.
                summary.restamped = try ClockSkewRecovery.restampRefused(store, serverTime: serverTime)
                restamped = true
                next = try prepared(store.pendingBatch(limit: sizes.pushBatch))
                continue
            }
            // The batch went to whichever server answered; if that is a new
            // one, everything is re-sent after the reset anyway.
            if try !sameServer(epoch: answer.epoch) { return false }
            try note(serverTakes: answer.changesPerRequest)
            // The following batch was read while this one was on its way,
            // before the server said what it takes: read again if larger.
            if let (read, _) = following, read.changes.count > sizes.pushBatch {
                following = try prepared(store.pendingBatch(after: batch, limit: sizes.pushBatch))
            }
            // The first page answered stays the pull's first page even when
            // more pushes follow (writes made while this one was on its way):
            // the cursor it was read from is still the device's, and the
            // server counted the device as pulling there (it may have been
            // told it was retired, for instance).
            if answered == nil, let asked, let page = answer.pull { answered = AnsweredPull(after: asked.after, page: page) }
            if let following {
                try store.recordStored(batch, checkpoint: answer.checkpoint, pushToken: answer.pushToken)
                stored = batch
                next = following
            } else {
                // Past the last batch, a field written again while its batch
                // was on its way still waits at its earlier place: from the
                // head again, once this batch's fields have left it.
                try store.acknowledge(batch, checkpoint: answer.checkpoint, pushToken: answer.pushToken)
                next = try prepared(store.pendingBatch(limit: sizes.pushBatch))
            }
            done += batch.changes.count
            summary.pushed += batch.changes.count
            progress(SyncProgress(phase: .pushing, done: done, total: max(total, done)))
        }
        return true
    }

    /// `batch` with its entities written and compressed for the request.
    private func prepared(_ batch: ClientStore.PendingBatch?) throws -> (ClientStore.PendingBatch, CompressedEntities)? {
        guard let batch else { return nil }
        return (batch, try CompressedEntities(batch.changes))
    }

    /// A push whose answer never came may or may not have been recorded by
    /// the server, and a copy of this home made since holds the same token
    /// (`PushChain`): two empty pushes settle it (the server records the
    /// token) and move the chain on with a token of this device's alone, so
    /// that a copy is told apart at its next request. Returns false when the
    /// server turned out to be a new one.
    private func settlePendingPush() throws -> Bool {
        guard try store.syncState().pendingPush != nil else { return true }
        for _ in 0..<2 {
            let known = try store.syncState().known
            let answer = try transport.push(
                PushRequest(
                    node: store.node, changes: [], epoch: known.epoch, checkpoint: known.checkpoint,
                    chain: try store.nextPushChain()))
            if try !sameServer(epoch: answer.epoch) { return false }
            try store.recordPushToken(answer.pushToken)
        }
        return true
    }

    /// Sends `batch` on a thread of its own while another batch follows; the
    /// last is sent at once, and asks for the first page of the pull that
    /// follows it (the server answers it with the push, sparing a request:
    /// most syncs then have nothing more to pull). Returns the push on its
    /// way and the pull it asks for. (A batch holds whole entities, so one
    /// that another follows is seldom exactly `sizes.pushBatch` fields: its
    /// size cannot tell.)
    private func send(_ batch: ClientStore.PendingBatch, _ entities: CompressedEntities) throws -> (Prefetch<PushResponse>, PullAsk?) {
        let state = try store.syncState()
        let ask = batch.more ? nil : PullAsk(after: state.cursor, limit: sizes.page, name: state.deviceName)
        let request = PushRequest(
            node: store.node, entities: entities, epoch: state.epoch, checkpoint: state.checkpoint, chain: try store.nextPushChain(), pull: ask)
        let transport = transport
        return (Prefetch(inline: !batch.more) { try transport.push(request, reusing: entities) }, ask)
    }

    /// Pulls from the cursor, starting with the page the last push brought
    /// when it was asked from there.
    private func pullAll(_ summary: inout SyncSummary, _ progress: (SyncProgress) -> Void, starting answered: AnsweredPull?) throws -> Bool {
        let state = try store.syncState()
        var cursor = state.cursor
        let start = cursor
        var next = answered.flatMap { $0.after == cursor ? Prefetch(done: $0.page) : nil } ?? fetchPage(after: cursor, known: state.known, inline: true)
        // However this ends, the page asked for last is waited for: the
        // transport is not used by two threads at once.
        defer { _ = try? next.value() }
        while true {
            let page: PullResponse
            do {
                page = try next.value()
            } catch SyncError.refused(_, _, .nodeInUse, _) where summary.movedToNode == nil {
                summary.movedToNode = try store.moveToNewNode()
                return false
            } catch SyncError.refused(_, _, .tooLarge, _) where sizes.lowerToWhatEveryServerTakes() {
                // A server of an earlier build: the page again, smaller.
                next = fetchPage(after: cursor, known: state.known, inline: true)
                continue
            }
            FaultPoint.clientPullAfterAnswer.reach()
            if try !sameServer(epoch: page.epoch) { return false }
            try note(serverTakes: page.changesPerRequest)
            if page.retired == true, cursor > 0, !summary.returnedFromRetirement {
                // Away longer than the server keeps track of devices: what
                // changed meanwhile is all in the feed, but this device takes
                // it whole, from zero.
                try store.prepareToPullEverything()
                summary.returnedFromRetirement = true
                return false
            }
            if cursor > page.latest {
                // The server has fewer changes than we have seen: it lost data
                // (restored from a backup). Send everything again.
                try store.resetForResync(epoch: page.epoch)
                return false
            }
            // The server reads and sends the next page while this one is applied.
            if page.more { next = fetchPage(after: page.next, known: state.known) }
            // Computed from the page's entities: made once.
            let changes = page.changes
            let applied = try store.applyPulled(changes, cursor: page.next, checkpoint: page.checkpoint, last: !page.more)
            FaultPoint.clientPullAfterCommit.reach()
            summary.pulled += changes.count
            summary.conflicts += applied.conflicts
            cursor = page.next
            progress(SyncProgress(phase: .pulling, done: Int(cursor - start), total: Int(max(page.latest - start, cursor - start))))
            if !page.more { return true }
        }
    }

    /// Every page shows the server what the device knows (`KnownHistory`).
    private func fetchPage(after cursor: Int64, known: KnownHistory, inline: Bool = false) -> Prefetch<PullResponse> {
        let (transport, node, pageSize) = (transport, store.node, sizes.page)
        return Prefetch(inline: inline) { try transport.pull(after: cursor, limit: pageSize, node: node, known: known) }
    }

    /// Adopts the epoch on first contact; on a different one, resets for a
    /// full resync and returns false.
    private func sameServer(epoch: String) throws -> Bool {
        guard let known = try store.syncState().epoch else {
            try store.adoptEpoch(epoch)
            return true
        }
        guard known != epoch else { return true }
        try store.resetForResync(epoch: epoch)
        return false
    }
}
