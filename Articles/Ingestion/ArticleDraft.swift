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
    public var content: String {
        didSet { wordCount = TextStatistics.wordCount(content) }
    }
    /// Words in the body: counted once, when the body is set (a saved
    /// article's count is stored, and `client add` prints it).
    public private(set) var wordCount: Int

    public init(url: CanonicalURL?, title: String, author: String? = nil, site: String? = nil, published: String? = nil, content: String) {
        self.url = url
        self.title = title
        self.author = author
        self.site = site
        self.published = published
        self.content = content
        self.wordCount = TextStatistics.wordCount(content)
    }

    /// The id this article gets: from its canonical URL, else from its text.
    public var id: String {
        if let url { return Identity.articleID(for: url) }
        return Identity.articleID(forContent: content)
    }

    /// Whether the body holds a letter or a digit: an article without any
    /// is refused, from a file or from the web alike.
    public var hasText: Bool { content.contains(where: { $0.isLetter || $0.isNumber }) }

    /// The first paragraph (line) that is not the title and has at least
    /// eight words, else the first one that is not the title, shortened to
    /// ~200 characters. Only the lines up to the one chosen are looked at.
    public var excerpt: String {
        var first: String?
        for line in TextStatistics.lines(content) {
            let paragraph = line.trimmingScalars(in: .whitespaces)
            guard !paragraph.isEmpty, paragraph != title else { continue }
            // Eight space-separated pieces or more: seven splits are enough to know.
            if paragraph.split(separator: " ", maxSplits: 7).count >= 8 { return TextStatistics.shorten(paragraph, to: 200) }
            if first == nil { first = paragraph }
        }
        return TextStatistics.shorten(first ?? "", to: 200)
    }

    /// The article fields saving this draft writes, on a device (`client
    /// add`) or on the server (a page saved through the wallabag API): all
    /// of them, so that one page saved on either side is the same article,
    /// and saving it again brings back what the page says now. (When it was
    /// added and whether it is deleted are the saver's to set.)
    public var fields: [(field: ArticleField, value: FieldValue)] {
        func optional(_ text: String?) -> FieldValue { text.map(FieldValue.text) ?? .null }
        return [
            (.url, optional(url?.string)), (.title, .text(title)), (.author, optional(author)), (.site, optional(site)),
            (.published, optional(published)), (.content, .text(content)), (.excerpt, .text(excerpt)), (.wordCount, .int(Int64(wordCount))),
        ]
    }
}

/// Word counts and reading time.
///
/// These run on every saved article body (kilobytes), so they read UTF-8
/// bytes rather than `Character`s (`Graphemes`), while giving the results
/// the `Character` definitions give.
public enum TextStatistics {
    /// Average adult silent reading speed for non-fiction, in words per minute.
    public static let wordsPerMinute = 238

