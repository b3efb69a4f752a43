import Foundation
import ReadSyncArticles

extension EPUBBook {
    /// A book of `articles` in the order given, each a chapter with its notes.
    /// One article makes a book of its own title and author.
    public init(_ articles: [ArticleDetail], title: String, modified: Date) {
        let single = articles.count == 1 ? articles.first : nil
        // One article is always the same book (an e-reader keeps its place
        // in it); a collection is a new book each time it is made.
        let identifier = single.map { "urn:readsync:article:\($0.id)" } ?? "urn:uuid:\(UUID().uuidString.lowercased())"
        self.init(
            identifier: identifier, title: single?.title ?? title, author: single?.author, modified: modified,
            chapters: articles.map(Chapter.init))
    }
}

extension EPUBBook.Chapter {
    init(_ article: ArticleDetail) {
        self.init(
            title: article.title, author: article.author, site: article.site, url: article.url, published: article.published,
            text: article.content,
            notes: article.notes.map { EPUBBook.Note(body: $0.body, quote: $0.quote, createdAt: $0.createdAt) })
    }
}
