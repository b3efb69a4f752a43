import Foundation
import ReadSyncCore
import SeededRandom
import Testing

@testable import ReadSyncArticles
@testable import ReadSyncClient

/// Word counts, excerpts and shortening read bytes for speed; they must give
/// exactly what the `Character`-based definitions give.
struct TextStatisticsTests {
    /// The definitions, written the obvious way over `Character`s.
    enum Reference {
        static func wordCount(_ text: String) -> Int {
            text.split(whereSeparator: { $0.isWhitespace }).count(where: { $0.contains(where: { $0.isLetter || $0.isNumber }) })
        }

        static func collapsingWhitespace(_ text: String) -> String {
            text.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
        }

        static func title(content: String, url: CanonicalURL?) -> String {
            func clean(_ text: String) -> String {
                let title = shorten(text.trimmingCharacters(in: .whitespaces), to: 200)
                return title.isEmpty ? "Untitled" : title
            }
            let lines = content.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            if let heading = lines.first(where: { $0.hasPrefix("# ") }) { return clean(String(heading.dropFirst(2))) }
            if let slug = url?.slug {
                let words = slug.split(whereSeparator: { $0 == "-" || $0 == "_" || $0 == "+" })
                if words.count >= 2 {
                    let phrase = words.joined(separator: " ")
                    return clean(phrase.prefix(1).uppercased() + phrase.dropFirst())
                }
            }
            if let line = lines.first(where: { $0.split(separator: " ").count >= 2 && $0.contains(where: \.isLetter) }) ?? lines.first {
                return clean(line.trimmingCharacters(in: CharacterSet(charactersIn: "#>*-= ")))
            }
            return clean(url?.host ?? "")
        }

        static func excerpt(_ content: String, title: String) -> String {
            let paragraphs = content.split(separator: "\n", omittingEmptySubsequences: true)
                .map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty && $0 != title }
            return shorten(paragraphs.first(where: { $0.split(separator: " ").count >= 8 }) ?? paragraphs.first ?? "", to: 200)
        }

