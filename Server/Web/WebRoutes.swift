import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import ReadSyncArticles
import ReadSyncCore

/// The web reader at `/`: a user's library in a browser, on the same port as
/// the sync API. Server-rendered pages that work without script (a small one
/// saves reading progress); every write goes through the server's replica
/// (`ServerReplica`), so it is an ordinary write that reaches every device,
/// and every device's write shows at the next page load.
///
/// A user signs in with the password `readsync user password` set (bcrypt);
/// a session is a signed cookie (`WebSession`); every form carries the
/// session's CSRF token; failed sign-ins count against the same limit as
/// the wallabag and OPDS ones (`SignInThrottle`).
struct WebRoutes: Sendable {
    let store: any SyncStore
    let clock: any WallClock
    let replica: ServerReplica
    let throttle: SignInThrottle
    let saving: PageSaving
    let pages = WebPages()

    /// Articles on one page of the list.
    static let pageSize = 20

    func register(on router: Router<SyncRequestContext>) {
        let web = router.group().add(middleware: WebPageMiddleware(pages: pages))
        web.get("/signin") { request, context in
            signInPage(next: Self.localPath(request.uri.queryParameters["next"].map(String.init)), secure: context.servedOverTLS(request.headers))
        }
        web.post("/signin") { request, context in try await signIn(request, context) }
        web.post("/signout") { request, context in
            _ = try await signedPost(request, context)
            return signOut(request, context)
        }
        web.get("/") { request, context in try await list(request, context) }
        web.get("/articles/:id") { request, context in try await article(request, context) }
        web.post("/articles/:id") { request, context in try await articleAction(request, context) }
        web.post("/articles/:id/progress") { request, context in try await progress(request, context) }
        web.post("/articles/:id/notes") { request, context in try await addNote(request, context) }
        web.post("/notes/:id") { request, context in try await noteAction(request, context) }
        web.post("/save") { request, context in try await save(request, context) }
        for asset in WebAssets.all {
            web.get(RouterPath(asset.path)) { _, _ in asset.response }
        }
    }

    // MARK: - Signing in and out

    /// The sign-in form, to come back to `next` after.
    private func signInPage(next: String, secure: Bool, problem: String? = nil, status: HTTPResponse.Status = .ok) -> Response {
        // The form's own CSRF token: a random value the form and a cookie
        // both carry (another site can set neither).
        let token = AccessToken.generate()
        var response = pages.response(status, "signin", SignInPage(page: PageChrome(title: "Sign in"), csrf: token, next: next, problem: problem))
        response.setCookie(
            Cookie(
                name: Self.signInCookie, value: token, maxAge: 3600, path: "/signin",
                secure: secure, httpOnly: true, sameSite: .strict))
        return response
    }

    private func signIn(_ request: Request, _ context: SyncRequestContext) async throws -> Response {
        let fields = try await Self.form(of: request)
        guard let token = fields["csrf"], !token.isEmpty, token == request.cookies[Self.signInCookie]?.value else {
            throw WebError.forgedForm
        }
        let name = (fields["name"] ?? "").trimmingCharacters(in: .whitespaces)
        let password = fields["password"] ?? ""
        let address = context.signInAddress(request.headers)
        if let wait = throttle.refusal(user: name, address: address) {
            throw WebError(
                .tooManyRequests, "Too many failed sign-ins", "Wait \(wait) seconds, then try again.",
                headers: [.retryAfter: String(wait)])
        }
        let account = try await store.webPassword(ofUserNamed: name)
        // Checked against a hash even for a name with no password, so the
        // time taken does not tell which names exist.
        guard await WebPassword.verifyOffThePool(password, hash: account?.hash), let account else {
            throttle.failed(user: name, address: address)
            return signInPage(
                next: Self.localPath(fields["next"]), secure: context.servedOverTLS(request.headers),
                problem: "Wrong user name or password.", status: .unauthorized)
        }
        context.facts.user = account.user
        let value = WebSession.cookieValue(name: name, passwordHash: account.hash, now: nowSeconds)
        var response = Self.redirect(to: Self.localPath(fields["next"]))
        let secure = context.servedOverTLS(request.headers)
        response.setCookie(WebSession.cookie(value, secure: secure))
        response.setCookie(Cookie(name: Self.signInCookie, value: "", maxAge: 0, path: "/signin", secure: secure, httpOnly: true, sameSite: .strict))
        return response
    }

