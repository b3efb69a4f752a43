import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import ReadSyncArticles
import ReadSyncCore

/// The reading side of the wallabag API: entries listed with wallabag's
/// filters and paging, one entry, one entry as an EPUB, and the tags, all
/// from the user's merged fields (`LibraryView`), so a device's sync shows
/// at once. Apps sign in first (`WallabagRoutes`) and send the access token
/// as `Authorization: Bearer`.
struct WallabagEntries: Sendable {
    let store: any SyncStore
    let clock: any WallClock
    /// Writes through the API (`WallabagWrites.swift`).
    let replica: ServerReplica
    /// Where saved pages may be fetched from.
    let fetchPolicy: AddressPolicy

    func register(on router: Router<SyncRequestContext>) {
        for path in ["/api/entries", "/api/entries.json"] {
            router.get(RouterPath(path)) { request, context in try await list(request, context) }
        }
        router.get("/api/entries/:id") { request, context in
            let (account, library) = try await signIn(request, context)
            return try WallabagRoutes.json(entry(try await store.withBody(try article(context, in: library), of: account.user), of: account, full: true))
        }
        router.get("/api/entries/:id/export.epub") { request, context in
            let (account, library) = try await signIn(request, context)
            let article = try await store.withBody(try article(context, in: library), of: account.user)
            let book = article.book
            var headers: HTTPFields = [.contentType: "application/epub+zip"]
            headers[.contentDisposition] = #"attachment; filename="\#(WallabagID.of(article.id)).epub""#
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: try book.data())))
        }
        registerWrites(on: router)
        for path in ["/api/tags", "/api/tags.json"] {
            router.get(RouterPath(path)) { request, context in
                let (_, library) = try await signIn(request, context)
                return try WallabagRoutes.json(library.tags.map(Self.tag))
            }
        }
    }

    // MARK: - Signing in

    /// The access token `POST /oauth/v2/token` gave, and the user's library.
    func signIn(_ request: Request, _ context: SyncRequestContext) async throws -> (WallabagAccount, LibraryView) {
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer "),
            case let token = String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces),
            let clientID = WallabagToken.clientID(of: token), let account = try await store.wallabagAccount(clientID: clientID),
            WallabagToken.isValid(token, .access, for: account, now: clock.nowMilliseconds() / 1000)
        else { throw OAuthError.invalidToken }
        context.facts.user = account.user
        return (account, try await store.library(of: account.user))
    }

    /// The live article whose integer id the path names.
    func article(_ context: SyncRequestContext, in library: LibraryView) throws -> LibraryView.Article {
        let id = Int64(Self.withoutJSON(try context.parameters.require("id")))
        guard let id, let article = library.articles.first(where: { WallabagID.of($0.id) == id }) else {
            throw WallabagError(.notFound, "Entry not found")
        }
        return article
    }

    // MARK: - The list

    private func list(_ request: Request, _ context: SyncRequestContext) async throws -> Response {
        let (account, library) = try await signIn(request, context)
        let query = request.uri.queryParameters
        func flag(_ name: String) throws -> Bool? {
            guard let text = query[name[...]] else { return nil }
            guard text == "0" || text == "1" else { throw WallabagError(.badRequest, "'\(name)' must be 0 or 1") }
            return text == "1"
        }
        func number(_ name: String, default value: Int, range: ClosedRange<Int>) throws -> Int {
            guard let text = query[name[...]] else { return value }
            guard let number = Int(text), range.contains(number) else {
                throw WallabagError(.badRequest, "'\(name)' must be a whole number from \(range.lowerBound) to \(range.upperBound)")
            }
            return number
        }
        let archived = try flag("archive"), starred = try flag("starred")
        let tags = (query["tags"].map(String.init) ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            .filter { !$0.isEmpty }
        let since = Int64(try number("since", default: 0, range: 0...Int(Int32.max)))
        let page = try number("page", default: 1, range: 1...1_000_000)
        // 0, or more than there are (the wallabag-client CLI sends the
        // largest integer when not told a count): all of them on one page.
        let askedPerPage = try number("perPage", default: 30, range: 0...Int.max)
        let byUpdate = query["sort"] == "updated"
        let ascending = query["order"] == "asc"
        let full = query["detail"] != "metadata"

        var chosen = library.articles.filter { article in
            (archived.map { $0 == Self.isArchived(article) } ?? true) && (starred.map { $0 == article.favorite } ?? true)
                && tags.allSatisfy(article.tags.contains) && article.updatedAt / 1000 >= since
        }
        chosen.sort { first, second in
            let (a, b) = byUpdate ? (first.updatedAt, second.updatedAt) : (first.addedMilliseconds, second.addedMilliseconds)
            return a == b ? (ascending ? first.id < second.id : first.id > second.id) : (ascending ? a < b : a > b)
        }
        let perPage = askedPerPage == 0 ? max(1, chosen.count) : min(askedPerPage, max(1, chosen.count))
        let pages = max(1, (chosen.count + perPage - 1) / perPage)
        var shown = Array(chosen.dropFirst(min(chosen.count, (page - 1) * perPage)).prefix(perPage))
        if full { shown = try await store.withBodies(shown, of: account.user) }
        let items = shown.map { entry($0, of: account, full: full) }
        return try WallabagRoutes.json(
            [
                "page": page, "limit": perPage, "pages": pages, "total": chosen.count,
                "_embedded": ["items": items],
            ] as [String: any Sendable])
    }

    // MARK: - An entry, as wallabag shapes it

    func entry(_ article: LibraryView.Article, of account: WallabagAccount, full: Bool) -> [String: any Sendable] {
        let created = Self.wallabagTime(article.addedMilliseconds)
        let domain = article.url.flatMap { URLComponents(string: $0)?.host }
        let words = article.wordCount ?? TextStatistics.wordCount(article.content)
        return [
            "id": WallabagID.of(article.id),
            "url": article.url ?? NSNull(), "given_url": article.url ?? NSNull(), "origin_url": NSNull(),
            "hashed_url": article.url.map(Self.sha1Hex) ?? NSNull(),
            "title": article.title,
            "content": full ? Self.html(article.content) : NSNull(),
            "is_archived": Self.isArchived(article) ? 1 : 0, "is_starred": article.favorite ? 1 : 0,
            "tags": article.tags.map(Self.tag),
            "created_at": created, "updated_at": Self.wallabagTime(max(article.updatedAt, article.addedMilliseconds)),
            "archived_at": NSNull(), "starred_at": NSNull(),
            "published_at": article.published ?? NSNull(),
            "published_by": article.author.map { [$0] } ?? [String](),
            "reading_time": TextStatistics.readingMinutes(words: words),
            "domain_name": domain ?? NSNull(), "preview_picture": NSNull(), "language": NSNull(),
            "mimetype": "text/html",
            "annotations": article.notes.map { annotation($0, in: article) },
            "user_name": account.name, "user_id": account.user.rawValue,
        ]
    }

    /// wallabag's "archived" is done with: read to the end, or archived.
    static func isArchived(_ article: LibraryView.Article) -> Bool { article.archived || article.status == .read }

    /// A note as a wallabag annotation (annotator.js's shape).
    func annotation(_ note: LibraryView.Note, in article: LibraryView.Article) -> [String: any Sendable] {
        let created = note.createdAt.map { Self.wallabagTime(LibraryView.milliseconds($0)) } ?? Self.wallabagTime(article.addedMilliseconds)
        return [
            "id": WallabagID.of(note: note.id), "text": note.body, "quote": note.quote ?? "",
            "ranges": [Self.range(of: note.quote, in: article.content)], "created_at": created, "updated_at": created,
        ]
    }

    /// Where a note's quoted passage sits in the entry's HTML, as wallabag
    /// (annotator.js) names it: the paragraph (`/p[N]`) and the character
    /// offsets in it. A note without a quote, or whose quote is not found,
    /// gets an empty range at the start: apps expect one range.
    static func range(of quote: String?, in text: String) -> [String: any Sendable] {
        let paragraphs = EPUBBook.paragraphs(text)
        if let quote, !quote.isEmpty {
            for (index, paragraph) in paragraphs.enumerated() {
                guard let found = paragraph.range(of: quote) else { continue }
                let start = paragraph.distance(from: paragraph.startIndex, to: found.lowerBound)
                return ["start": "/p[\(index + 1)]", "end": "/p[\(index + 1)]", "startOffset": start, "endOffset": start + quote.count]
            }
        }
        return ["start": "/p[1]", "end": "/p[1]", "startOffset": 0, "endOffset": 0]
    }

    static func tag(_ name: String) -> [String: any Sendable] {
        ["id": WallabagID.of(tag: name), "label": name, "slug": name.lowercased().replacingOccurrences(of: " ", with: "-")]
    }

    /// readsync keeps text, one paragraph a line; wallabag apps show HTML.
    static func html(_ text: String) -> String {
        EPUBBook.paragraphs(text).map { "<p>\(XML.escape($0))</p>" }.joined(separator: "\n")
    }

    /// `2024-01-02T03:04:05+0000`, as wallabag writes its dates: readsync's
    /// own ISO time to the second, in UTC.
    static func wallabagTime(_ milliseconds: Int64) -> String {
        ISOTime.string(milliseconds: milliseconds).prefix(19) + "+0000"
    }

    /// wallabag's `hashed_url`: the SHA-1 of the URL, in hex (Foundation has
    /// no SHA-1 on Linux; swift-crypto's `Insecure.SHA1` is it).
    static func sha1Hex(_ text: String) -> String { WallabagID.sha1Hex(text) }
}

/// wallabag's own error answers outside OAuth: `{"code": 4xx, "message": …}`.
struct WallabagError: Error, ForeignShapedError {
    let status: HTTPResponse.Status
    let message: String

    init(_ status: HTTPResponse.Status, _ message: String) {
        self.status = status
        self.message = message
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        let data = try JSONSerialization.data(withJSONObject: ["code": status.code, "message": message] as [String: Any], options: [.sortedKeys])
        return Response(status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}