        static func shorten(_ text: String, to limit: Int) -> String {
            guard text.count > limit else { return text }
            let cut = text.prefix(limit)
            let end = cut.lastIndex(where: { $0.isWhitespace }) ?? cut.endIndex
            return cut[..<end].trimmingCharacters(in: .whitespaces) + "…"
        }
    }

    static let tricky: [String] = [
        "", " ", "word", "  two  words  ", "12345", "4 8 15 16 23 42", "-- ... !!! ??", "a-b c_d e.f",
        "line one\r\nline two\r\n\r\nthird paragraph here", "\r\n\r\n", "cr\ronly\rbreaks",
        "non\u{A0}breaking\u{A0}space", "ideographic\u{3000}space", "em\u{2003}space and\u{2028}line separator",
        "cafe\u{301} de\u{301}ja\u{300} vu", "a \u{301}b", " \u{301}", "\u{301}\u{302} alone", "x \u{93E} y",
        "emoji 👍🏽 👨‍👩‍👧 🇫🇷🇩🇪 done", "👍 🙂", "😀\u{200D}\u{2139} info", "\u{24C2}\u{200D}x",
        "中文字符测试 日本語のテキスト 한국어 텍스트", "中文，标点。", "ⅻ ⅚ ㊈ 𝟠 ๒ ٣", "\u{600}1 \u{600} x",
        "tab\tseparated\tvalues", "vertical\u{0B}tab\u{0C}feed", "next\u{85}line", "zero\u{200B}width\u{200B}space",
        "\u{FEFF}bom first", "mixed “quotes” — and ‘dashes’ – here…", "\n\u{301}after newline", "\t\u{301}after tab",
        "ﬁnance ﬂow", "Ⅻ chapter", "ابجد هوز", "עברית טקסט", "देवनागरी लिपि", "ภาษาไทย",
    ]

    @Test func wordCountsMatchTheCharacterDefinition() {
        for text in Self.tricky {
            #expect(TextStatistics.wordCount(text) == Reference.wordCount(text), "\(text.debugDescription)")
        }
    }

    /// Up to 40 scalars that change grapheme boundaries or classify differently.
    static func randomTrickyText(seed: UInt64) -> String {
        let alphabet: [Unicode.Scalar] = [
            "a", "Z", "7", " ", "\t", "\n", "\r", ".", "-", "\u{A0}", "\u{3000}", "\u{2028}", "\u{85}", "\u{301}", "\u{93E}", "\u{915}",
            "\u{94D}", "\u{200D}", "\u{200C}", "\u{FE0F}", "\u{1F44D}", "\u{1F3FD}", "\u{1F1EB}", "\u{1F1F7}", "\u{2139}", "\u{24C2}",
            "\u{600}", "\u{1100}", "\u{1161}", "\u{11A8}", "\u{AC00}", "中", "\u{FF10}", "\u{E9}", "\u{E0061}", "\u{1F600}",
        ]
        var random = SeededGenerator(seed: seed)
        var scalars = String.UnicodeScalarView()
        for _ in 0..<Int.random(in: 0...40, using: &random) { scalars.append(alphabet.randomElement(using: &random)!) }
        return String(scalars)
    }

    @Test func wordCountsMatchOnRandomTextOfTrickyScalars() {
        for seed in UInt64(1)...300 {
            let text = Self.randomTrickyText(seed: seed)
            #expect(TextStatistics.wordCount(text) == Reference.wordCount(text), "seed \(seed): \(text.debugDescription)")
        }
    }

    /// What an article saved from a file is identified by: its text, whitespace collapsed.
    @Test func whitespaceCollapsesAsCharactersDo() {
        let texts = Self.tricky + (UInt64(1)...300).map { Self.randomTrickyText(seed: $0) } + ["a \u{301} b", "\r\n x \r\n", "x\u{600} y"]
        for text in texts {
            #expect(Graphemes.collapsingWhitespace(text) == Reference.collapsingWhitespace(text), "\(text.debugDescription)")
        }
        #expect(Identity.articleID(forContent: "a  b\r\n c\u{3000}") == "214a4812f41d8ae6", "the id articles saved from files had before")
    }

    @Test func whitespaceIsTrimmedAsFoundationTrimsIt() {
        let texts =
            Self.tricky + (UInt64(1)...300).map { Self.randomTrickyText(seed: $0) } + [
                "", " ", "https://example.org/x", " https://example.org/x\n", "x\u{85}", "\u{3000}tag\u{a0}", "\u{1}x\u{7f}", "é", "tag\t",
            ]
        for text in texts {
            #expect(Graphemes.trimmingWhitespace(text) == text.trimmingCharacters(in: .whitespacesAndNewlines), "\(text.debugDescription)")
        }
    }

    @Test func titlesAreGuessedAsCharactersDo() {
        let url = CanonicalURL("https://example.org/notes/the-long-read")
        let contents =
            Self.tricky + (UInt64(1)...300).map { Self.randomTrickyText(seed: $0) } + [
                "intro line\n\n# The heading\nbody", "#  spaced heading", "> quoted line here\nmore", "one\ntwo words", "  \n\t\n",
                "#no-space heading\n- a list item", "\r\n# CRLF heading\r\n", String(repeating: "long title words ", count: 30),
            ]
        for content in contents {
            for url in [nil, url, CanonicalURL("https://example.org/")] {
                #expect(TitleGuess.title(content: content, url: url) == Reference.title(content: content, url: url), "\(content.debugDescription)")
            }
        }
    }

    @Test func excerptsMatchTheCharacterDefinition() {
        let long = String(repeating: "A sentence of more than eight words that goes on and on. ", count: 12)
        let contents =
            Self.tricky + [
                "Title\n\nshort one\n\n" + long, "Title\r\n\r\n" + long + "\r\n\r\nsecond", "\n\n   \n\t\n" + long,
                "Title", "Title\nTitle\nfew words", "one two three four five six seven eight", "  one two three four five six seven  ",
                "a  b  c  d  e  f  g  h", "a b c d e f g \u{301}", long + "\n" + long, String(repeating: "x", count: 500),
                String(repeating: "é", count: 150) + " " + String(repeating: "e\u{301}", count: 150),
            ]
        for content in contents {
            #expect(
                ArticleDraft(url: nil, title: "Title", content: content).excerpt == Reference.excerpt(content, title: "Title"),
                "\(content.debugDescription)")
        }
    }

    @Test func shorteningCountsCharactersNotBytes() {
        for text in Self.tricky + [
            String(repeating: "e\u{301}", count: 199), String(repeating: "e\u{301}", count: 201),
            String(repeating: "word ", count: 60), String(repeating: "👨‍👩‍👧", count: 250),
        ] {
            for limit in [0, 1, 5, 200] {
                #expect(TextStatistics.shorten(text, to: limit) == Reference.shorten(text, to: limit), "\(limit) \(text.debugDescription)")
            }
        }
    }

    @Test func linesSplitAsCharactersDo() {
        for text in Self.tricky + ["a\n\nb\r\nc\n", "\n", "\r\n", "x\r", "\n\r\n\n"] {
            #expect(Array(TextStatistics.lines(text)) == text.split(separator: "\n"), "\(text.debugDescription)")
        }
    }

    @Test func trimmingRemovesTheScalarsFoundationRemoves() {
        let edges = ["", " ", "\t", "\n", "\r\n", "\u{A0}", "\u{3000}", "\u{2028}", "\u{85}", "\u{200B}", "\u{FEFF}", " \u{301}", "\u{301} "]
        for text in Self.tricky {
            for (leading, trailing) in zip(edges, edges.reversed()) {
                let padded = leading + text + trailing
                for set in [CharacterSet.whitespaces, .whitespacesAndNewlines] {
                    #expect(padded.trimmingScalars(in: set) == padded.trimmingCharacters(in: set), "\(padded.debugDescription)")
                    #expect(padded.dropFirst().trimmingScalars(in: set) == padded.dropFirst().trimmingCharacters(in: set))
                }
            }
        }
    }

    @Test func lineEndingsAreNormalisedAsFoundationDoes() {
        for text in Self.tricky + ["a\r\nb", "\r\r\n", "\r\n\r\n", "x\r", "\r", "\n\r", "é\r\n😀\r\n\r"] {
            #expect(text.normalizingLineEndings() == text.replacingOccurrences(of: "\r\n", with: "\n"), "\(text.debugDescription)")
        }
    }
}
