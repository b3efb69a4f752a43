import Foundation
import GRDB
import ReadSyncArticles
import ReadSyncCore

extension ReadingList {
    /// Live articles matching every filter, newest first.
    public func list(_ filter: ListFilter = ListFilter()) throws -> [ArticleSummary] {
        var conditions = ["a.deleted = 0"]
        var arguments: [any DatabaseValueConvertible] = []
        if filter.unread { conditions.append("COALESCE(r.status, 'unread') <> 'read'") }
        if filter.read { conditions.append("r.status = 'read'") }
        if filter.archived { conditions.append("r.archived = 1") }
        if filter.favorite { conditions.append("r.favorite = 1") }
        if let tag = filter.tag {
            conditions.append("EXISTS (SELECT 1 FROM tags t WHERE t.article_id = a.id AND t.name = ?)")
            arguments.append(try Self.normalizedTag(tag))
        }
        return try store.read { db in
            let rows = try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT \(Self.summaryColumns) FROM articles a LEFT JOIN read_state r ON r.article_id = a.id
                        WHERE \(conditions.joined(separator: " AND "))
                        ORDER BY a.added_at DESC, a.id
                        """), arguments: StatementArguments(arguments))
            let tags = try Self.tagsByArticle(db)
            return rows.map { Self.summary(from: $0, tags: tags[$0["id"]] ?? []) }
        }
    }

    /// One article with its body and notes (deleted ones too, for the trash).
    public func show(_ ref: String) throws -> ArticleDetail {
        try store.read { db in
            let id = try ArticleRef.resolve(ref, in: db, includeDeleted: true)
            let row = try Row.fetchOne(
                db.cachedStatement(
                    sql: """
                        SELECT \(Self.summaryColumns), a.author, a.published, a.content, a.deleted, r.read_at
                        FROM articles a LEFT JOIN read_state r ON r.article_id = a.id WHERE a.id = ?
                        """), arguments: [id])!
            let summary = Self.summary(
                from: row,
                tags: try String.fetchAll(db.cachedStatement(sql: "SELECT name FROM tags WHERE article_id = ? ORDER BY name"), arguments: [id]))
            let notes = try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT id, body, quote, created_at FROM notes WHERE article_id = ? AND deleted = 0 ORDER BY created_at, id
                        """), arguments: [id]
            ).map { NoteView(id: $0["id"], body: $0["body"], quote: $0["quote"], createdAt: $0["created_at"]) }
            return ArticleDetail(
                id: summary.id, url: summary.url, title: summary.title, author: row["author"], site: summary.site,
                published: row["published"], status: summary.status, archived: summary.archived, favorite: summary.favorite,
                progress: summary.progress, readAt: row["read_at"], tags: summary.tags, addedAt: summary.addedAt,
                wordCount: summary.wordCount, readingMinutes: summary.readingMinutes, deleted: row["deleted"],
                content: row["content"], notes: notes)
        }
    }

    /// Deleted articles, most recently added first.
    public func trash() throws -> [ArticleSummary] {
        try store.read { db in
            let rows = try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT \(Self.summaryColumns) FROM articles a LEFT JOIN read_state r ON r.article_id = a.id
                        WHERE a.deleted = 1 ORDER BY a.added_at DESC, a.id
                        """))
            let tags = try Self.tagsByArticle(db)
            return rows.map { Self.summary(from: $0, tags: tags[$0["id"]] ?? []) }
        }
    }

    /// Full-text search over titles, bodies and notes of live articles, best
    /// match first. Every word must occur, in the title, the body or a note;
    /// `word*` matches a prefix.
    public func search(_ query: String, limit: Int = 20) throws -> [SearchHit] {
        let terms = try Self.matchTerms(query)
        try store.refreshSearchIndexIfBehind()
        // Notes have an index of their own (`SearchIndex`), so an article
        // matches when each word is in one index or the other. Its rank adds
        // both indexes' bm25 for any of the words: the title's words weigh 10
        // against the body's 1 inside the first, and the notes' score counts
        // four times (a note is short, and its few words would otherwise
        // weigh little beside a long body). Each index ranks its matches in
        // one pass (materialised: asked per article, FTS5 parsed the query
        // again for each, 90 times slower for a word in every article); only
        // the hits shown get a snippet.
        var arguments: [String: (any DatabaseValueConvertible)?] = ["any": terms.joined(separator: " OR "), "limit": limit]
        var matched: [String] = []
        for (index, term) in terms.enumerated() {
            arguments["t\(index)"] = term
            matched.append(
                """
                SELECT rowid FROM (
                    SELECT rowid FROM search_index WHERE search_index MATCH :t\(index)
                    UNION SELECT rowid FROM note_search_index WHERE note_search_index MATCH :t\(index))
                """)
        }
        return try store.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    WITH matched (rowid) AS (\(matched.joined(separator: " INTERSECT "))),
                    text_rank AS MATERIALIZED (
                        SELECT rowid, bm25(search_index, 10.0, 1.0) AS rank FROM search_index WHERE search_index MATCH :any),
                    note_rank AS MATERIALIZED (
                        SELECT rowid, bm25(note_search_index) AS rank FROM note_search_index WHERE note_search_index MATCH :any),
                    ranked AS (
                        SELECT m.rowid, COALESCE(t.rank, 0) + 4.0 * COALESCE(n.rank, 0) AS rank
                        FROM matched m LEFT JOIN text_rank t ON t.rowid = m.rowid LEFT JOIN note_rank n ON n.rowid = m.rowid
                        ORDER BY rank LIMIT :limit)
                    SELECT a.id, a.title, a.url, r.rank,
                           COALESCE(
                               (SELECT snippet(search_index, -1, '[', ']', '…', 16) FROM search_index
                                WHERE search_index MATCH :any AND rowid = r.rowid),
                               (SELECT snippet(note_search_index, -1, '[', ']', '…', 16) FROM note_search_index
                                WHERE note_search_index MATCH :any AND rowid = r.rowid)) AS snippet
                    FROM ranked r JOIN articles a ON a.rowid = r.rowid
                    ORDER BY r.rank, a.id
                    """, arguments: StatementArguments(arguments)
            )
            .map { SearchHit(id: $0["id"], title: $0["title"], url: $0["url"], snippet: Self.oneLine($0["snippet"]), rank: $0["rank"]) }
        }
    }

    /// Counts for `status`.
    public func status() throws -> LibraryStatus {
        try store.read { db in
            func count(_ sql: String) throws -> Int { try Int.fetchOne(db, sql: sql) ?? 0 }
            return LibraryStatus(
                home: home.directory.path,
                node: store.node.rawValue,
                articles: try count("SELECT count(*) FROM articles WHERE deleted = 0"),
                unread: try count(
                    "SELECT count(*) FROM articles a LEFT JOIN read_state r ON r.article_id = a.id WHERE a.deleted = 0 AND COALESCE(r.status, 'unread') <> 'read'"
                ),
                deleted: try count("SELECT count(*) FROM articles WHERE deleted = 1"),
                notes: try count("SELECT count(*) FROM notes n JOIN articles a ON a.id = n.article_id WHERE n.deleted = 0 AND a.deleted = 0"),
                pendingChanges: try Outbox.count(db),
                server: try MetaKey.serverURL.read(db),
                lastSync: try MetaKey.lastSync.read(db),
                conflicts: try count("SELECT count(*) FROM conflicts"))
        }
    }

    // MARK: Helpers

    private static let summaryColumns = """
        a.id, a.url, a.title, a.site, a.added_at, a.word_count,
        COALESCE(r.status, 'unread') AS status, COALESCE(r.archived, 0) AS archived,
        COALESCE(r.favorite, 0) AS favorite, COALESCE(r.progress, 0.0) AS progress
        """

    private static func summary(from row: Row, tags: [String]) -> ArticleSummary {
        let words: Int = row["word_count"]
        return ArticleSummary(
            id: row["id"], url: row["url"], title: row["title"], site: row["site"], status: row["status"],
            archived: row["archived"], favorite: row["favorite"], progress: row["progress"], tags: tags,
            addedAt: row["added_at"], wordCount: words, readingMinutes: TextStatistics.readingMinutes(words: words))
    }

    private static func tagsByArticle(_ db: Database) throws -> [String: [String]] {
        var result: [String: [String]] = [:]
        for row in try Row.fetchAll(db.cachedStatement(sql: "SELECT article_id, name FROM tags ORDER BY name")) {
            result[row["article_id"], default: []].append(row["name"])
        }
        return result
    }

    /// Turns what a user typed into safe FTS5 terms: each word becomes a
    /// quoted phrase (so `"`, `-`, `:`, `NEAR` mean nothing special), and a
    /// trailing `*` keeps its prefix meaning.
    static func matchTerms(_ query: String) throws -> [String] {
        let terms = query.split(whereSeparator: { $0.isWhitespace }).compactMap { word -> String? in
            let isPrefix = word.hasSuffix("*")
            let text = word.filter { $0 != "\"" && $0 != "*" }
            guard text.contains(where: { $0.isLetter || $0.isNumber }) else { return nil }
            return "\"\(text)\"" + (isPrefix ? "*" : "")
        }
        guard !terms.isEmpty else { throw LookupError.emptySearch }
        return terms
    }

    private static func oneLine(_ text: String) -> String {
        text.split(whereSeparator: { $0.isNewline }).joined(separator: " ")
    }
}
