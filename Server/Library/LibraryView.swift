import Foundation
import ReadSyncArticles
import ReadSyncCore

/// A user's library as readers see it (the OPDS catalog), made from the
/// merged fields the store holds: the same fields every device materialises,
/// read the same way (a deleted article, note or tag is gone; a field never
/// set reads as unset).
struct LibraryView {
    struct Article {
        let id: String
        var url: String?
        var title = ""
        var author: String?
        var site: String?
        var published: String?
        var excerpt: String?
        var content = ""
        /// Words in the body, as the device that saved it counted them.
        var wordCount: Int?
        var addedAt = ""
        /// `addedAt` in Unix milliseconds (0 when unset or unreadable), read once here.
        var addedMilliseconds: Int64 = 0
        var status = ReadStatus.unread
        /// How far it is read, 0…1.
        var progress = 0.0
        var archived = false
        var favorite = false
        var tags: [String] = []
        var notes: [Note] = []
        /// When anything of it last changed (its fields, read-state, tags or
        /// notes), in Unix milliseconds, by the clocks of the writes.
        var updatedAt: Int64 = 0
    }

    struct Note {
        let id: String
        let body: String
        let quote: String?
        let createdAt: String?
    }

    /// The live articles, newest first.
    let articles: [Article]
    /// The articles in the trash (deleted, and kept so they can be brought back), newest first.
    let trash: [Article]

    init(_ registers: [RegisterKey: Register]) {
        var articles: [String: Article] = [:]
        var deleted: Set<String> = []
        var readStates: [String: [String: FieldValue]] = [:]
        var notes: [String: [String: FieldValue]] = [:]
        var tags: [(article: String, name: String)] = []
        var updated: [String: Int64] = [:]
        var noteTimes: [String: Int64] = [:]
        for (key, register) in registers {
            // The article a field belongs to, for its time of last change.
            let owner: String? =
                switch key.kind {
                case .article, .readState: key.entity
                case .tag: key.entity.split(separator: "/", maxSplits: 1).first.map(String.init)
                default: nil  // a note names its article in a field: counted below
                }
            if let owner { updated[owner] = max(updated[owner] ?? 0, register.timestamp.physical) }
            switch key.kind {
            case .article:
                var article = articles[key.entity] ?? Article(id: key.entity)
                let value = register.value
                switch ArticleField(rawValue: key.field) {
                case .url: article.url = value.text
                case .title: article.title = value.text ?? ""
                case .author: article.author = value.text
                case .site: article.site = value.text
                case .published: article.published = value.text
                case .excerpt: article.excerpt = value.text
                case .content: article.content = value.text ?? ""
                case .addedAt: article.addedAt = value.text ?? ""
                case .deleted: if value.bool { deleted.insert(key.entity) }
                case .wordCount: article.wordCount = value.int.map(Int.init)
                case nil: break
                }
                articles[key.entity] = article
            case .readState: readStates[key.entity, default: [:]][key.field] = register.value
            case .note:
                notes[key.entity, default: [:]][key.field] = register.value
                noteTimes[key.entity] = max(noteTimes[key.entity] ?? 0, register.timestamp.physical)
            case .tag:
                // A tag's id is `<article id>/<tag name>`.
                guard register.value.bool, let slash = key.entity.firstIndex(of: "/") else { continue }
                tags.append((String(key.entity[..<slash]), String(key.entity[key.entity.index(after: slash)...])))
            default: continue  // a kind a newer version brought: not shown here
            }
        }
        for (id, fields) in readStates where articles[id] != nil {
            articles[id]?.status = fields[ReadStateField.status.rawValue]?.text.flatMap(ReadStatus.init) ?? .unread
            articles[id]?.archived = fields[ReadStateField.archived.rawValue]?.bool ?? false
            articles[id]?.favorite = fields[ReadStateField.favorite.rawValue]?.bool ?? false
            articles[id]?.progress = fields[ReadStateField.progress.rawValue]?.double ?? 0
        }
        for tag in tags where articles[tag.article] != nil { articles[tag.article]?.tags.append(tag.name) }
        for (id, fields) in notes.sorted(by: { ($0.value["created_at"]?.text ?? "", $0.key) < ($1.value["created_at"]?.text ?? "", $1.key) }) {
            guard !(fields[NoteField.deleted.rawValue]?.bool ?? false), let article = fields[NoteField.articleID.rawValue]?.text,
                let body = fields[NoteField.body.rawValue]?.text, articles[article] != nil
            else { continue }
            articles[article]?.notes.append(
                Note(
                    id: id, body: body, quote: fields[NoteField.quote.rawValue]?.text,
                    createdAt: fields[NoteField.createdAt.rawValue]?.text))
        }
        for (note, stamp) in noteTimes {
            if let article = notes[note]?[NoteField.articleID.rawValue]?.text { updated[article] = max(updated[article] ?? 0, stamp) }
        }
        for (id, time) in updated where articles[id] != nil { articles[id]?.updatedAt = time }
        let all = articles.values
            .map { article in
                var article = article
                article.tags.sort()
                article.addedMilliseconds = Self.milliseconds(article.addedAt)
                return article
            }
            .sorted { ($0.addedAt, $0.id) > ($1.addedAt, $1.id) }
        self.articles = all.filter { !deleted.contains($0.id) }
        trash = all.filter { deleted.contains($0.id) }
    }

    /// An ISO 8601 time as readsync writes them (`2026-12-01T23:36:14.356Z`), in Unix milliseconds; 0 if unreadable.
    static func milliseconds(_ iso: String) -> Int64 {
        let date = (try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(iso)) ?? (try? Date.ISO8601FormatStyle().parse(iso))
        return date.map { Int64(($0.timeIntervalSince1970 * 1000).rounded()) } ?? 0
    }

    /// Every tag on a live article, sorted.
    var tags: [String] { Array(Set(articles.flatMap(\.tags))).sorted() }
}

extension LibraryView.Article {
    /// The article as a book of its own, with its notes: what the OPDS
    /// catalog and the wallabag API hand to e-readers.
    var book: EPUBBook {
        EPUBBook(
            identifier: "urn:readsync:article:\(id)", title: title, author: author,
            chapters: [
                EPUBBook.Chapter(
                    title: title, author: author, site: site, url: url, published: published, text: content,
                    notes: notes.map { EPUBBook.Note(body: $0.body, quote: $0.quote, createdAt: $0.createdAt) })
            ])
    }
}

extension SyncStore {
    /// A user's library as readers list it: every article without its body,
    /// the bulk of a library's bytes; `withBodies` reads the bodies of the
    /// articles a view shows in full.
    func library(of user: UserID) async throws -> LibraryView {
        LibraryView(try await state(for: user, bodies: false).registers)
    }

    /// `articles` with their bodies.
    func withBodies(_ articles: [LibraryView.Article], of user: UserID) async throws -> [LibraryView.Article] {
        let bodies = try await self.bodies(of: articles.map(\.id), for: user)
        return articles.map { article in
            var article = article
            article.content = bodies[article.id] ?? ""
            return article
        }
    }

    func withBody(_ article: LibraryView.Article, of user: UserID) async throws -> LibraryView.Article {
        try await withBodies([article], of: user)[0]
    }
}
