import Foundation
import ReadSyncTestSupport
import Testing

/// `client export --format epub`: books that an e-reader opens, checked by
/// the W3C's own validator (`epubcheck`, from Debian) and read back with
/// Python's zip and XML parsers.
struct EPUBExportTests {
    let device = Device()
    var folder: URL { URL(fileURLWithPath: device.home) }

    init() throws {
        try FileManager.default.createDirectory(atPath: device.home, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    }

    /// A title and a body with everything markup and XML choke on.
    static let hostileTitle = #"<script>alert("x")</script> & ]]> 'quotes' — עברית 👩🏽‍💻"#
    static let hostileBody =
        "First line with <b>tags</b> & entities &amp; a bell \u{07} and a C1 \u{85} control.\n\n"
        + "Second paragraph: ]]> <!-- not a comment --> <?php echo 1; ?>\nThird: e\u{301} combining, \u{202E}RTL override."

    @discardableResult
    func add(_ arguments: String..., stdin: String? = nil) throws -> String {
        let added = try ReadSyncBinary.run(["client", "--home", device.home, "add"] + arguments, stdin: stdin)
        #expect(added.status == 0, "\(added.stderr)")
        return added.lastLine
    }

    @Test func aBookOfTheLibraryWithNotesPassesEpubcheckAndReadsBack() throws {
        let seed = try add(try ReadSyncBinary.seed("000"), "--tag", "news")
        let linked = folder.appendingPathComponent("linked.md")
        try Data("---\nurl: https://example.com/story?a=1&b='2'\ntitle: A linked story\n---\nThe story, in one paragraph.\n".utf8).write(to: linked)
        try add(linked.path)
        let hostile = try add("-", "--title", Self.hostileTitle, "--tag", "news", stdin: Self.hostileBody)
        #expect(try device.client("note", seed, "Worth re-reading & <underlining>", "--quote", "the alliance").status == 0)
        #expect(try device.client("note", hostile, "A note\n\nin two paragraphs").status == 0)

        let book = folder.appendingPathComponent("library.epub")
        let exported = try device.client("export", "--format", "epub", "--out", book.path)
        #expect(exported.status == 0, "\(exported.stderr)")
        #expect(exported.stderr == "Exported 3 articles to \(book.path) (epub).\n")
        try EPUBCheck.passes(book)

        let contents = try BookContents(book)
        #expect(contents.firstEntry == "mimetype" && contents.mimetypeStored, "mimetype first and uncompressed")
        #expect(contents.title == "readsync: every article")
        #expect(contents.tableOfContents.count == 3)
        #expect(contents.chapters.count == 3)
        // The hostile article is text, exactly as saved, less what XML cannot hold.
        let chapter = try #require(contents.chapters.first { $0.title == Self.hostileTitle }, "\(contents.chapters.map(\.title))")
        #expect(chapter.paragraphs.contains("First line with <b>tags</b> & entities &amp; a bell  and a C1  control."), "\(chapter.paragraphs)")
        #expect(chapter.paragraphs.contains("Second paragraph: ]]> <!-- not a comment --> <?php echo 1; ?>"))
        #expect(chapter.paragraphs.contains("A note") && chapter.paragraphs.contains("in two paragraphs"))
        let noted = try #require(contents.chapters.first { $0.paragraphs.contains("Worth re-reading & <underlining>") })
        #expect(noted.quotes == ["the alliance"])
        let story = try #require(contents.chapters.first { $0.title == "A linked story" })
        #expect(story.links == ["https://example.com/story?a=1&b='2'"], "a link to where the article came from")
    }

    @Test func theChosenArticlesOnlyAndOneArticleIsABookOfItsOwn() throws {
        let read = try add(try ReadSyncBinary.seed("000"), "--tag", "news")
        try add(try ReadSyncBinary.seed("001"), "--tag", "news")
        try add(try ReadSyncBinary.seed("002"))
        #expect(try device.client("read", read).status == 0)

        let unreadNews = folder.appendingPathComponent("unread-news.epub")
        #expect(try device.client("export", "--format", "epub", "--unread", "--tag", "news", "--out", unreadNews.path).status == 0)
        let contents = try BookContents(unreadNews)
        #expect(contents.chapters.count == 1, "only the unread article tagged news")
        #expect(contents.title == contents.chapters.first?.title, "a one-article book has the article's title")
        #expect(contents.identifier.hasPrefix("urn:readsync:article:"), "one article is always the same book")
        try EPUBCheck.passes(unreadNews)

        // The filters are the export's, whatever the format.
        let json = try device.client("export", "--unread")
        let articles = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])["articles"] as? [Any]
        #expect(articles?.count == 2)
    }

    @Test func nothingToExportOrNowhereToWriteIsOneLineAndNoFile() throws {
        try add(try ReadSyncBinary.seed("000"))
        let book = folder.appendingPathComponent("none.epub")
        let empty = try device.client("export", "--format", "epub", "--tag", "nosuchtag", "--out", book.path)
        #expect(empty.status == 1)
        #expect(empty.stderr == "Error: there are no articles tagged nosuchtag to put in an EPUB; nothing was written\n", "\(empty.stderr)")
        #expect(!FileManager.default.fileExists(atPath: book.path))

        let nowhere = try device.client("export", "--format", "epub", "--out", "/nonexistent/folder/book.epub")
        #expect(nowhere.status == 1, "a runtime failure, not a usage error")
        #expect(nowhere.stderr.hasPrefix("Error: cannot write /nonexistent/folder/book.epub"), "\(nowhere.stderr)")
        #expect(nowhere.stderr.split(separator: "\n").count == 1)
    }
}

