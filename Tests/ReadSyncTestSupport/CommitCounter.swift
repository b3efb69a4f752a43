import GRDB

/// Counts the transactions that changed something and committed, on the
/// database it is added to (`Database.add(transactionObserver:)`).
public final class CommitCounter: TransactionObserver, @unchecked Sendable {
    // @unchecked: GRDB calls it on the writer's queue alone.
    public private(set) var count = 0
    private var changed = false
    public init() {}
    public func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool { true }
    public func databaseDidChange(with event: DatabaseEvent) { changed = true }
    public func databaseDidCommit(_ db: Database) {
        if changed { count += 1 }
        changed = false
    }
    public func databaseDidRollback(_ db: Database) { changed = false }
}
