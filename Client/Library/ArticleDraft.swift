import Foundation
import ReadSyncCore

/// An article as ingestion produced it, before it is saved.
public struct ArticleDraft: Sendable, Equatable {
    /// The canonical URL, when the article has one; it decides the id.
    public var url: CanonicalURL?
    public var title: String
    public var author: String?
    public var site: String?
    public var published: String?
    /// The readable text: paragraphs separated by blank lines.
    public var content: String

    public init(url: CanonicalURL?, title: String, author: String? = nil, site: String? = nil, published: String? = nil, content: String) {
        self.url = url
        self.title = title
        self.author = author
        self.site = site
        self.published = published
        self.content = content
    }

    /// The id this article gets: from its canonical URL, else from its text.
    public var id: String {
        if let url { return Identity.articleID(for: url) }
        return Identity.articleID(forContent: content)
    }

    /// Words in the body.
    public var wordCount: Int { TextStatistics.wordCount(content) }

    /// The first paragraph that is not the title, shortened to ~200 characters.
    public var excerpt: String {
        // Lazily: only the paragraphs up to the one chosen are trimmed.
        let paragraphs = content.split(separator: "\n", omittingEmptySubsequences: true).lazy
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && $0 != title }
        return TextStatistics.shorten(paragraphs.first(where: { $0.split(separator: " ").count >= 8 }) ?? paragraphs.first ?? "", to: 200)
    }
}

/// Word counts and reading time.
public enum TextStatistics {
    /// Average adult silent reading speed for non-fiction, in words per minute.
    public static let wordsPerMinute = 238

    /// Whitespace-separated tokens that hold at least one letter or digit.
    public static func wordCount(_ text: String) -> Int {
        text.split(whereSeparator: { $0.isWhitespace }).count(where: { $0.contains(where: { $0.isLetter || $0.isNumber }) })
    }

    /// Minutes to read `words` words, at least one.
    public static func readingMinutes(words: Int) -> Int {
        max(1, (words + wordsPerMinute - 1) / wordsPerMinute)
    }

    /// `text` cut at a word boundary near `limit` characters, with an ellipsis.
    public static func shorten(_ text: String, to limit: Int) -> String {
        guard text.count > limit else { return text }
        let cut = text.prefix(limit)
        let end = cut.lastIndex(where: { $0.isWhitespace }) ?? cut.endIndex
        return cut[..<end].trimmingCharacters(in: .whitespaces) + "…"
    }
}