/// The W3C's EPUB validator, as Debian packages it.
enum EPUBCheck {
    static let jar = "/usr/share/java/epubcheck.jar"

    static func passes(_ book: URL, sourceLocation: SourceLocation = #_sourceLocation) throws {
        try #require(FileManager.default.fileExists(atPath: jar), "epubcheck is not installed: run scripts/setup.sh", sourceLocation: sourceLocation)
        // A few seconds of work for the JVM: its quick compiler only (C1,
        // no C2) and one collector thread halve the CPU a check takes
        // (6.2 → 3.0 s for the seeds' book), which the suite's other
        // tests share; what is checked is the same.
        let result = try Command.run("/usr/bin/java", ["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-jar", jar, book.path])
        #expect(
            result.status == 0 && result.output.contains("No errors or warnings detected."),
            "epubcheck found fault with \(book.lastPathComponent):\n\(result.output)", sourceLocation: sourceLocation)
    }
}

/// What a book holds, as Python's `zipfile` and `xml.dom.minidom` read it:
/// an independent reading of the container and of every XHTML document.
struct BookContents: Decodable {
    struct Chapter: Decodable {
        let title: String
        let paragraphs: [String]
        let quotes: [String]
        let links: [String]
    }
    let firstEntry: String
    let mimetypeStored: Bool
    let title: String
    let identifier: String
    let tableOfContents: [String]
    let chapters: [Chapter]

    init(_ book: URL) throws {
        let script = #"""
            import json, sys, zipfile
            from xml.dom import minidom
            def text(node):
                return "".join(t.data for t in node.childNodes if t.nodeType == t.TEXT_NODE) if node.nodeType != node.TEXT_NODE else node.data
            def deep(node):
                return "".join(deep(c) if c.nodeType == c.ELEMENT_NODE else (c.data if c.nodeType == c.TEXT_NODE else "") for c in node.childNodes)
            book = zipfile.ZipFile(sys.argv[1])
            first = book.infolist()[0]
            opf = minidom.parseString(book.read("OEBPS/content.opf"))
            nav = minidom.parseString(book.read("OEBPS/nav.xhtml"))
            spine = [i.getAttribute("idref") for i in opf.getElementsByTagName("itemref")]
            hrefs = {i.getAttribute("id"): i.getAttribute("href") for i in opf.getElementsByTagName("item")}
            chapters = []
            for idref in spine:
                page = minidom.parseString(book.read("OEBPS/" + hrefs[idref]))
                chapters.append({
                    "title": deep(page.getElementsByTagName("h1")[0]),
                    "paragraphs": [deep(p) for p in page.getElementsByTagName("p")],
                    "quotes": [deep(q) for q in page.getElementsByTagName("blockquote")],
                    "links": [a.getAttribute("href") for a in page.getElementsByTagName("a")],
                })
            print(json.dumps({
                "firstEntry": first.filename,
                "mimetypeStored": first.compress_type == zipfile.ZIP_STORED,
                "title": deep(opf.getElementsByTagName("dc:title")[0]),
                "identifier": deep(opf.getElementsByTagName("dc:identifier")[0]),
                "tableOfContents": [deep(a) for a in nav.getElementsByTagName("a")],
                "chapters": chapters,
            }))
            """#
        let result = try Command.run("/usr/bin/env", ["python3", "-c", script, book.path])
        guard result.status == 0 else { throw Command.Failure(output: result.output) }
        self = try JSONDecoder().decode(BookContents.self, from: Data(result.output.utf8))
    }
}
