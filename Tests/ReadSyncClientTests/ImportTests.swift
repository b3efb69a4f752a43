import Foundation
import ReadSyncArticles
import ReadSyncCore
import ReadSyncTestSupport
import Testing

@testable import ReadSyncClient

/// Each export format imports to the library it describes; import is
/// idempotent; readsync's export re-imports losslessly.
struct ImportTests {
    let temporary = TemporaryHome()

    func imported(_ names: String...) throws -> (ReadingList, ImportSummary) {
        let list = try temporary.open()
        var summary = ImportSummary()
        for name in names { summary.add(try list.importFile(ImportFixtures.path(name))) }
        return (list, summary)
    }

    func iso(_ seconds: Int64) -> String { ISOTime.string(milliseconds: seconds * 1000) }

    // MARK: Formats

    @Test func detectsEveryFormatFromItsContent() throws {
        let expected: [String: ImportFormat] = [
            "pocket-2025.csv": .pocketCSV, "pocket-old.csv": .pocketCSV, "ril_export.html": .pocketHTML,
            "instapaper.csv": .instapaper, "instapaper-old.csv": .instapaper, "bookmarks.html": .netscape,
            "wallabag.json": .wallabag, "omnivore.json": .omnivore, "readwise.csv": .readwise,
        ]
        for (name, format) in expected {
            #expect(ImportFormat.detect(try Data(contentsOf: ImportFixtures.directory.appendingPathComponent(name))) == format, "\(name)")
        }
        #expect(ImportFormat.detect(Data("just some text\n".utf8)) == nil)
    }

    @Test func pocketCSV2025() throws {
        let (list, summary) = try imported("pocket-2025.csv")
        #expect(summary.new == 5)
        #expect(summary.unchanged == 1, "the duplicate row")
        #expect(summary.skipped.map(\.line) == [7, 8])
        #expect(summary.skipped[0].reason.contains("not an http(s) URL"))
        #expect(summary.skipped[1].reason == "2 of 6 columns")
        #expect(summary.warnings.map(\.line) == [6])

        let hello = try #require(try list.article(url: "https://example.com/hello"), "tracking parameters dropped")
        #expect(hello.title == "Hello, \"World\"")
        #expect(hello.tags == ["news", "tech"])
        #expect(hello.addedAt == iso(1_700_000_000))
        #expect(!hello.archived && hello.status == "unread" && hello.content.isEmpty)
        let cafe = try #require(try list.article(url: "https://example.com/cafe"))
        #expect(cafe.title == "Café crème — naïve" && cafe.archived)
        #expect(try list.article(url: "https://example.com/multi")?.title == "Multi line title")
        #expect(try list.article(url: "https://example.com/multi")?.tags == ["reading list"])
        #expect(try list.article(url: "https://example.com/untitled")?.title == "https://example.com/untitled")
        #expect(try list.article(url: "https://example.com/baddate") != nil, "a bad date imports the row, added now")
    }

    @Test func pocketOlderCSVAndTheZipOfParts() throws {
        let (list, summary) = try imported("pocket-old.csv", "pocket-export.zip")
        #expect(summary.new == 4)
        let old = try #require(try list.article(url: "https://old.example.org/a"))
        #expect(old.title == "Old one" && old.archived && old.tags == ["x", "y"] && old.addedAt == iso(1_500_000_000))
        #expect(try list.article(url: "https://zip.example.com/1")?.tags == ["zip"])
        #expect(try list.article(url: "https://zip.example.com/2")?.archived == true)
    }

    @Test func pocketHTML() throws {
        let (list, summary) = try imported("ril_export.html")
        #expect(summary.new == 3 && summary.warnings.map(\.line) == [14])
        let a = try #require(try list.article(url: "https://example.com/pocket-a"))
        #expect(a.title == "Tom & Jerry's “story”" && a.tags == ["alpha", "beta"] && !a.archived && a.addedAt == iso(1_600_000_000))
        #expect(try list.article(url: "https://example.com/pocket-c")?.archived == true)
        #expect(try list.article(url: "https://example.com/pocket-c")?.title == "Über archived")
    }

