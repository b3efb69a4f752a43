/// Checks a change received from elsewhere before it is merged: well-formed
/// kind, entity id and field name, a sensible value and vector. Kinds and
/// fields a newer version introduced pass with looser rules: they are kept
/// and passed on. Pure, so server and
/// client apply the same rules.
public enum ChangeValidation {
    /// Longest text value accepted (article bodies included), in UTF-8 bytes.
    public static let maxTextBytes = 4 * 1_048_576
    /// Most nodes in one version vector.
    public static let maxVectorEntries = 256

    /// Why `change` is unacceptable, or nil when it is fine. A field this
    /// version does not know is fine when its name is well-formed and its
    /// value within the size limit: a newer version wrote it, and every
    /// replica keeps it and passes it on.
    public static func problem(with change: Change) -> String? {
        guard isFieldName(change.field) else { return "invalid field name '\(change.field.prefix(64))' for \(change.kind.rawValue)" }
        if let problem = entityProblem(change.kind, change.entity) { return problem }
        if let problem = valueProblem(change.value, shape: change.kind.shape(of: change.field)) {
            return "value of \(change.kind.rawValue).\(change.field) \(problem)"
        }
        guard change.timestamp.physical >= 0 else { return "negative timestamp" }
        guard change.vector.entries.count <= maxVectorEntries else { return "version vector has too many entries" }
        guard change.vector.entries.allSatisfy({ $0.counter <= maxCounter }) else { return "version vector counter out of range" }
        guard change.vector[change.timestamp.node] >= 1 else {
            return "version vector does not count the write's own node \(change.timestamp.node)"
        }
        return nil
    }

    /// Longest id accepted for an entity of a kind this version does not know.
    public static let maxUnknownEntityIDBytes = 512

    /// Counters beyond this are refused so that incrementing never overflows.
    public static let maxCounter: UInt64 = 1 << 53

    /// Field names: 1–64 of `[a-z0-9_]`, starting with a letter.
    public static func isFieldName(_ name: String) -> Bool {
        guard let first = name.utf8.first, (97...122).contains(first), name.utf8.count <= 64 else { return false }
        return name.utf8.allSatisfy { (97...122).contains($0) || (48...57).contains($0) || $0 == UInt8(ascii: "_") }
    }

    private static func valueProblem(_ value: FieldValue, shape: FieldShape?) -> String? {
        if value == .null { return nil }
        guard let shape else {
            // A newer version's field: any value, within the size limit.
            if let text = value.text, text.utf8.count > maxTextBytes { return "is larger than \(maxTextBytes) bytes" }
            return nil
        }
        switch shape {
        case .text:
            guard let text = value.text else { return "must be text" }
            return text.utf8.count > maxTextBytes ? "is larger than \(maxTextBytes) bytes" : nil
        case .bool:
            if case .bool = value { return nil }
            return "must be true or false"
        case .count:
            guard let count = value.int, (0...1_000_000_000).contains(count) else { return "must be a whole number from 0 to 10^9" }
            return nil
        case .fraction:
            guard let fraction = value.double, (0...1).contains(fraction) else { return "must be a number from 0 to 1" }
            return nil
        case .status:
            guard let text = value.text, ReadStatus(rawValue: text) != nil else { return "must be unread, reading or read" }
            return nil
        }
    }

    private static func entityProblem(_ kind: EntityKind, _ entity: String) -> String? {
        switch kind {
        case .article, .readState:
            return isArticleID(entity) ? nil : "invalid article id"
        case .note:
            return entity.utf8.count <= 64 && !entity.isEmpty && entity.utf8.allSatisfy({ isHex($0) || $0 == UInt8(ascii: "-") })
                ? nil : "invalid note id"
        case .tag:
            guard let (articleID, tag) = TagEntity.parts(of: entity), isArticleID(articleID) else { return "invalid tag entity" }
            return tag.utf8.count <= 400 && !tag.unicodeScalars.contains(where: { $0.value < 32 }) ? nil : "invalid tag name"
        default:
            // A newer version's kind: its id rules are not known here, only
            // that an id is short text without control characters.
            return !entity.isEmpty && entity.utf8.count <= maxUnknownEntityIDBytes && !entity.unicodeScalars.contains(where: { $0.value < 32 })
                ? nil : "invalid \(kind.rawValue) id"
        }
    }

    private static func isArticleID(_ text: String) -> Bool {
        text.utf8.count == Identity.articleIDLength && text.utf8.allSatisfy(isHex)
    }

    private static func isHex(_ byte: UInt8) -> Bool {
        (byte >= 48 && byte <= 57) || (byte >= 97 && byte <= 102)
    }
}