    /// Whitespace-separated tokens that hold at least one letter or digit
    /// (as `text.split(whereSeparator: \.isWhitespace)` would cut them, and
    /// `Character.isLetter || .isNumber` would tell).
    ///
    /// Counted with no branch per byte: a branch on each grapheme's class
    /// was mispredicted at nearly every word boundary. An ASCII byte is
    /// taken as a grapheme of its own and its class (`asciiClasses`) moves
    /// the count on with a few bit operations, so that the next byte's
    /// class is read while this one's is used (looking the next state up in
    /// a table made each byte wait for the last lookup: 540 MB/s, against
    /// 1,300 now). A non-ASCII scalar after it may turn out to extend it (a
    /// combining accent), and is then skipped, the grapheme having moved the
    /// count by its first scalar, as `Character`'s properties are defined.
    /// Other graphemes are found by `Graphemes.grapheme`.
    public static func wordCount(_ text: String) -> Int {
        var text = text
        text.makeContiguousUTF8()  // a no-op for native strings
        var words = 0
        // 1 while in a token that holds a letter or digit. (A token without
        // one counts as no token: either way, only a letter or digit before
        // the next whitespace makes a word.)
        var inWord: UInt8 = 0
        asciiClasses.withUnsafeBufferPointer { classes in
            _ = text.utf8.withContiguousStorageIfAvailable { bytes in
                var offset = 0
                while offset < bytes.count {
                    let run = offset
                    while offset < bytes.count, bytes[offset] < 0x80 {
                        let byteClass = classes[Int(bytes[offset])]
                        words &+= Int(inWord & ~byteClass & 1)  // whitespace ends a word
                        inWord = (inWord | byteClass >> 1) & byteClass
                        offset += 1
                    }
                    guard offset < bytes.count else { break }
                    if offset > run {
                        let end = Graphemes.grapheme(in: text, at: offset - 1).end
                        if end > offset {
                            offset = end
                            continue
                        }
                    }
                    let (kind, end) = Graphemes.grapheme(in: text, at: offset)
                    let step = WordState.step(inWord == 1 ? WordState.inWord : WordState.outside, kind)
                    words += Int(step >> 2)
                    inWord = step & 3 == WordState.inWord ? 1 : 0
                    offset = end
                }
            }
        }
        return words + Int(inWord)
    }

    /// Where `wordCount` is: outside a token, in a token without a letter or
    /// digit so far, or in one with.
    private enum WordState {
        static let outside: UInt8 = 0, inToken: UInt8 = 2, inWord: UInt8 = 3

        /// The state after a grapheme of class `kind`, with 4 added when it
        /// ends a token that holds a word (bits 0–1: the state; bit 2: count).
        static func step(_ state: UInt8, _ kind: Graphemes.Class) -> UInt8 {
            switch kind {
            case .whitespace: return state == inWord ? 4 | outside : outside
            case .word: return inWord
            case .other: return state == outside ? inToken : state
            }
        }
    }

    /// Each ASCII byte's class: bit 0 set when it is not whitespace, bit 1
    /// when it is a letter or digit.
    private static let asciiClasses: [UInt8] = (0..<128).map { byte in
        switch Graphemes.Class(Unicode.Scalar(UInt8(byte))) {
        case .whitespace: return 0
        case .other: return 1
        case .word: return 3
        }
    }

    /// Minutes to read `words` words, at least one.
    public static func readingMinutes(words: Int) -> Int {
        max(1, (words + wordsPerMinute - 1) / wordsPerMinute)
    }

    /// `text` cut at a word boundary near `limit` characters, with an ellipsis.
    public static func shorten(_ text: String, to limit: Int) -> String {
        // A Character has at least one UTF-8 byte, so short text needs no count,
        // and long text is only walked as far as the limit.
        guard text.utf8.count > limit else { return text }
        let cut = text.prefix(limit)
        guard cut.endIndex < text.endIndex else { return text }
        let end = cut.lastIndex(where: { $0.isWhitespace }) ?? cut.endIndex
        return cut[..<end].trimmingScalars(in: .whitespaces) + "…"
    }

    /// The non-empty lines of `text`, lazily, as
    /// `text.split(separator: "\n")` cuts them: a line feed that follows a
    /// carriage return is part of the `Character` "\r\n" and separates nothing.
    static func lines(_ text: String) -> Lines { Lines(text: text, position: text.utf8.startIndex) }

    struct Lines: Sequence, IteratorProtocol {
        let text: String
        var position: String.Index

        mutating func next() -> Substring? {
            let utf8 = text.utf8
            while position < utf8.endIndex {
                let start = position
                var end = utf8.endIndex
                var search = start
                while let feed = utf8[search...].firstIndex(of: 0x0A) {
                    if feed > start, utf8[utf8.index(before: feed)] == 0x0D {
                        search = utf8.index(after: feed)
                        continue
                    }
                    end = feed
                    break
                }
                position = end < utf8.endIndex ? utf8.index(after: end) : end
                if end > start { return text[start..<end] }
            }
            return nil
        }
    }
}
