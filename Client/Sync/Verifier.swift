import Foundation
import ReadSyncCore

/// What `readsync client verify` found.
public struct VerifyReport: Sendable, Equatable {
    /// Entities whose fields differ between this device and the server.
    public var differing: [EntitiesRequest.Address] = []
    /// How many entities this device holds, and the requests the comparison took.
    public var entities = 0
    public var requests = 0
    /// After `--repair`: the entities exchanged.
    public var repaired = 0

    public var isEqual: Bool { differing.isEmpty }
}

/// Why a library cannot be compared yet.
public enum VerifyError: Error, Equatable, CustomStringConvertible {
    case pendingChanges(Int)
    case behind(cursor: Int64, latest: Int64)

    public var description: String {
        switch self {
        case .pendingChanges(let count):
            return "\(count) change\(count == 1 ? "" : "s") on this device wait to be sent"
        case .behind(let cursor, let latest):
            return "the server has changes this device has not pulled (it is at \(cursor) of \(latest))"
        }
    }
}

/// Compares a device's library with the server's state for its user by
/// checksums over ranges (`LibraryDigest`): the sixteen ranges of the whole
/// space, then the sixteen under each range that differs, until a range is
/// small enough to list entity by entity. A library that matches costs one
/// request; each difference a few more. Nothing is downloaded whole.
struct Verifier {
    let store: ClientStore
    let transport: CurlSyncTransport

    func compare() throws -> VerifyReport {
        let state = try store.syncState()
        let pending = try store.pendingChangeCount()
        guard pending == 0 else { throw VerifyError.pendingChanges(pending) }
        let local = try LibraryDigest.entities(store.registers())
        var report = VerifyReport(entities: local.count)
        var ranges = [""]
        while let prefix = ranges.popLast() {
            let theirs = try transport.digest(prefix: prefix, entities: false)
            report.requests += 1
            if prefix.isEmpty, state.cursor < theirs.latest { throw VerifyError.behind(cursor: state.cursor, latest: theirs.latest) }
            for (mine, their) in zip(LibraryDigest.ranges(under: prefix, of: local), theirs.ranges ?? []) where mine != their {
                if max(mine.count, their.count) > LibraryDigest.entitiesPerLeaf && mine.prefix.count < LibraryDigest.maxPrefixLength {
                    ranges.append(mine.prefix)
                    continue
                }
                let listed = try transport.digest(prefix: mine.prefix, entities: true).entities ?? []
                report.requests += 1
                let here = Set(local.filter { $0.place.hasPrefix(mine.prefix) })
                let there = Set(listed)
                let differing = here.symmetricDifference(there).map { EntitiesRequest.Address(kind: $0.kind, entity: $0.entity) }
                report.differing += Set(differing).sorted { ($0.kind.rawValue, $0.entity) < ($1.kind.rawValue, $1.entity) }
            }
        }
        return report
    }

    /// Exchanges what differs, and only that: the server's versions of the
    /// differing entities are merged in (where a field holds the same clock
    /// as the server's with another value, the device's copy was damaged and
    /// the server's is taken), and the device's own fields of them are sent
    /// again. Nothing is wiped. Returns the entities exchanged.
    func repair(_ report: VerifyReport) throws -> Int {
        var done = 0
        for start in stride(from: 0, to: report.differing.count, by: 200) {
            let chunk = Array(report.differing[start..<min(start + 200, report.differing.count)])
            let versions = try transport.versions(of: chunk)
            try store.repair(chunk, with: versions)
            done += chunk.count
        }
        return done
    }
}
