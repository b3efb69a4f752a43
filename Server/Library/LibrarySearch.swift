import Foundation

/// Full-text search of a library on the server (the web reader's search
/// box): an article matches when each word of the query is in its title,
/// site, address, tags, notes or text, in any case and with or without
/// accents. Matches keep the library's order (newest first) and come with a
/// snippet of the text around the first word found.
struct LibrarySearch {
    let words: [String]

    init(_ query: String) {
        words = query.split(whereSeparator: { $0.isWhitespace }).map(String.init)
    }

    struct Match {
        let article: LibraryView.Article
        /// Text around the first match, the words found marked; empty when
        /// only the title, tags or notes matched.
        let snippet: [TextSegment]
    }

    /// The articles (with their bodies) that match, in the order given.
    func matches(in articles: [LibraryView.Article]) -> [Match] {
        guard !words.isEmpty else { return [] }
        return articles.compactMap { article in
            let fields =
                [article.title, article.site ?? "", article.url ?? "", article.content]
                + article.tags + article.notes.flatMap { [$0.body, $0.quote ?? ""] }
            guard words.allSatisfy({ word in fields.contains { Self.find(word, in: $0, from: $0.startIndex) != nil } }) else { return nil }
            return Match(article: article, snippet: snippet(of: article.content))
        }
    }

    /// About `width` characters of `text` around the first word found, in segments.
    func snippet(of text: String, width: Int = 200) -> [TextSegment] {
        let first = words.compactMap { Self.find($0, in: text, from: text.startIndex) }.min { $0.lowerBound < $1.lowerBound }
        guard let first else { return [] }
        var start = text.index(first.lowerBound, offsetBy: -width / 3, limitedBy: text.startIndex) ?? text.startIndex
        let end = text.index(start, offsetBy: width, limitedBy: text.endIndex) ?? text.endIndex
        // Start and end at word boundaries where there is one near.
        if start > text.startIndex, let space = text[start..<first.lowerBound].firstIndex(where: \.isWhitespace) {
            start = text.index(after: space)
        }
        let window = text[start..<end]
        var segments: [TextSegment] = start > text.startIndex ? [TextSegment(text: "…", match: false)] : []
        var cursor = window.startIndex
        while cursor < window.endIndex {
            let next = words.compactMap { Self.find($0, in: window, from: cursor) }.min { $0.lowerBound < $1.lowerBound }
            guard let next else { break }
            if cursor < next.lowerBound { segments.append(TextSegment(text: String(window[cursor..<next.lowerBound]), match: false)) }
            segments.append(TextSegment(text: String(window[next]), match: true))
            cursor = next.upperBound
        }
        if cursor < window.endIndex { segments.append(TextSegment(text: String(window[cursor...]), match: false)) }
        if end < text.endIndex { segments.append(TextSegment(text: "…", match: false)) }
        return segments.map { TextSegment(text: $0.text.replacingOccurrences(of: "\n", with: " "), match: $0.match) }
    }

    private static func find<S: StringProtocol>(_ word: String, in text: S, from start: S.Index) -> Range<S.Index>? {
        text.range(of: word, options: [.caseInsensitive, .diacriticInsensitive], range: start..<text.endIndex)
    }
}

/// A piece of text, and whether it is what was searched for.
struct TextSegment: Equatable {
    let text: String
    let match: Bool
}
