/// Checks a change received from elsewhere before it is merged: known field,
/// well-formed entity id, sensible value and vector. Pure, so server and
/// client apply the same rules.
public enum ChangeValidation {
    /// Longest text value accepted (article bodies included), in UTF-8 bytes.
    public static let maxTextBytes = 4 * 1_048_576
    /// Most nodes in one version vector.
    public static let maxVectorEntries = 256

    /// Why `change` is unacceptable, or nil when it is fine.
    public static func problem(with change: Change) -> String? {
        guard change.kind.fields.contains(change.field) else {
            return "unknown field '\(change.field.prefix(64))' for \(change.kind.rawValue)"
        }
        if let problem = entityProblem(change.kind, change.entity) { return problem }
        switch change.value {
        case .text(let text) where text.utf8.count > maxTextBytes:
            return "value of \(change.kind.rawValue).\(change.field) is larger than \(maxTextBytes) bytes"
        case .double(let number) where !number.isFinite:
            return "value of \(change.kind.rawValue).\(change.field) is not a finite number"
        default: break
        }
        guard change.timestamp.physical >= 0 else { return "negative timestamp" }
        guard change.vector.counters.count <= maxVectorEntries else { return "version vector has too many entries" }
        guard change.vector[change.timestamp.node] >= 1 else {
            return "version vector does not count the write's own node \(change.timestamp.node)"
        }
        return nil
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
        }
    }

    private static func isArticleID(_ text: String) -> Bool {
        text.utf8.count == Identity.articleIDLength && text.utf8.allSatisfy(isHex)
    }

    private static func isHex(_ byte: UInt8) -> Bool {
        (byte >= 48 && byte <= 57) || (byte >= 97 && byte <= 102)
    }
}