    @Test func instapaperCSVBothVersions() throws {
        let (list, summary) = try imported("instapaper.csv", "instapaper-old.csv")
        #expect(summary.new == 6)
        #expect(summary.skipped.count == 1 && summary.skipped[0].line == 6 && summary.skipped[0].reason.contains("quoted field"))
        let first = try #require(try list.article(url: "https://insta.example.com/1"))
        #expect(first.title == "Quotes, commas and \"doubles\"" && first.tags == ["longread", "tech"] && first.addedAt == iso(1_650_000_000))
        #expect(first.notes.map(\.body) == ["A selected passage"])
        #expect(try list.article(url: "https://insta.example.com/2")?.archived == true)
        #expect(try list.article(url: "https://insta.example.com/3")?.favorite == true)
        #expect(try list.article(url: "https://insta.example.com/4")?.tags == ["food", "recipes"], "a custom folder becomes a tag")
        #expect(try list.article(url: "https://insta.example.com/old1")?.archived == true)
        #expect(try list.article(url: "https://insta.example.com/old2")?.title == "日本語のタイトル")
    }

    @Test func netscapeBookmarks() throws {
        let (list, summary) = try imported("bookmarks.html")
        #expect(summary.new == 3)
        #expect(summary.skipped.map(\.line) == [17], "the javascript: bookmarklet")
        #expect(summary.warnings.map(\.line) == [16])
        let swift = try #require(try list.article(url: "https://bm.example.com/swift"))
        #expect(swift.title == "Swift <3" && swift.tags == ["dev", "lang", "swift"] && swift.addedAt == iso(1_600_000_010))
        #expect(swift.notes.map(\.body) == ["My note about Swift"])
        #expect(try list.article(url: "https://bm.example.com/deep")?.tags == ["dev", "nested"], "nested folders are tags")
        #expect(try list.article(url: "https://bm.example.com/top")?.tags == [], "a top-level link has no folder")
        #expect(try list.article(url: "https://bm.example.com/top")?.title == "Top level, \"quoted\"")
    }

    @Test func wallabagJSONWithContentAndAnnotations() throws {
        let (list, summary) = try imported("wallabag.json")
        #expect(summary.new == 2 && summary.skipped.map(\.line) == [3, 4])
        let one = try #require(try list.article(url: "https://wb.example.com/one"))
        #expect(one.archived && !one.favorite && one.tags == ["science"] && one.author == "Ada Lovelace" && one.site == "wb.example.com")
        #expect(one.content.hasPrefix("First paragraph of the saved article") && one.content.contains("Second paragraph."))
        #expect(one.wordCount > 10)
        #expect(one.addedAt == "2021-03-04T04:06:07.000Z")
        #expect(one.notes.map(\.body) == ["Important"] && one.notes.first?.quote == "First paragraph")
        let two = try #require(try list.article(url: "https://wb.example.com/two"))
        #expect(two.favorite && !two.archived && two.content.isEmpty)
        #expect(summary.withoutBody.map(\.url) == ["https://wb.example.com/two"], "only the one without content needs fetching")
    }

    @Test func omnivoreJSON() throws {
        let (list, summary) = try imported("omnivore.json")
        #expect(summary.new == 3 && summary.warnings.map(\.line) == [3])
        let half = try #require(try list.article(url: "https://omni.example.com/half"))
        #expect(half.status == "reading" && half.progress == 0.5 && half.tags == ["compilers", "history"] && half.author == "Grace Hopper")
        #expect(half.addedAt == "2023-06-01T12:00:00.000Z" && half.published == "2020-01-01T00:00:00.000Z")
        #expect(half.notes.map(\.body) == ["A ship in port is safe"])
        let done = try #require(try list.article(url: "https://omni.example.com/done"))
        #expect(done.archived && done.status == "read" && done.progress == 1 && done.readAt != nil)
    }

    @Test func omnivoreZipTakesBodiesFromItsContentFolderAndLeavesOutWhatIsNotAnExport() throws {
        let (list, summary) = try imported("omnivore-export.zip")
        #expect(summary.new == 2 && summary.skipped.isEmpty)
        let zipped = try #require(try list.article(url: "https://omni-zip.example.com/a"))
        #expect(zipped.content == "The saved body of the zipped Omnivore article, in its own file." && zipped.tags == ["zipped"])
        #expect(try list.article(url: "https://omni-zip.example.com/b")?.content == "")
        #expect(summary.withoutBody.map(\.url) == ["https://omni-zip.example.com/b"])
    }

