import Foundation
import HTTPTypes
import Hummingbird
import ReadSyncArticles
import ReadSyncCore

/// The writing side of the wallabag API: archiving, starring, renaming,
/// tagging and deleting entries, and annotations (readsync notes). Each is
/// a write of the server as a replica of its own (`ServerReplica`): it
/// reaches every device at its next sync, and a device's concurrent edit of
/// the same field is a conflict listed there.
///
/// wallabag's "archived" is readsync's "read": archiving an entry marks it
/// read (and archived), taking it back marks it unread; an entry read or
/// archived on a device is archived here.
extension WallabagEntries {
    func registerWrites(on router: Router<SyncRequestContext>) {
        for path in ["/api/entries", "/api/entries.json"] {
            router.post(RouterPath(path)) { request, context in try await save(request, context) }
        }
        router.patch("/api/entries/:id") { request, context in
            let (account, library) = try await signIn(request, context)
            let article = try article(context, in: library)
            let fields = try await Self.fields(of: request)
            let archive = try Self.flag("archive", in: fields), starred = try Self.flag("starred", in: fields)
            let title = fields["title"].map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            if let title, title.isEmpty { throw WallabagError(.badRequest, "'title' must not be empty") }
            let tags = try Self.tags(fields["tags"])
            let now = self.now
            try await write(account, article: article.id, tags: tags) { edit in
                if let archive { Self.setArchived(archive, article.id, now: now, &edit) }
                if let starred { edit.setFavorite(article.id, starred) }
                if let title { edit.setTitle(article.id, title) }
                for tag in tags { edit.setTag(tag, on: article.id, true) }
            }
            return try await answerEntry(article.id, of: account)
        }
        router.delete("/api/entries/:id") { request, context in
            let (account, library) = try await signIn(request, context)
            let article = try await store.withBody(try article(context, in: library), of: account.user)
            try await write(account, article: article.id) { edit in edit.setDeleted(article.id, true) }
            // wallabag answers the entry as it was.
            return try WallabagRoutes.json(entry(article, of: account, full: true))
        }

        for path in ["/api/entries/:id/tags", "/api/entries/:id/tags.json"] {
            router.get(RouterPath(path)) { request, context in
                let (_, library) = try await signIn(request, context)
                return try WallabagRoutes.json(try article(context, in: library).tags.map(Self.tag))
            }
            router.post(RouterPath(path)) { request, context in
                let (account, library) = try await signIn(request, context)
                let article = try article(context, in: library)
                let tags = try Self.tags(try await Self.fields(of: request)["tags"])
                try await write(account, article: article.id, tags: tags) { edit in
                    for tag in tags { edit.setTag(tag, on: article.id, true) }
                }
                return try await answerEntry(article.id, of: account)
            }
        }
        router.delete("/api/entries/:id/tags/:tag") { request, context in
            let (account, library) = try await signIn(request, context)
            let article = try article(context, in: library)
            let tagID = Int64(Self.withoutJSON(try context.parameters.require("tag")))
            guard let tag = article.tags.first(where: { WallabagID.of(tag: $0) == tagID }) else { throw WallabagError(.notFound, "Tag not found") }
            try await write(account, article: article.id, tags: [tag]) { edit in edit.setTag(tag, on: article.id, false) }
            return try await answerEntry(article.id, of: account)
        }

        for path in ["/api/entries/exists", "/api/entries/exists.json"] {
            router.get(RouterPath(path)) { request, context in try await exists(request, context) }
        }

        router.get("/api/annotations/:id") { request, context in
            let (account, library) = try await signIn(request, context)
            let article = try await store.withBody(try article(context, in: library), of: account.user)
            let rows = article.notes.map { annotation($0, in: article) }
            return try WallabagRoutes.json(["total": rows.count, "rows": rows] as [String: any Sendable])
        }
        router.post("/api/annotations/:id") { request, context in
            let (account, library) = try await signIn(request, context)
            let article = try article(context, in: library)
            let fields = try await Self.fields(of: request)
            let text = (fields["text"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            let quote = fields["quote"]?.trimmingCharacters(in: .whitespacesAndNewlines)
            // A highlight is a quote without a comment.
            guard !text.isEmpty || quote?.isEmpty == false else { throw WallabagError(.badRequest, "give a 'text', a 'quote' or both") }
            let id = Identity.newNoteID(), now = self.now
            try await write(account, article: article.id, notes: [id]) { edit in
                edit.addNote(id, to: article.id, body: text, quote: quote, now: now)
            }
            return try await answerAnnotation(id, of: account)
        }
        router.put("/api/annotations/:id") { request, context in
            let (account, library) = try await signIn(request, context)
            let (article, note) = try annotated(context, in: library)
            let text = (try await Self.fields(of: request)["text"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            guard !text.isEmpty else { throw WallabagError(.badRequest, "'text' must not be empty") }
            try await write(account, article: article.id, notes: [note.id]) { edit in edit.setNoteBody(note.id, text) }
            return try await answerAnnotation(note.id, of: account)
        }
        router.delete("/api/annotations/:id") { request, context in
            let (account, library) = try await signIn(request, context)
            let (article, note) = try annotated(context, in: library)
            try await write(account, article: article.id, notes: [note.id]) { edit in edit.deleteNote(note.id) }
            return try WallabagRoutes.json(annotation(note, in: try await store.withBody(article, of: account.user)))
        }
    }

    // MARK: - Saving a page

    /// Saves the page at `url`: fetched here with the client's own
    /// ingestion, so that it is the same article (same id, same text) as
    /// when a device saves it, unless the app sent its `content` (HTML). A
    /// page that cannot be fetched is saved all the same, with its address
    /// as its title and no text, as a device's import of a bare link is: an
    /// app saving links offline (KOReader) must not lose them. A page saved
    /// before is not fetched again; the fields sent still apply. As on a
    /// device, a page naming another canonical URL (`<link rel=canonical>`)
    /// is saved under that one.
    private func save(_ request: Request, _ context: SyncRequestContext) async throws -> Response {
        let (account, library) = try await signIn(request, context)
        let fields = try await Self.fields(of: request)
        guard let text = fields["url"]?.trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty else {
            throw WallabagError(.badRequest, "'url' is required")
        }
        guard let url = CanonicalURL(text) else { throw WallabagError(.badRequest, "'url' must be an http(s) URL, not '\(text.prefix(200))'") }
        let archive = try Self.flag("archive", in: fields), starred = try Self.flag("starred", in: fields)
        let title = fields["title"]?.trimmingCharacters(in: .whitespacesAndNewlines).nonEmpty
        let tags = try Self.tags(fields["tags"])

        let urlID = Identity.articleID(for: url)
        var known = library.articles.first { $0.id == urlID }
        if let listed = known { known = try await store.withBody(listed, of: account.user) }
        // A page saved with its text is not read again; the fields sent still apply.
        let draft = known?.content.isEmpty ?? true ? await PageSaving(fetchPolicy: fetchPolicy).draft(of: url, html: fields["content"]) : nil
        let id = draft?.id ?? urlID
        let now = self.now
        try await write(account, article: id, tags: tags) { [draft] edit in
            edit.save(id, url: url, draft: draft, now: now)
            if let title { edit.setTitle(id, title) }
            for tag in tags { edit.setTag(tag, on: id, true) }
            if let archive { Self.setArchived(archive, id, now: now, &edit) }
            if let starred { edit.setFavorite(id, starred) }
        }
        return try await answerEntry(id, of: account)
    }

    // MARK: - Writing

    /// The time a write stamps into user-visible dates (read at, created at).
    var now: String { ISOTime.string(milliseconds: clock.nowMilliseconds()) }

    /// One edit of an article's fields, read-state, `tags` and `notes`, as the server's replica.
    private func write(
        _ account: WallabagAccount, article id: String, tags: [String] = [], notes: [String] = [],
        _ body: @Sendable @escaping (inout ReplicaEdit) -> Void
    ) async throws {
        do {
            try await replica.edit(account.user, article: id, tags: tags, notes: notes) { edit in body(&edit) }
        } catch let refused as ReplicaWriteRefused {
            throw WallabagError(.badRequest, refused.reason)
        }
    }

    /// Archiving is reading to the end; taking an entry back from the
    /// archive makes it unread (and keeps no progress: wallabag has none).
    private static func setArchived(_ archived: Bool, _ id: String, now: String, _ edit: inout ReplicaEdit) {
        edit.setArchived(id, archived)
        if archived != (edit.status(id) == .read) { edit.setRead(id, archived, now: now) }
    }

    // MARK: - Answers

    /// The entry as it is after a write.
    private func answerEntry(_ id: String, of account: WallabagAccount) async throws -> Response {
        let library = try await store.library(of: account.user)
        guard let article = library.articles.first(where: { $0.id == id }) else { throw WallabagError(.notFound, "Entry not found") }
        return try WallabagRoutes.json(entry(try await store.withBody(article, of: account.user), of: account, full: true))
    }

    private func answerAnnotation(_ id: String, of account: WallabagAccount) async throws -> Response {
        let library = try await store.library(of: account.user)
        for article in library.articles {
            if let note = article.notes.first(where: { $0.id == id }) {
                return try WallabagRoutes.json(annotation(note, in: try await store.withBody(article, of: account.user)))
            }
        }
        throw WallabagError(.notFound, "Annotation not found")
    }

    /// The live note whose integer id the path names, and its article.
    private func annotated(_ context: SyncRequestContext, in library: LibraryView) throws -> (LibraryView.Article, LibraryView.Note) {
        let id = Int64(Self.withoutJSON(try context.parameters.require("id")))
        for article in library.articles {
            if let note = article.notes.first(where: { WallabagID.of(note: $0.id) == id }) { return (article, note) }
        }
        throw WallabagError(.notFound, "Annotation not found")
    }

    // MARK: - exists

    /// Whether entries with these URLs are saved: `url=` or `hashed_url=`
    /// (the SHA-1 of the URL) for one, `urls[]=` or `hashed_urls[]=` for
    /// many. A URL is found by its canonical form, as saving finds it.
    private func exists(_ request: Request, _ context: SyncRequestContext) async throws -> Response {
        let (_, library) = try await signIn(request, context)
        // Keys as sent may be percent-encoded (OkHttp, the Android app's
        // client, sends `urls%5B%5D`); Hummingbird decodes only the values.
        var query: [String: [String]] = [:]
        for (key, value) in request.uri.queryParameters {
            query[String(key).removingPercentEncoding ?? String(key), default: []].append(String(value))
        }
        let returnID = query["return_id"]?.first == "1"
        var byCanonical: [String: Int64] = [:], byHash: [String: Int64] = [:]
        for article in library.articles {
            guard let url = article.url else { continue }
            byCanonical[url] = WallabagID.of(article.id)
            byHash[WallabagID.sha1Hex(url)] = WallabagID.of(article.id)
        }
        func found(url: String) -> Int64? { CanonicalURL(url).flatMap { byCanonical[$0.string] } }
        func answer(_ id: Int64?) -> any Sendable {
            returnID ? (id.map { $0 as any Sendable } ?? NSNull()) : (id != nil)
        }
        let urls = query["urls[]"] ?? [], hashes = query["hashed_urls[]"] ?? []
        if !urls.isEmpty || !hashes.isEmpty {
            var answers: [String: any Sendable] = [:]
            for url in urls { answers[url] = answer(found(url: url)) }
            for hash in hashes { answers[hash] = answer(byHash[hash.lowercased()]) }
            return try WallabagRoutes.json(answers)
        }
        if let url = query["url"]?.first { return try WallabagRoutes.json(["exists": answer(found(url: url))] as [String: any Sendable]) }
        if let hash = query["hashed_url"]?.first {
            return try WallabagRoutes.json(["exists": answer(byHash[hash.lowercased()])] as [String: any Sendable])
        }
        throw WallabagError(.badRequest, "give url, hashed_url, urls[] or hashed_urls[]")
    }

    // MARK: - Reading requests

    /// The fields of a form or JSON body.
    static func fields(of request: Request) async throws -> [String: String] {
        let body = try await RequestBodyReader.read(request, limit: 1_048_576)
        guard !body.isEmpty else { return [:] }
        do {
            return try WallabagRoutes.fields(of: body, contentType: request.headers[.contentType] ?? "")
        } catch {
            throw WallabagError(.badRequest, "send the fields as a JSON object or a form")
        }
    }

    /// A 0/1 field (`true`/`false` too, as some apps send).
    static func flag(_ name: String, in fields: [String: String]) throws -> Bool? {
        switch fields[name] {
        case nil: return nil
        case "1", "true": return true
        case "0", "false": return false
        default: throw WallabagError(.badRequest, "'\(name)' must be 0 or 1")
        }
    }

    /// wallabag's comma-separated tags, as readsync names them.
    static func tags(_ text: String?) throws -> [String] {
        try (text ?? "").split(separator: ",").compactMap { name in
            guard !name.allSatisfy(\.isWhitespace) else { return nil }
            guard let tag = TagEntity.normalizedName(String(name)) else {
                throw WallabagError(.badRequest, "tag '\(name.prefix(100))' is not a tag: one line of at most 100 characters")
            }
            return tag
        }
    }

    static func withoutJSON(_ text: String) -> String { text.hasSuffix(".json") ? String(text.dropLast(5)) : text }
}

extension String {
    /// nil for an empty string.
    fileprivate var nonEmpty: String? { isEmpty ? nil : self }
}