    private func signOut(_ request: Request, _ context: SyncRequestContext) -> Response {
        var response = Self.redirect(to: "/signin")
        response.setCookie(WebSession.signedOut(secure: context.servedOverTLS(request.headers)))
        return response
    }

    static let signInCookie = "readsync_signin"

    // MARK: - The list

    private func list(_ request: Request, _ context: SyncRequestContext) async throws -> Response {
        let session = try await signedIn(request, context)
        let query = request.uri.queryParameters
        let search = (query["q"].map(String.init) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        let tag = query["tag"].map(String.init).flatMap(TagEntity.normalizedName)
        let view = search.isEmpty && tag == nil ? ListView(rawValue: query["view"].map(String.init) ?? "") ?? .unread : .all
        let pageNumber = max(1, query["page"].flatMap { Int($0) } ?? 1)

        let library = try await store.library(of: session.user)
        var chosen: [LibraryView.Article]
        var snippets: [String: [TextSegment]] = [:]
        switch view {
        case .unread: chosen = library.articles.filter { $0.status != .read && !$0.archived }
        case .archive: chosen = library.articles.filter { $0.archived || $0.status == .read }
        case .favorites: chosen = library.articles.filter(\.favorite)
        case .all: chosen = library.articles
        case .trash: chosen = library.trash
        }
        if let tag { chosen = chosen.filter { $0.tags.contains(tag) } }
        if !search.isEmpty {
            let found = LibrarySearch(search).matches(in: try await store.withBodies(chosen, of: session.user))
            chosen = found.map(\.article)
            for match in found { snippets[match.article.id] = match.snippet }
        }
        let pages = max(1, (chosen.count + Self.pageSize - 1) / Self.pageSize)
        let shown = chosen.dropFirst((min(pageNumber, pages) - 1) * Self.pageSize).prefix(Self.pageSize)

        func link(page: Int) -> String {
            var items: [URLQueryItem] = []
            if !search.isEmpty {
                items.append(URLQueryItem(name: "q", value: search))
            } else if let tag {
                items.append(URLQueryItem(name: "tag", value: tag))
            } else {
                items.append(URLQueryItem(name: "view", value: view.rawValue))
            }
            if page > 1 { items.append(URLQueryItem(name: "page", value: String(page))) }
            var components = URLComponents()
            components.path = "/"
            components.queryItems = items
            return components.string ?? "/"
        }
        let tagLinks = library.tags.map { name in
            TagLink(name: name, href: "/?tag=" + (name.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? name), current: name == tag)
        }
        let heading = !search.isEmpty ? "Search: \(search)" : tag.map { "Tag: \($0)" } ?? view.title
        let page = ListPage(
            page: PageChrome(title: heading, session: session, current: search.isEmpty && tag == nil ? view : nil, search: search),
            heading: heading,
            count: chosen.count == 1 ? "1 article" : "\(chosen.count) articles",
            items: shown.map { ListItem($0, snippet: snippets[$0.id]) },
            empty: chosen.isEmpty,
            newer: pageNumber > 1 ? link(page: min(pageNumber, pages) - 1) : nil,
            older: pageNumber < pages ? link(page: pageNumber + 1) : nil,
            pageLabel: pages > 1 ? "Page \(min(pageNumber, pages)) of \(pages)" : nil,
            tags: tagLinks, hasTags: !tagLinks.isEmpty)
        return self.pages.response(.ok, "list", page)
    }

    // MARK: - One article

    private func article(_ request: Request, _ context: SyncRequestContext) async throws -> Response {
        let session = try await signedIn(request, context)
        let (article, deleted) = try await find(context, of: session)
        let full = try await store.withBody(article, of: session.user)
        return pages.response(.ok, "article", ArticlePage(full, deleted: deleted, session: session))
    }

    /// The buttons of the article page: read, archive, favorite, tags, trash.
    private func articleAction(_ request: Request, _ context: SyncRequestContext) async throws -> Response {
        let (session, fields) = try await signedPost(request, context)
        let (article, _) = try await find(context, of: session)
        let id = article.id, now = self.nowText
        var tags: [String] = []
        let action = fields["action"] ?? ""
        switch action {
        case "tag":
            tags = try (fields["tags"] ?? "").split(separator: ",").compactMap { name in
                guard !name.allSatisfy(\.isWhitespace) else { return nil }
                guard let tag = TagEntity.normalizedName(String(name)) else {
                    throw WebError(.badRequest, "Not a tag", "A tag is one line of at most 100 characters.")
                }
                return tag
            }
        case "untag":
            guard let tag = fields["tag"].flatMap(TagEntity.normalizedName) else { throw WebError(.badRequest, "Not a tag", "Say which tag to remove.") }
            tags = [tag]
        case "read", "unread", "archive", "unarchive", "favorite", "unfavorite", "delete", "restore": break
        default: throw WebError(.badRequest, "Unknown action", "The form asked for '\(action.prefix(40))', which this page does not do.")
        }
        try await write(session, article: id, tags: tags) { [tags] edit in
            switch action {
            case "read", "unread": edit.setRead(id, action == "read", now: now)
            case "archive", "unarchive": edit.setArchived(id, action == "archive")
            case "favorite", "unfavorite": edit.setFavorite(id, action == "favorite")
            case "delete", "restore": edit.setDeleted(id, action == "delete")
            case "tag": for tag in tags { edit.setTag(tag, on: id, true) }
            default: for tag in tags { edit.setTag(tag, on: id, false) }
            }
        }
        // Back to the article (after a delete, it says it is in the trash and offers Restore).
        return Self.redirect(to: "/articles/\(id)")
    }

    /// Reading progress, from the reader's script as the page is scrolled:
    /// only ever forward (reading an article again from the top does not
    /// make it unread), and never to the end (reaching it is not deciding
    /// it is read: that is the button's).
    private func progress(_ request: Request, _ context: SyncRequestContext) async throws -> Response {
        let (session, fields) = try await signedPost(request, context)
        let (article, _) = try await find(context, of: session)
        guard let fraction = fields["progress"].flatMap(Double.init), fraction.isFinite, (0...1).contains(fraction) else {
            throw WebError(.badRequest, "Not a progress", "Progress is a number from 0 to 1.")
        }
        let id = article.id, now = self.nowText
        try await write(session, article: id) { edit in
            let current = edit.value(.readState(id, .progress))?.double ?? 0
            if edit.status(id) != .read, fraction > current { edit.setProgress(id, min(fraction, 0.99), now: now) }
        }
        return Response(status: .noContent)
    }

    // MARK: - Notes

    private func addNote(_ request: Request, _ context: SyncRequestContext) async throws -> Response {
        let (session, fields) = try await signedPost(request, context)
        let (article, _) = try await find(context, of: session)
        let body = (fields["body"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        let quote = (fields["quote"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard !body.isEmpty || !quote.isEmpty else { throw WebError(.badRequest, "Empty note", "Write a note, quote a passage, or both.") }
        let noteID = Identity.newNoteID(), id = article.id, now = self.nowText
        try await write(session, article: id, notes: [noteID]) { edit in
            edit.addNote(noteID, to: id, body: body, quote: quote, now: now)
        }
        return Self.redirect(to: "/articles/\(id)#note-\(noteID)")
    }

    private func noteAction(_ request: Request, _ context: SyncRequestContext) async throws -> Response {
        let (session, fields) = try await signedPost(request, context)
        let noteID = try context.parameters.require("id")
        let library = try await store.library(of: session.user)
        guard let article = library.articles.first(where: { $0.notes.contains { $0.id == noteID } }) else {
            throw WebError(.notFound, "No such note", "It may have been deleted on another device.")
        }
        switch fields["action"] {
        case "edit":
            let body = (fields["body"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            guard !body.isEmpty else { throw WebError(.badRequest, "Empty note", "To remove a note, delete it.") }
            try await write(session, article: article.id, notes: [noteID]) { edit in edit.setNoteBody(noteID, body) }
        case "delete":
            try await write(session, article: article.id, notes: [noteID]) { edit in edit.deleteNote(noteID) }
        default:
            throw WebError(.badRequest, "Unknown action", "A note can be edited or deleted.")
        }
        return Self.redirect(to: "/articles/\(article.id)#notes")
    }

    // MARK: - Saving a page

    private func save(_ request: Request, _ context: SyncRequestContext) async throws -> Response {
        let (session, fields) = try await signedPost(request, context)
        let text = (fields["url"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard let url = CanonicalURL(text) else {
            throw WebError(.badRequest, "Not a web address", "Give an address starting with http:// or https://.")
        }
        let urlID = Identity.articleID(for: url)
        let library = try await store.library(of: session.user)
        let known = library.articles.first { $0.id == urlID }
        let draft = known == nil ? await saving.draft(of: url) : nil
        let id = draft?.id ?? urlID, now = self.nowText
        try await write(session, article: id) { [draft] edit in edit.save(id, url: url, draft: draft, now: now) }
        return Self.redirect(to: "/articles/\(id)")
    }

    // MARK: - Sessions, forms and answers

    /// The signed-in session, or a redirect to the sign-in page.
    private func signedIn(_ request: Request, _ context: SyncRequestContext) async throws -> WebSession {
        guard let session = try await WebSession.of(request, store: store, now: nowSeconds) else {
            throw WebError.signInFirst(next: request.method == .get ? request.uri.description : "/")
        }
        context.facts.user = session.user
        return session
    }

    /// The session of a form post and its fields, once its CSRF token is checked.
    private func signedPost(_ request: Request, _ context: SyncRequestContext) async throws -> (WebSession, [String: String]) {
        let session = try await signedIn(request, context)
        let fields = try await Self.form(of: request)
        guard session.accepts(csrfToken: fields["csrf"]) else { throw WebError.forgedForm }
        return (session, fields)
    }

    /// The live article the path names, or one in the trash.
    private func find(_ context: SyncRequestContext, of session: WebSession) async throws -> (LibraryView.Article, deleted: Bool) {
        let id = try context.parameters.require("id")
        let library = try await store.library(of: session.user)
        if let article = library.articles.first(where: { $0.id == id }) { return (article, false) }
        if let article = library.trash.first(where: { $0.id == id }) { return (article, true) }
        throw WebError(.notFound, "No such article", "It may have been deleted for good, or the address is mistyped.")
    }

    private func write(
        _ session: WebSession, article id: String, tags: [String] = [], notes: [String] = [],
        _ body: @Sendable @escaping (inout ReplicaEdit) -> Void
    ) async throws {
        do {
            try await replica.edit(session.user, article: id, tags: tags, notes: notes) { edit in body(&edit) }
        } catch let refused as ReplicaWriteRefused {
            throw WebError(.badRequest, "Not saved", refused.reason)
        }
    }

    private var nowSeconds: Int64 { clock.nowMilliseconds() / 1000 }
    private var nowText: String { ISOTime.string(milliseconds: clock.nowMilliseconds()) }

    private static func form(of request: Request) async throws -> [String: String] {
        let body = try await RequestBodyReader.read(request, limit: 1_048_576)
        guard (request.headers[.contentType] ?? "").lowercased().hasPrefix("application/x-www-form-urlencoded") else {
            throw WebError(.badRequest, "Not a form", "This address takes a form post.")
        }
        return try WallabagRoutes.fields(of: body, contentType: "application/x-www-form-urlencoded")
    }

    /// Where to go back to: a path on this site only (`/…`, never `//host`).
    static func localPath(_ path: String?) -> String {
        guard let path, path.hasPrefix("/"), !path.hasPrefix("//"), !path.hasPrefix("/\\"), !path.contains(where: \.isNewline) else {
            return "/"
        }
        return path
    }

    static func redirect(to path: String) -> Response {
        Response(status: .seeOther, headers: [.location: path])
    }
}

/// The lists a user picks from.
enum ListView: String, CaseIterable {
    case unread, archive, favorites, all, trash

    var title: String {
        switch self {
        case .unread: "Unread"
        case .archive: "Archive"
        case .favorites: "Favorites"
        case .all: "All articles"
        case .trash: "Trash"
        }
    }
}