    /// Zips as Python's zipfile writes them: a Zip64 archive imports; one
    /// whose member fails its CRC is refused whole and imports nothing.
    @Test func zipsAreReadByZIPFoundationCheckedAndNeverTrusted() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("readsync-zips-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let script = """
            import sys, zipfile
            folder, csv = sys.argv[1], open(sys.argv[2], "rb").read()
            with zipfile.ZipFile(folder + "/zip64.zip", "w", zipfile.ZIP_DEFLATED) as archive:
                with archive.open("pocket/part_000000.csv", "w", force_zip64=True) as member:
                    member.write(csv)
            with zipfile.ZipFile(folder + "/stored.zip", "w", zipfile.ZIP_STORED) as archive:
                archive.writestr("part_000000.csv", csv)
            data = bytearray(open(folder + "/stored.zip", "rb").read())
            data[data.index(b"https://example.com/hello")] ^= 0x20  # one letter's case: the CRC no longer matches
            open(folder + "/damaged.zip", "wb").write(data)
            """
        let made = try Command.run("/usr/bin/env", ["python3", "-c", script, folder.path, ImportFixtures.path("pocket-2025.csv")])
        try #require(made.status == 0, "\(made.output)")

        let list = try temporary.open()
        let summary = try list.importFile(folder.appendingPathComponent("zip64.zip").path)
        #expect(summary.new == 5 && summary.skipped.count == 2)
        #expect(try list.article(url: "https://example.com/cafe")?.archived == true)

        let freshHome = TemporaryHome()
        let fresh = try freshHome.open()
        #expect {
            try fresh.importFile(folder.appendingPathComponent("damaged.zip").path)
        } throws: { error in
            "\(error)".contains("damaged.zip") && "\(error)".contains("a damaged or unsupported zip archive")
        }
        #expect(try fresh.list().isEmpty, "nothing of a damaged archive is imported")
    }

    @Test func readwiseCSV() throws {
        let (list, summary) = try imported("readwise.csv")
        #expect(summary.new == 3 && summary.warnings.map(\.line) == [4])
        let one = try #require(try list.article(url: "https://rw.example.com/1"))
        #expect(one.tags == ["ml", "to read"] && one.progress == 0.25 && one.status == "reading" && one.addedAt == "2024-01-02T03:04:05.000Z")
        #expect(try list.article(url: "https://rw.example.com/2")?.archived == true)
        #expect(try list.article(url: "https://rw.example.com/3")?.archived == false)
    }

    // MARK: Idempotency

    @Test func reImportingEveryFileWritesNothing() throws {
        let list = try temporary.open()
        for name in ImportFixtures.all { try list.importFile(ImportFixtures.path(name)) }
        let before = try DatabaseSnapshot(list)
        var again = ImportSummary()
        for name in ImportFixtures.all { again.add(try list.importFile(ImportFixtures.path(name))) }
        #expect(again.new == 0 && again.updated == 0 && again.unchanged == 32)
        #expect(try DatabaseSnapshot(list) == before, "no register, change-log row or materialised row changed")
    }

    @Test func overlappingFilesInEitherOrderGiveOneArticleWithTheUnionOfWhatTheySay() throws {
        let pocket = "title,url,time_added,tags,status\nShared,https://overlap.example.com/x?utm_source=a,1500000000,p,archive\n"
        let instapaper = "URL,Title,Selection,Folder,Timestamp,Tags\nhttps://OVERLAP.example.com/x/,Other title,,Starred,1600000000,\"[\"\"i\"\"]\"\n"
        var libraries: [ArticleDetail] = []
        for order in [[pocket, instapaper], [instapaper, pocket]] {
            let home = TemporaryHome()
            let list = try home.open()
            for text in order {
                let source = ImportSource(name: "x", data: Data(text.utf8))
                try list.importSource(source)
            }
            let log = try list.changeLog().count
            for text in order { #expect(try list.importSource(ImportSource(name: "x", data: Data(text.utf8))).summary.unchanged == 1) }
            #expect(try list.changeLog().count == log)
            let articles = try list.list()
            #expect(articles.count == 1)
            let article = try list.show(articles[0].id)
            #expect(article.archived && article.favorite && article.tags == ["i", "p"])
            libraries.append(article)
        }
        // The first file's title and date win; flags and tags are a union.
        #expect(libraries[0].title == "Shared" && libraries[1].title == "Other title")
    }

    @Test func importNeverOverwritesWhatTheUserChangedOrRestoresTheTrash() throws {
        let (list, _) = try imported("pocket-2025.csv")
        let cafe = try #require(try list.article(url: "https://example.com/cafe"))
        let hello = try #require(try list.article(url: "https://example.com/hello"))
        try list.setArchived(cafe.id, false)
        try list.tag(hello.id, add: [], remove: ["news"])
        let trashed = try #require(try list.article(url: "https://example.com/multi")).id
        try list.delete(trashed)
        let log = try list.changeLog().count

        let again = try list.importFile(ImportFixtures.path("pocket-2025.csv"))
        #expect(try list.changeLog().count == log)
        #expect(try list.show(cafe.id).archived == false)
        #expect(try list.show(hello.id).tags == ["tech"])
        #expect(try list.show(trashed).deleted)
        #expect(again.skipped.contains { $0.line == 4 && $0.reason.hasSuffix("is in the trash; restore it first") })
    }

    @Test func anInterruptedImportReRunFinishesWithoutDuplicates() throws {
        let rows = 3 * ReadingList.importBatchSize
        let text = ImportFixtures.pocketCSV(rows: rows)
        let parsed = ImportFormat.pocketCSV.parse(Data(text.utf8))
        #expect(parsed.items.count == rows && parsed.skipped.isEmpty)

        let wholeHome = TemporaryHome()
        let whole = try wholeHome.open()
        try whole.importItems(parsed.items)

        // Cut off after two of three batches (each committed whole), then run again.
        let interrupted = try temporary.open()
        try interrupted.importItems(Array(parsed.items.prefix(2 * ReadingList.importBatchSize)))
        let rerun = try interrupted.importItems(parsed.items)
        #expect(rerun.new == rows - 2 * ReadingList.importBatchSize && rerun.unchanged == 2 * ReadingList.importBatchSize)
        #expect(try interrupted.everyArticle() == whole.everyArticle())
        #expect(try interrupted.changeLog().count == whole.changeLog().count, "every register written once")
    }

    @Test func anItemThatCannotBeSavedIsSkippedWholeAndTheRestOfItsBatchIsSaved() throws {
        let list = try temporary.open()
        var huge = ImportedItem(line: 2, url: "https://big.example.com/a", title: "Too big")
        huge.content = String(repeating: "word ", count: 1_000_000)  // over the 4 MB a register carries
        huge.tags = ["big"]
        let small = ImportedItem(line: 3, url: "https://big.example.com/b", title: "Fine")
        let summary = try list.importItems([huge, small], file: "f.json")
        #expect(summary.new == 1 && summary.skipped.map(\.line) == [2])
        #expect(summary.skipped.first?.description.hasPrefix("f.json:2: not saved") == true)
        #expect(try list.list().map(\.title) == ["Fine"])
        #expect(try list.changeLog().allSatisfy { !$0.entity.hasPrefix(huge.url.flatMap(CanonicalURL.init).map(Identity.articleID) ?? "-") })
    }

    // MARK: Export

    @Test func exportThenImportIntoAFreshHomeIsIdentical() throws {
        let list = try temporary.open()
        for name in ImportFixtures.all { try list.importFile(ImportFixtures.path(name)) }
        // What only readsync has: a note with a quote, a read mark, a body from a file.
        let article = try #require(try list.list().first)
        try list.addNote(to: article.id, body: "My own note", quote: "a passage")
        try list.setProgress(article.id, percent: 40)
        try list.add(ArticleDraft(url: nil, title: "From a file", content: "Words typed into a file, with no URL at all."), tags: ["local"])

        let json = String(
            decoding: try LibraryExporter.render(try list.exportArticles(), as: .json, exportedAt: Date(timeIntervalSince1970: 1_767_225_600)), as: UTF8.self)
        let freshHome = TemporaryHome()
        let fresh = try freshHome.open()
        let summary = try fresh.importSource(ImportSource(name: "export.json", data: Data(json.utf8))).summary
        #expect(summary.new == 32 && summary.skipped.isEmpty)
        let original = try list.everyArticle(), copy = try fresh.everyArticle()
        #expect(copy.count == original.count)
        for (id, detail) in original { #expect(copy[id] == detail, "\(detail.title)") }
        // And the copy re-imports as a no-op.
        let log = try fresh.changeLog().count
        try fresh.importSource(ImportSource(name: "export.json", data: Data(json.utf8)))
        #expect(try fresh.changeLog().count == log)
    }

    @Test func csvAndNetscapeExportsImportBackWithTitlesTagsAndFlags() throws {
        let (list, _) = try imported("pocket-2025.csv", "instapaper.csv")
        let articles = try list.exportArticles()
        for format in [ExportFormat.csv, .netscape] {
            let text = String(decoding: try LibraryExporter.render(articles, as: format, exportedAt: Date()), as: UTF8.self)
            let freshHome = TemporaryHome()
            let fresh = try freshHome.open()
            let summary = try fresh.importSource(ImportSource(name: "export", data: Data(text.utf8))).summary
            #expect(summary.new == articles.count && summary.skipped.isEmpty, "\(format)")
            for article in articles {
                let copy = try #require(try fresh.article(url: article.url!))
                #expect(
                    copy.title == article.title && copy.tags == article.tags && copy.addedAt.prefix(19) == article.addedAt.prefix(19),
                    "\(format): \(article.title)")  // whole seconds
                if format == .csv { #expect(copy.archived == article.archived && copy.favorite == article.favorite) }
            }
        }
    }

    @Test func markdownHasOneSectionPerArticleWithItsNotes() throws {
        let (list, _) = try imported("wallabag.json")
        let markdown = String(decoding: try LibraryExporter.render(try list.exportArticles(), as: .markdown, exportedAt: Date()), as: UTF8.self)
        #expect(markdown.components(separatedBy: "\n## ").count == 3)
        #expect(markdown.contains("## [Wallabag with content](https://wb.example.com/one)"))
        #expect(markdown.contains("> First paragraph\n\nImportant\n"))
        #expect(markdown.contains("- tags: #science"))
    }

    // MARK: Fetching bodies

    @Test func fetchFillsMissingBodiesAndListsFailures() throws {
        let page =
            "<html><head><title>Fetched title</title></head><body><article><p>The fetched body has enough words to be a real paragraph here.</p></article></body></html>"
        let server = try TestHTTPServer(routes: ["/a": .html(page), "/b": .html(page.replacingOccurrences(of: "Fetched title", with: "Second"))])
        defer { server.stop() }
        let csv =
            "title,url,time_added,tags,status\n,\(server.url("/a")),1600000000,,unread\nKept title,\(server.url("/b")),1600000001,,unread\nGone,\(server.url("/missing")),1600000002,,unread\n"
        let list = try temporary.open()
        let summary = try list.importSource(ImportSource(name: "x.csv", data: Data(csv.utf8))).summary
        #expect(summary.withoutBody.count == 3)

        var failures: [FetchError] = []
        BodyFetcher(concurrency: 3, perHost: 2, limits: HTTPLimits(connectTimeoutSeconds: 2, totalTimeoutSeconds: 5)).fetch(summary.withoutBody) {
            request, result in
            switch result {
            case .success(let draft): #expect(try! list.fillBody(request.articleID, from: draft))
            case .failure(let error): failures.append(error)
            }
        }
        #expect(failures == [.httpStatus(url: server.url("/missing"), status: 404)])
        let a = try #require(try list.article(url: server.url("/a")))
        #expect(a.title == "Fetched title", "the URL placeholder title is replaced")
        #expect(a.content.contains("The fetched body"))
        #expect(try list.article(url: server.url("/b"))?.title == "Kept title", "a title from the file is kept")
        #expect(try list.article(url: server.url("/missing"))?.content == "")
        // A body already there is not fetched again.
        #expect(try list.importSource(ImportSource(name: "x.csv", data: Data(csv.utf8))).summary.withoutBody.map(\.url) == [server.url("/missing")])
    }

    // MARK: Scale

    @Test func aLargePocketCSVParsesEveryRow() throws {
        let parsed = ImportFormat.pocketCSV.parse(Data(ImportFixtures.pocketCSV(rows: 5_000).utf8))
        #expect(parsed.items.count == 5_000 && parsed.skipped.isEmpty)
        #expect(parsed.items[1000].title == "Story 1000, \"quoted\"\nsecond line")
        #expect(parsed.items[4999].line == 5_000 + 1 + 5, "lines count the line breaks inside quoted titles")
    }
}

/// The fetch scheduler's politeness: never more than `perHost` requests to
/// one host at once, while other hosts proceed.
struct FetchQueueTests {
    @Test func aBusyHostWaitsWhileOtherHostsGoAhead() throws {
        func request(_ url: String) -> BodyRequest { BodyRequest(articleID: url, url: url) }
        let queue = FetchQueue(
            [request("http://a.example/1"), request("http://a.example/2"), request("http://a.example/3"), request("http://b.example/1")], perHost: 2)
        #expect(queue.next()?.url == "http://a.example/1")
        #expect(queue.next()?.url == "http://a.example/2")
        #expect(queue.next()?.url == "http://b.example/1", "a.example has two in flight: b.example goes first")

        let taken = NSCondition()
        nonisolated(unsafe) var third: String?
        Thread {
            let next = queue.next()?.url  // blocks: only a.example is left, and it is busy
            taken.lock()
            third = next
            taken.broadcast()
            taken.unlock()
        }.start()
        Thread.sleep(forTimeInterval: 0.2)
        taken.lock()
        #expect(third == nil, "a third request to a.example started while two were in flight")
        taken.unlock()

        queue.finish(request("http://a.example/1"), .failure(.invalidURL("x")))
        taken.lock()
        let deadline = Date().addingTimeInterval(5)
        while third == nil && taken.wait(until: deadline) {}
        taken.unlock()
        #expect(third == "http://a.example/3")
        #expect(queue.next() == nil, "nothing left")
    }
}
