import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import ReadSyncArticles
import ReadSyncCore

/// An OPDS 1.2 catalog of a user's library, for e-readers (KOReader, Kobo
/// with a plugin, Thorium, Foliate…), which sign in with HTTP Basic: the
/// readsync user name and their sync token as the password.
///
/// `/opds` is the navigation feed: Unread, Favorites, Archived and one
/// entry per tag. Each leads to an acquisition feed listing its articles,
/// newest first, each with a link to the article as an EPUB
/// (`/opds/articles/{id}.epub`).
///
/// Each request reads the user's whole merged state once (`LibraryView`):
/// simple and always current, and proportional to the library, not to the
/// page shown.
struct OPDSRoutes: Sendable {
    let store: any SyncStore
    /// Failed sign-ins, counted with the wallabag apps' (a password guessed
    /// here is a password guessed there).
    let throttle: SignInThrottle

    static let navigationType = "application/atom+xml;profile=opds-catalog;kind=navigation"
    static let acquisitionType = "application/atom+xml;profile=opds-catalog;kind=acquisition"

    /// The shelves of the navigation feed, and which articles each holds.
    enum Shelf: String, CaseIterable {
        case unread, favorites, archived

        var title: String { rawValue.prefix(1).uppercased() + rawValue.dropFirst() }

        func holds(_ article: LibraryView.Article) -> Bool {
            switch self {
            // What is left to read: not read and not put away.
            case .unread: return article.status != .read && !article.archived
            case .favorites: return article.favorite
            case .archived: return article.archived
            }
        }
    }

