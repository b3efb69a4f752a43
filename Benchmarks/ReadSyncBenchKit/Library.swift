import Foundation
import ReadSyncArticles
import ReadSyncClient
import ReadSyncCore
import SeededRandom

/// The "library" workload: articles with prose bodies, notes linked to them
/// and read-state changes, generated from a seed so every run is the same.
public struct Library: Sendable {
    public struct Article: Sendable {
        public let url: String
        public let title: String
        public let content: String
    }

    public struct Note: Sendable {
        /// Index into `articles`.
        public let article: Int
        public let body: String
    }

    public struct ReadChange: Sendable {
        public let article: Int
        /// Percent, 0…100 (100 is read).
        public let progress: Double
    }

    public let articles: [Article]
    public let notes: [Note]
    public let readChanges: [ReadChange]

    /// Bytes of text (URLs, titles, bodies, notes).
    public var textBytes: Int {
        articles.reduce(0) { $0 + $1.url.utf8.count + $1.title.utf8.count + $1.content.utf8.count }
            + notes.reduce(0) { $0 + $1.body.utf8.count }
    }

    /// `articles` articles (prose of 3–9 KB, ~6 KB mean, ~60-character
    /// titles), twice as many ~200-character notes, and as many read-state
    /// changes as articles over random articles (so ~64 % of them).
    public static func generate(articles count: Int, seed: UInt64) -> Library {
        var random = SeededGenerator(seed: seed)
        let articles = (0..<count).map { index in
            Article(
                url: "https://news\(index % 97).example.com/\(2000 + index % 26)/story-\(index)",
                title: Prose.text(of: 60, &random),
                content: Prose.paragraphs(of: Int.random(in: 3_000...9_000, using: &random), &random))
        }
        let notes = (0..<2 * count).map { _ in
            Note(article: Int.random(in: 0..<count, using: &random), body: Prose.text(of: 200, &random))
        }
        let readChanges = (0..<count).map { _ in
            ReadChange(
                article: Int.random(in: 0..<count, using: &random),
                progress: [0, 25, 50, 75, 100, 100][Int.random(in: 0..<6, using: &random)])
        }
        return Library(articles: articles, notes: notes, readChanges: readChanges)
    }

    /// The drafts the client saves.
    public func draft(_ index: Int) -> ArticleDraft {
        let article = articles[index]
        return ArticleDraft(url: CanonicalURL(article.url), title: article.title, content: article.content)
    }
}

/// English-looking text from a fixed vocabulary.
enum Prose {
    private static let words = """
        the of and to in a is that for it as was with be by on not he this are or his from at which but have an they you were \
        her she there been one all we their has would when if so no will more about can said what out up them into some could \
        time only new other than then now its also two first like over after may people even most made many before must through \
        back years where much your way well down should because each just those how too little state good very make world still \
        own see men work long here get both between life being under never day same another know while last might great old year \
        off come since against go came right used take three states himself few house use during without again place around \
        however home small found thought went say part once general high upon school every interest government different \
        reading archive library network policy election market climate research history science culture technology economy
        """.split(whereSeparator: \.isWhitespace).map(String.init)

    /// About `length` characters of words, as one sentence.
    static func text<G: RandomNumberGenerator>(of length: Int, _ random: inout G) -> String {
        var text = ""
        text.reserveCapacity(length + 12)
        while text.utf8.count < length {
            if !text.isEmpty { text += " " }
            text += words[Int.random(in: 0..<words.count, using: &random)]
        }
        return text.prefix(1).uppercased() + text.dropFirst()
    }

    /// About `length` characters of sentences in paragraphs.
    static func paragraphs<G: RandomNumberGenerator>(of length: Int, _ random: inout G) -> String {
        var paragraphs: [String] = []
        var total = 0
        while total < length {
            let sentences = (0..<Int.random(in: 3...6, using: &random)).map { _ in
                text(of: Int.random(in: 60...160, using: &random), &random) + "."
            }
            let paragraph = sentences.joined(separator: " ")
            paragraphs.append(paragraph)
            total += paragraph.utf8.count + 2
        }
        return paragraphs.joined(separator: "\n\n")
    }
}
