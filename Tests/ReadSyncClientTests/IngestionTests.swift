import Foundation
import ReadSyncArticles
import ReadSyncCore
import ReadSyncTestSupport
import Testing

@testable import ReadSyncClient

/// Turning files, HTML and URLs into articles.
struct IngestionTests {
    let ingestor = ArticleIngestor(limits: HTTPLimits(connectTimeoutSeconds: 2, totalTimeoutSeconds: 3, maxResponseBytes: 1_048_576))

    @Test func seedsKeepTheirTitlesAndBodies() throws {
        for prefix in ["000", "001", "002"] {
            let path = try Paths.seed(prefix)
            let draft = try ingestor.draft(from: path)
            let raw = try String(contentsOfFile: path, encoding: .utf8)
            #expect(!draft.title.isEmpty, "seed \(prefix) has an empty title")
            // The body is the file's text (after any front matter), intact.
            let body = prefix == "002" ? String(raw.split(separator: "---\n", maxSplits: 2)[1]) : raw
            #expect(draft.content == body.trimmingCharacters(in: .whitespacesAndNewlines), "seed \(prefix) body changed")
            #expect(draft.wordCount > 300)
        }
        #expect(try ingestor.draft(from: Paths.seed("000")).title == "US President Barack Obama (L) and Prime Minister Benjamin Netanyahu")
        #expect(try ingestor.draft(from: Paths.seed("001")).title == "Netanyahu: US-Israel alliance ‘has become even stronger’")
    }

    @Test func frontMatterURLGivesTheCNNSeedItsIdentity() throws {
        let draft = try ingestor.draft(from: Paths.seed("002"))
        let url = "https://amp.cnn.com/cnn/2023/12/12/politics/biden-israel-losing-support-netanyahu/index.html"
        #expect(draft.url?.string == url)
        #expect(draft.id == Identity.articleID(for: CanonicalURL(url)!))
        #expect(draft.site == "amp.cnn.com")
        #expect(draft.title == "Biden israel losing support netanyahu")
        #expect(!draft.content.contains("source: amp.cnn.com"))
    }

    @Test func filesWithoutURLGetAnIDFromTheirContent() throws {
        let first = try ingestor.draft(from: Paths.seed("000"))
        #expect(first.url == nil)
        #expect(first.id == Identity.articleID(forContent: first.content))
    }

    @Test func markdownHeadingAndFrontMatterTitle() {
        #expect(TextArticleParser.parse("\n# A Heading\n\nSome text here.").title == "A Heading")
        #expect(TextArticleParser.parse("---\ntitle: \"Given: a title\"\nauthor: Me\n---\nBody words here.").title == "Given: a title")
        #expect(TextArticleParser.parse("---\ntitle: x\nno closing line\nbody").content.hasPrefix("---"))
        #expect(TextArticleParser.parse("...").title == "...")
    }

    @Test func htmlExtractionDropsBoilerplateAndKeepsParagraphs() throws {
        let html = try Array(Data(contentsOf: Paths.fixtures.appendingPathComponent("saved-page.html")))
        let draft = HTMLArticleExtractor.extract(html)
        #expect(draft.title == "Night trains are back, and Europe is booking them")
        #expect(draft.author == "Ana Kovač")
        #expect(draft.site == "The Example Times")
        #expect(draft.published == "2024-03-05T08:00:00Z")
        #expect(draft.url?.string == "https://times.example.com/travel/night-trains-are-back")
        for boilerplate in ["SCRIPT", "HEADER", "NAV", "COOKIE", "ASIDE", "FIGURE", "SHARE", "INLINE-SCRIPT", "SIDEBAR", "FOOTER"] {
            #expect(!draft.content.contains("\(boilerplate)-TEXT-MUST-GO") && !draft.content.contains("\(boilerplate)-MUST-GO"), "\(boilerplate) survived")
        }
        let paragraphs = draft.content.components(separatedBy: "\n\n")
        #expect(paragraphs.contains("Night trains are back"))
        #expect(paragraphs.contains("Why now"))
        #expect(paragraphs.contains("Sleeper services between Vienna, Paris and Berlin sold out within hours of going on sale, operators said on Monday."))
        #expect(paragraphs.contains("Travellers cite climate concerns & the comfort of waking up in a city centre."))
        #expect(paragraphs.contains("Vienna–Paris: three nights a week"))
        #expect(paragraphs.contains("Fares start at €29 for a seat and €79 for a couchette."))
    }

    @Test func htmlInALegacyCharsetIsDecoded() {
        // "café" in ISO-8859-1, declared by <meta charset>.
        let html: [UInt8] =
            Array("<html><head><meta charset=\"iso-8859-1\"><title>caf".utf8) + [0xE9] + Array("</title></head><body><p>Un caf".utf8) + [0xE9]
            + Array(" noir.</p></body></html>".utf8)
        let draft = HTMLArticleExtractor.extract(html)
        #expect(draft.title == "café")
        #expect(draft.content == "Un café noir.")
    }

    @Test func fetchesAPageFromARealLocalServer() throws {
        let page = try String(contentsOf: Paths.fixtures.appendingPathComponent("saved-page.html"), encoding: .utf8)
            .replacingOccurrences(of: "<link rel=\"canonical\" href=\"https://times.example.com/travel/night-trains-are-back?utm_source=rss\">", with: "")
        let server = try TestHTTPServer(routes: [
            "/story": .html(page),
            "/moved": .redirect(to: "/story"),
            "/notes.txt": TestHTTPServer.Response(
                headers: ["Content-Type": "text/plain; charset=utf-8"], body: Array("Plain text notes\n\nWith two paragraphs.".utf8)),
        ])
        defer { server.stop() }

        let draft = try ingestor.draft(from: server.url("/story?utm_source=newsletter#top"))
        #expect(draft.title == "Night trains are back, and Europe is booking them")
        #expect(draft.content.contains("Fares start at €29"))
        #expect(draft.url?.string == server.url("/story"), "tracking parameters and fragment are not part of the identity")
        #expect(server.requests.contains("/story?utm_source=newsletter"))

        // A redirect is followed; identity stays with the URL the user saved.
        let redirected = try ingestor.draft(from: server.url("/moved"))
        #expect(redirected.content == draft.content)

        let text = try ingestor.draft(from: server.url("/notes.txt"))
        #expect(text.content == "Plain text notes\n\nWith two paragraphs.")
        #expect(text.url?.string == server.url("/notes.txt"))
    }
}
