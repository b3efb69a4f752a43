/// What collecting a deleted article keeps, and what it purges.
///
/// A deleted article stays whole in the trash until every device that still
/// syncs has pulled past the delete and everything else written to it. Then
/// the server collects it: over each field of its *family* (the article,
/// its read-state, its tags and its notes) that this policy purges, it
/// writes `null` with a clock that has seen every version it stored, so the
/// purge is an ordinary, causally later write. It reaches every device
/// through the feed like any other; a stale copy of a purged value sent
/// again later (by a device back after months) has been seen by it and
/// changes nothing; an edit the server never saw is concurrent with it and
/// merges as any edit does (the later one wins, the other is a listed
/// conflict). Only the clocks of purged fields stay: a small tombstone.
///
/// The fields that keep their values are what the trash lists and what a
/// late edit needs to land where the user sees it: the article's address,
/// title, added-at and deleted flag, and each note's article, creation time
/// and deleted flag.
public enum Tombstone {
    /// The fields a collection keeps, by kind.
    public static let keptFields: [EntityKind: Set<String>] = [
        .article: [ArticleField.url.rawValue, ArticleField.title.rawValue, ArticleField.addedAt.rawValue, ArticleField.deleted.rawValue],
        .note: [NoteField.articleID.rawValue, NoteField.createdAt.rawValue, NoteField.deleted.rawValue],
    ]

    /// The article whose family an entity belongs to: the article itself,
    /// its read-state, a tag of it, or a note whose `article_id` is
    /// `noteArticle`. Nil for a kind this version does not know.
    public static func article(of kind: EntityKind, entity: String, noteArticle: String? = nil) -> String? {
        switch kind {
        case .article, .readState: return entity
        case .tag: return TagEntity.parts(of: entity)?.articleID
        case .note: return noteArticle
        default: return nil
        }
    }

    /// Whether collecting its article purges this field (a field this
    /// version does not know included).
    public static func isPurged(kind: EntityKind, field: String) -> Bool {
        !(keptFields[kind]?.contains(field) ?? false)
    }

    /// The version a collection writes over a field's stored `versions`:
    /// null, having seen all of them (its vector dominates theirs) and
    /// stamped just after the latest, by the collector's node id.
    public static func purge(over versions: [Register], by collector: NodeID) -> Register {
        let seen = versions.reduce(VersionVector()) { $0.merged(with: $1.vector) }
        let latest = versions.map(\.timestamp).max() ?? HLCTimestamp(physical: 0, counter: 0, node: collector)
        let stamp =
            latest.counter == .max
            ? HLCTimestamp(physical: latest.physical + 1, counter: 0, node: collector)
            : HLCTimestamp(physical: latest.physical, counter: latest.counter + 1, node: collector)
        return Register(value: .null, timestamp: stamp, vector: seen.incremented(for: collector))
    }
}
