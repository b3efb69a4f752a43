/// A point of a user's history on a server: a sequence number, and the token
/// of the commit that gave it out. Each commit of a push gets a random token,
/// so two histories that happen to reach the same sequence number (a server
/// restored from an older copy of its data folder, that went on accepting
/// writes) still tell apart.
///
/// A device keeps the furthest checkpoint it has seen, pulled up to or pushed
/// into, and shows it with every request. A server that cannot find it in
/// its own history has lost what the device knows of: it starts a new
/// lineage for the user (a new epoch), and every device of the user, whatever
/// its cursor, then sends everything again and pulls from zero.
///
/// Text form, on the wire: `<seq>:<token>`, the token 16 hex digits.
public struct HistoryCheckpoint: Hashable, Sendable, Codable, LosslessStringConvertible {
    public let seq: Int64
    public let token: String

    public init?(seq: Int64, token: String) {
        // 16 lowercase hex digits.
        guard seq > 0, token.utf8.count == 16, token.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else { return nil }
        self.seq = seq
        self.token = token
    }

    public init?(_ text: String) {
        guard let colon = text.firstIndex(of: ":"), let seq = Int64(text[..<colon]) else { return nil }
        self.init(seq: seq, token: String(text[text.index(after: colon)...]))
    }

    /// A fresh random commit token.
    public static func randomToken() -> String { NodeID.random().rawValue }

    public var description: String { "\(seq):\(token)" }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let checkpoint = HistoryCheckpoint(text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "Invalid history checkpoint")
        }
        self = checkpoint
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// What a device knows of a user's history on a server, shown with every
/// request: the epoch its cursor belongs to and the furthest checkpoint it
/// has seen (`HistoryCheckpoint`). When the epoch is the user's current one
/// and the store's history has not got the checkpoint, the store lost part
/// of the user's history (its data folder was restored from an older copy):
/// it starts a new lineage for the user, which changes the user's epoch, so
/// that every device of the user sends everything again and pulls from zero.
///
/// A pull also shows the device's push chain (`PushChain`): the token of its
/// last push the server recorded, and that of a push whose answer it has not
/// had yet, so that a device that only pulls learns too that another device
/// pushes under its node id.
public struct KnownHistory: Sendable, Equatable {
    public var epoch: String?
    public var checkpoint: HistoryCheckpoint?
    public var lastPush: String?
    public var pendingPush: String?

    public init(epoch: String? = nil, checkpoint: HistoryCheckpoint? = nil, lastPush: String? = nil, pendingPush: String? = nil) {
        self.epoch = epoch
        self.checkpoint = checkpoint
        self.lastPush = lastPush
        self.pendingPush = pendingPush
    }

    /// Whether a request from this device comes from a second device under
    /// its node id: the store recorded `recorded` as the node's last push
    /// token, and the request shows `chain` (a push; nil from a client that
    /// keeps none) or else this device's `lastPush` and `pendingPush` (a
    /// pull). A device that shows an epoch other than the user's `current`
    /// one is starting again (the store lost history, or was replaced), its
    /// chain with it: its next tokens are taken as they come.
    public func isAnotherDevice(recordedPush recorded: String?, currentEpoch current: String, pushing chain: PushChain? = nil, isPush: Bool) -> Bool {
        guard let recorded else { return false }
        if let epoch, epoch != current { return false }
        if isPush {
            guard let chain else { return false }
            return recorded != chain.previous && recorded != chain.token
        }
        return recorded != lastPush && recorded != pendingPush
    }

    /// A device that has not synced, or does not say.
    public static let nothing = KnownHistory()

    /// Whether a store whose user's epoch is `current`, and whose history
    /// gives the commit token `token(seq)` for a sequence number, lost what
    /// this device has seen. A device of another epoch is told the new one
    /// by the answer and starts again anyway.
    public func isLost(currentEpoch current: String, token: (Int64) throws -> String?) rethrows -> Bool {
        guard let checkpoint, epoch == current else { return false }
        return try token(checkpoint.seq) != checkpoint.token
    }
}

/// A device's own chain of pushes: each push carries a new random `token`
/// and the token of the device's last push the server recorded
/// (`previous`). The server records, per node id, the token of the last
/// push. A push whose `previous` is not what it recorded
/// (nor its own `token`: the same push sent again after its answer was lost)
/// comes from a second device writing under the same node id, a copy of a
/// home the device could not see was copied (a cloned virtual machine): it
/// is refused with 409 `node_in_use`, and that device takes a new node id.
public struct PushChain: Hashable, Sendable, Codable {
    public var previous: String?
    public var token: String

    public init(previous: String?, token: String) {
        self.previous = previous
        self.token = token
    }

    /// A new random push token.
    public static func newToken() -> String { HistoryCheckpoint.randomToken() }

    /// Tokens are 1–64 lowercase hex digits.
    public var isWellFormed: Bool {
        let tokens = [token] + (previous.map { [$0] } ?? [])
        return tokens.allSatisfy { token in
            !token.isEmpty && token.utf8.count <= 64 && token.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
        }
    }
}