    func register(on router: Router<SyncRequestContext>) {
        router.get("/opds") { request, context in
            let (user, library) = try await signIn(request, context)
            return feed(navigation(library, user: user), type: Self.navigationType)
        }
        for shelf in Shelf.allCases {
            router.get("/opds/\(shelf.rawValue)") { request, context in
                let (_, library) = try await signIn(request, context)
                return feed(
                    acquisition(
                        id: "urn:readsync:opds:\(shelf.rawValue)", title: shelf.title, path: "/opds/\(shelf.rawValue)",
                        articles: library.articles.filter(shelf.holds), page: try Self.page(request)), type: Self.acquisitionType)
            }
        }
        router.get("/opds/tags/:tag") { request, context in
            let (_, library) = try await signIn(request, context)
            let tag = try context.parameters.require("tag").removingPercentEncoding ?? ""
            let articles = library.articles.filter { $0.tags.contains(tag) }
            guard !articles.isEmpty else { throw APIError(.notFound, code: .notFound, message: "no article is tagged '\(tag.prefix(100))'") }
            return feed(
                acquisition(
                    id: "urn:readsync:opds:tag:\(tag)", title: "Tagged \(tag)", path: Self.tagPath(tag), articles: articles,
                    page: try Self.page(request)), type: Self.acquisitionType)
        }
        router.get("/opds/articles/:file") { request, context in
            let (user, library) = try await signIn(request, context)
            let file = try context.parameters.require("file")
            guard file.hasSuffix(".epub"), let listed = library.articles.first(where: { $0.id == file.dropLast(5) }) else {
                throw APIError(.notFound, code: .notFound, message: "no such article: \(file.prefix(100))")
            }
            let article = try await store.withBody(listed, of: user)
            let book = article.book
            var headers: HTTPFields = [.contentType: "application/epub+zip"]
            headers[.contentDisposition] = #"attachment; filename="\#(article.id).epub""#
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: try book.data())))
        }
    }

    // MARK: - Signing in

    /// HTTP Basic: the user name, and the sync token or the wallabag
    /// password. A refusal asks for them (`WWW-Authenticate`), so a reader
    /// shows its sign-in form; repeated failures are refused for a while, as
    /// the wallabag sign-in's are.
    private func signIn(_ request: Request, _ context: SyncRequestContext) async throws -> (UserID, LibraryView) {
        let address = context.signInAddress(request.headers)
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("basic "),
            let decoded = Data(base64Encoded: String(header.dropFirst(6)).trimmingCharacters(in: .whitespaces)),
            let pair = String(data: decoded, encoding: .utf8), let colon = pair.firstIndex(of: ":")
        else { throw Self.signInRefusal }
        let name = String(pair[..<colon])
        if let wait = throttle.refusal(user: name, address: address) { throw WallabagRoutes.tooManyAttempts(wait) }
        let password = String(pair[pair.index(after: colon)...])
        // A sync token is hex, and e-readers may change its case.
        let secret = password.count == 64 && password.allSatisfy(\.isHexDigit) ? password.lowercased() : password
        guard let user = try await store.user(named: name, secretHash: AccessToken.hash(secret)) else {
            throttle.failed(user: name, address: address)
            throw Self.signInRefusal
        }
        context.facts.user = user
        return (user, try await store.library(of: user))
    }

    private static var signInRefusal: APIError {
        var refusal = APIError(
            .unauthorized, code: .unauthorized,
            message:
                "sign in with your readsync user name and, as the password, your sync token (from `readsync user add` or `readsync user token`) or your wallabag password (`readsync user wallabag`)"
        )
        refusal.headers[.wwwAuthenticate] = #"Basic realm="readsync", charset="UTF-8""#
        return refusal
    }

    // MARK: - Feeds

    private func navigation(_ library: LibraryView, user: UserID) -> String {
        let updated = Self.updated(library.articles)
        var entries = Shelf.allCases.map { shelf in
            Self.navigationEntry(
                id: "urn:readsync:opds:\(shelf.rawValue)", title: shelf.title, path: "/opds/\(shelf.rawValue)",
                count: library.articles.filter(shelf.holds).count, updated: updated)
        }
        for tag in library.tags {
            entries.append(
                Self.navigationEntry(
                    id: "urn:readsync:opds:tag:\(XML.escape(tag))", title: "Tagged \(tag)", path: Self.tagPath(tag),
                    count: library.articles.filter { $0.tags.contains(tag) }.count, updated: updated))
        }
        return Self.feedDocument(
            id: "urn:readsync:opds:\(user)", title: "readsync", path: "/opds", type: Self.navigationType,
            updated: updated, entries: entries)
    }

    /// Articles an acquisition feed shows at once; readers follow `next` for more.
    static let pageSize = 50

    /// `?page=N`, from 1; a page past the end is an empty feed.
    static func page(_ request: Request) throws -> Int {
        guard let text = request.uri.queryParameters["page"] else { return 1 }
        guard let page = Int(text), page >= 1 else { throw APIError.badRequest("'page' must be a page number from 1, not '\(text.prefix(40))'") }
        return page
    }

    private func acquisition(id: String, title: String, path: String, articles: [LibraryView.Article], page: Int) -> String {
        let pages = max(1, (articles.count + Self.pageSize - 1) / Self.pageSize)
        let shown = articles.dropFirst(min(articles.count, (page - 1) * Self.pageSize)).prefix(Self.pageSize)
        var links = page > 1 ? [("first", path), ("previous", path + "?page=\(min(page - 1, pages))")] : []
        if page < pages { links.append(("next", path + "?page=\(page + 1)")) }
        let entries = shown.map { article in
            var entry = """
                  <entry>
                    <id>urn:readsync:article:\(article.id)</id>
                    <title>\(XML.escape(article.title.isEmpty ? "Untitled" : article.title))</title>
                    <updated>\(Self.atomTime(article.addedMilliseconds))</updated>

                """
            if let author = article.author, !author.isEmpty { entry += "      <author><name>\(XML.escape(author))</name></author>\n" }
            if let excerpt = article.excerpt, !excerpt.isEmpty { entry += "      <summary>\(XML.escape(excerpt))</summary>\n" }
            for tag in article.tags { entry += #"      <category term="\#(XML.escape(tag))" label="\#(XML.escape(tag))"/>"# + "\n" }
            entry += #"      <link rel="http://opds-spec.org/acquisition" href="/opds/articles/\#(article.id).epub" type="application/epub+zip"/>"# + "\n"
            if let url = article.url { entry += #"      <link rel="alternate" href="\#(XML.escape(url))" type="text/html"/>"# + "\n" }
            return entry + "    </entry>"
        }
        return Self.feedDocument(
            id: XML.escape(id), title: title, path: page == 1 ? path : path + "?page=\(page)", type: Self.acquisitionType,
            updated: Self.updated(articles), links: links, entries: entries)
    }

    private static func navigationEntry(id: String, title: String, path: String, count: Int, updated: String) -> String {
        """
            <entry>
              <id>\(id)</id>
              <title>\(XML.escape(title))</title>
              <updated>\(updated)</updated>
              <content type="text">\(count) article\(count == 1 ? "" : "s")</content>
              <link rel="subsection" href="\(XML.escape(path))" type="\(acquisitionType)"/>
            </entry>
        """
    }

    /// `links`: more of the feed (`next`, `previous`, `first`), as (relation, path).
    private static func feedDocument(
        id: String, title: String, path: String, type: String, updated: String, links: [(String, String)] = [],
        entries: [String]
    ) -> String {
        let more = links.map { #"  <link rel="\#($0.0)" href="\#(XML.escape($0.1))" type="\#(type)"/>"# + "\n" }.joined()
        return """
            <?xml version="1.0" encoding="UTF-8"?>
            <feed xmlns="http://www.w3.org/2005/Atom" xmlns:opds="http://opds-spec.org/2010/catalog">
              <id>\(id)</id>
              <title>\(XML.escape(title))</title>
              <updated>\(updated)</updated>
              <author><name>readsync</name></author>
              <link rel="self" href="\(XML.escape(path))" type="\(type)"/>
              <link rel="start" href="/opds" type="\(navigationType)"/>
            \(more)\(entries.joined(separator: "\n"))
            </feed>

            """
    }

    private func feed(_ document: String, type: String) -> Response {
        Response(status: .ok, headers: [.contentType: type + ";charset=utf-8"], body: ResponseBody(byteBuffer: ByteBuffer(string: document)))
    }

    // MARK: - Helpers

    static func tagPath(_ tag: String) -> String {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: "/?#%")
        return "/opds/tags/" + (tag.addingPercentEncoding(withAllowedCharacters: allowed) ?? tag)
    }

    /// The newest article's time: when the feed last changed, as far as it shows.
    private static func updated(_ articles: [LibraryView.Article]) -> String {
        atomTime(articles.map(\.addedMilliseconds).max() ?? 0)
    }

    /// An RFC 3339 time, as Atom requires.
    private static func atomTime(_ milliseconds: Int64) -> String {
        Date(timeIntervalSince1970: Double(milliseconds) / 1000).formatted(.iso8601)
    }
}
