/// What collecting a deleted article keeps, and what it purges.
///
/// A deleted article stays in the trash with all it held until every device
/// that still syncs has pulled past the delete and everything else written
/// to it. Then the server collects it: it purges the article's *family* (its
/// body and other fields, its read-state, its tags and its notes) and keeps
/// a small tombstone, the fields below, so that the trash still lists it and
/// a late edit of it from a device that was away has an article to land on.
/// Every device purges the same family when its pull brings the collection
/// (`PullResponse.collected`), except fields it has not pushed yet.
public enum Tombstone {
    /// The article fields a collection keeps.
    public static let articleFields: Set<String> = [
        ArticleField.url.rawValue, ArticleField.title.rawValue, ArticleField.addedAt.rawValue, ArticleField.deleted.rawValue,
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

    /// Whether collecting its article purges this field.
    public static func isPurged(kind: EntityKind, field: String) -> Bool {
        kind != .article || !articleFields.contains(field)
    }
}
