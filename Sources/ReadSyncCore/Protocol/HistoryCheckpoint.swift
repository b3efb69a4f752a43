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
public struct KnownHistory: Sendable, Equatable {
    public var epoch: String?
    public var checkpoint: HistoryCheckpoint?

    public init(epoch: String? = nil, checkpoint: HistoryCheckpoint? = nil) {
        self.epoch = epoch
        self.checkpoint = checkpoint
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
