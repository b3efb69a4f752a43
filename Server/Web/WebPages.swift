import Foundation
import HTTPTypes
import Hummingbird
import Mustache
import NIOCore
import ReadSyncArticles
import ReadSyncCore

/// The web reader's pages: Mustache templates (`Templates/`, compiled into
/// the binary) filled from the plain values below. Mustache escapes every
/// value it inserts, so an article's text, a title or a note can never
/// become markup: the body is shown as paragraphs of escaped text, never as
/// the page's HTML.
struct WebPages: Sendable {
    private let library: MustacheLibrary

    init() {
        var library = MustacheLibrary()
        // The templates are part of the program: one that does not parse is
        // a bug every test of the web reader shows at once.
        for (name, text) in [
            ("head", PackageResources.head_mustache), ("foot", PackageResources.foot_mustache),
            ("signin", PackageResources.signin_mustache), ("list", PackageResources.list_mustache),
            ("article", PackageResources.article_mustache), ("message", PackageResources.message_mustache),
        ] {
            try! library.register(String(decoding: text, as: UTF8.self), named: name)
        }
        self.library = library
    }

    func response(_ status: HTTPResponse.Status, _ template: String, _ values: Any, headers: HTTPFields = [:]) -> Response {
        let html = library.render(values, withTemplate: template) ?? ""
        var headers = headers
        headers[.contentType] = "text/html; charset=utf-8"
        // Pages show a user's library: never kept by a shared cache.
        headers[.cacheControl] = "no-store"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }
}

// MARK: - What the templates are filled with

/// What every page has: its title, and for a signed-in user the navigation,
/// the search box, the save box and the session's CSRF token.
struct PageChrome {
    let title: String
    let user: String?
    let csrf: String?
    let nav: [NavLink]
    let search: String

    init(title: String, session: WebSession? = nil, current: ListView? = nil, search: String = "") {
        self.title = title
        user = session?.name
        csrf = session?.csrfToken
        nav =
            session == nil
            ? []
            : ListView.allCases.map { view in
                NavLink(label: view.title, href: "/?view=\(view.rawValue)", current: view == current)
            }
        self.search = search
    }
}

struct NavLink {
    let label: String
    let href: String
    let current: Bool
}

struct TagLink {
    let name: String
    let href: String
    let current: Bool
}

struct SignInPage {
    let page: PageChrome
    let csrf: String
    let next: String
    let problem: String?
}

struct ListPage {
    let page: PageChrome
    let heading: String
    let count: String
    let items: [ListItem]
    let empty: Bool
    let newer: String?
    let older: String?
    let pageLabel: String?
    let tags: [TagLink]
    let hasTags: Bool
}

struct ListItem {
    let href: String
    let title: String
    let site: String?
    let minutes: String?
    let tags: [String]
    let read: Bool
    let reading: Bool
    let favorite: Bool
    let archived: Bool
    let snippet: [TextSegment]
    let hasSnippet: Bool

    init(_ article: LibraryView.Article, snippet: [TextSegment]?) {
        href = "/articles/\(article.id)"
        title = article.title.isEmpty ? (article.url ?? article.id) : article.title
        site = article.site ?? article.url.flatMap { URLComponents(string: $0)?.host }
        minutes = article.wordCount.map { "\(TextStatistics.readingMinutes(words: $0)) min" }
        tags = article.tags
        read = article.status == .read
        reading = article.status == .reading
        favorite = article.favorite
        archived = article.archived
        self.snippet = snippet ?? []
        hasSnippet = !(snippet ?? []).isEmpty
    }
}

struct ArticlePage {
    let page: PageChrome
    let id: String
    let title: String
    let url: String?
    let site: String?
    let author: String?
    let published: String?
    let minutes: String
    let paragraphs: [String]
    let read: Bool
    let favorite: Bool
    let archived: Bool
    let deleted: Bool
    let progress: String
    let progressPercent: String?
    let tags: [String]
    let notes: [NoteItem]
    let hasNotes: Bool

    init(_ article: LibraryView.Article, deleted: Bool, session: WebSession) {
        page = PageChrome(title: article.title.isEmpty ? "Article" : article.title, session: session)
        id = article.id
        title = article.title.isEmpty ? (article.url ?? article.id) : article.title
        url = article.url
        site = article.site ?? article.url.flatMap { URLComponents(string: $0)?.host }
        author = article.author
        published = article.published
        minutes = "\(TextStatistics.readingMinutes(words: article.wordCount ?? TextStatistics.wordCount(article.content))) min read"
        paragraphs = EPUBBook.paragraphs(article.content)
        read = article.status == .read
        favorite = article.favorite
        archived = article.archived
        self.deleted = deleted
        progress = String(article.progress)
        progressPercent = article.status == .reading ? "\(Int((article.progress * 100).rounded())) % read" : nil
        tags = article.tags
        notes = article.notes.map(NoteItem.init)
        hasNotes = !article.notes.isEmpty
    }
}

struct NoteItem {
    let id: String
    let body: String
    let quote: String?

    init(_ note: LibraryView.Note) {
        id = note.id
        body = note.body
        quote = note.quote
    }
}

/// A message page: an error a user can act on.
struct MessagePage {
    let page: PageChrome
    let heading: String
    let message: String
    let signIn: String?
}
