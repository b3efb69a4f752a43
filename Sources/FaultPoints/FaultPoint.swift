import Foundation

/// Named places where the process can be made to die on purpose, to prove
/// that a crash at any step of a write or a sync loses nothing.
///
/// Compiled into the normal binary and inert unless the environment asks:
/// `READSYNC_FAULT=NAME` aborts (no cleanup, no flush, like a power cut) the
/// first time NAME is reached; `NAME@N` the N-th time; a `:stall` suffix
/// (`NAME@N:stall`) freezes the process there instead, so a test can kill it
/// with SIGKILL in the middle of a transfer. Either way one line on stderr
/// says which point fired.
public enum FaultPoint: String, CaseIterable, Sendable {
    // Client: a local write, inside its transaction.
    case clientWriteBeforeCommit = "client.write.before-commit"
    // Client: one push round trip and its acknowledgement.
    case clientPushBeforeSend = "client.push.before-send"
    case clientPushAfterAnswer = "client.push.after-answer"
    case clientAckBeforeCommit = "client.ack.before-commit"
    // Client: one pulled page, applied with its cursor in one transaction.
    case clientPullAfterAnswer = "client.pull.after-answer"
    case clientPullBeforeCommit = "client.pull.before-commit"
    case clientPullAfterCommit = "client.pull.after-commit"
    // Client: the search index brought up to date with the last page, in its transaction.
    case clientIndexBeforeCommit = "client.index.before-commit"
    // Server: one push, stored in one transaction, then answered.
    case serverPushBeforeCommit = "server.push.before-commit"
    case serverPushAfterCommit = "server.push.after-commit"
    // Server: one page read, not yet sent (a pull, or the first page of one
    // within a push).
    case serverPullBeforeAnswer = "server.pull.before-answer"

    public static let environmentVariable = "READSYNC_FAULT"

    /// Dies here if the environment names this point (and this is the
    /// reach it names); otherwise does nothing.
    public func reach() {
        guard let plan = FaultPlan.current, plan.point == self, plan.countReach() else { return }
        FileHandle.standardError.write(Data("readsync: fault point \(rawValue) reached (\(plan.action.rawValue))\n".utf8))
        switch plan.action {
        case .abort:
            abort()
        case .stall:
            while true { sleep(3600) }
        }
    }
}

/// The parsed `READSYNC_FAULT` setting.
final class FaultPlan: @unchecked Sendable {
    // @unchecked: `reached` is guarded by `lock`.
    enum Action: String { case abort, stall }

    let point: FaultPoint
    let occurrence: Int
    let action: Action
    private let lock = NSLock()
    private var reached = 0

    static let current: FaultPlan? = ProcessInfo.processInfo.environment[FaultPoint.environmentVariable].flatMap(FaultPlan.init)

    /// `NAME[@N][:stall]`. A setting that names no point is reported once and
    /// ignored, rather than silently testing nothing.
    init?(_ setting: String) {
        var text = Substring(setting)
        var action = Action.abort
        if let colon = text.lastIndex(of: ":") {
            guard let parsed = Action(rawValue: String(text[text.index(after: colon)...])) else {
                Self.reportInvalid(setting)
                return nil
            }
            action = parsed
            text = text[..<colon]
        }
        var occurrence = 1
        if let at = text.lastIndex(of: "@") {
            guard let parsed = Int(text[text.index(after: at)...]), parsed >= 1 else {
                Self.reportInvalid(setting)
                return nil
            }
            occurrence = parsed
            text = text[..<at]
        }
        guard let point = FaultPoint(rawValue: String(text)) else {
            Self.reportInvalid(setting)
            return nil
        }
        self.point = point
        self.occurrence = occurrence
        self.action = action
    }

    private static func reportInvalid(_ setting: String) {
        let names = FaultPoint.allCases.map(\.rawValue).joined(separator: ", ")
        FileHandle.standardError.write(
            Data("readsync: ignoring \(FaultPoint.environmentVariable)=\(setting): expected NAME[@N][:stall], NAME one of \(names)\n".utf8))
    }

    /// Counts one reach of the point; true on the one that should fire.
    func countReach() -> Bool {
        lock.withLock {
            reached += 1
            return reached == occurrence
        }
    }
}
