import Foundation
import ReadSyncArticles
import ReadSyncCore
import ReadSyncTestSupport
import Testing

@testable import ReadSyncClient

/// Each bad input gets its own error and leaves the stored library exactly as it was.
struct BadInputTests {
    let temporary = TemporaryHome()
    let ingestor = ArticleIngestor(limits: HTTPLimits(connectTimeoutSeconds: 2, totalTimeoutSeconds: 2, maxResponseBytes: 64 * 1024))

    func seededList() throws -> (ReadingList, String) {
        let list = try temporary.open()
        let id = try list.add(ingestor.draft(from: Paths.seed("001"))).id
        try list.addNote(to: id, body: "a note that must survive")
        return (list, id)
    }

    /// Runs `attempt`, expects `expected`, and checks nothing stored changed.
    func expectRefusal<Refusal: Error & Equatable>(_ expected: Refusal, _ list: ReadingList, _ attempt: () throws -> Void) throws {
        let before = try DatabaseSnapshot(list)
        #expect(throws: expected) { try attempt() }
        #expect(try DatabaseSnapshot(list) == before, "\(expected) changed the database")
    }

    @Test func missingFile() throws {
        let (list, _) = try seededList()
        try expectRefusal(InputError.fileNotFound("/nonexistent/article.txt"), list) { _ = try list.add(ingestor.draft(from: "/nonexistent/article.txt")) }
    }

    @Test func binaryFile() throws {
        let (list, _) = try seededList()
        let path = temporary.home.directory.appendingPathComponent("image.bin").path
        _ = FileManager.default.createFile(
            atPath: path, contents: Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13] + (0..<2000).map { UInt8($0 % 256) }))
        try expectRefusal(InputError.binaryFile(path), list) { _ = try list.add(ingestor.draft(from: path)) }
    }

    @Test func directoryAndEmptyFile() throws {
        let (list, _) = try seededList()
        let directory = temporary.home.directory.path
        try expectRefusal(InputError.notAFile(directory), list) { _ = try list.add(ingestor.draft(from: directory)) }
        let empty = temporary.home.directory.appendingPathComponent("empty.txt").path
        _ = FileManager.default.createFile(atPath: empty, contents: Data("  \n\n ".utf8))
        try expectRefusal(InputError.noText(empty), list) { _ = try list.add(ingestor.draft(from: empty)) }
    }

    @Test func unreachableURL() throws {
        let (list, _) = try seededList()
        // A port that was just free: nothing listens there.
        let server = try TestHTTPServer(routes: [:])
        let url = server.url("/gone")
        server.stop()
        let before = try DatabaseSnapshot(list)
        do {
            _ = try list.add(ingestor.draft(from: url))
            Issue.record("expected a fetch error")
        } catch let error as FetchError {
            guard case .fetchFailed(url, _) = error else {
                Issue.record("wrong error: \(error)")
                return
            }
            #expect(error.description.hasPrefix("could not fetch \(url): "))
        }
        #expect(try DatabaseSnapshot(list) == before)
    }

    @Test func httpErrorsWrongTypesAndOversizedPages() throws {
        let (list, _) = try seededList()
        let server = try TestHTTPServer(routes: [
            "/missing": TestHTTPServer.Response(status: 404, body: Array("nope".utf8)),
            "/image": TestHTTPServer.Response(headers: ["Content-Type": "image/png"], body: [1, 2, 3]),
            "/huge": .html("<html><body><p>" + String(repeating: "word ", count: 40_000) + "</p></body></html>"),
            "/loop": .redirect(to: "/loop"),
        ])
        defer { server.stop() }
        try expectRefusal(FetchError.httpStatus(url: server.url("/missing"), status: 404), list) { _ = try ingestor.draft(from: server.url("/missing")) }
        try expectRefusal(FetchError.unsupportedContentType(url: server.url("/image"), contentType: "image/png"), list) {
            _ = try ingestor.draft(from: server.url("/image"))
        }
        try expectRefusal(FetchError.responseTooLarge(url: server.url("/huge"), limit: 64 * 1024), list) { _ = try ingestor.draft(from: server.url("/huge")) }
        // A redirect loop ends at curl's redirect limit, said as such.
        let loop = #expect(throws: FetchError.self) { _ = try ingestor.draft(from: server.url("/loop")) }
        guard case .fetchFailed(_, let reason)? = loop else {
            Issue.record("not a failed fetch: \(String(describing: loop))")
            return
        }
        #expect(reason.lowercased().contains("redirect"), "\(reason)")
        #expect(throws: FetchError.invalidURL("http://")) { _ = try ingestor.draft(from: "http://") }
    }

    @Test func aURLThatNeverAnswersTimesOut() throws {
        let (list, _) = try seededList()
        let server = try TestHTTPServer(routes: ["/slow": TestHTTPServer.Response(body: Array("<p>late</p>".utf8), delay: 5)])
        defer { server.stop() }
        let before = try DatabaseSnapshot(list)
        do {
            _ = try list.add(ingestor.draft(from: server.url("/slow")))
            Issue.record("expected a timeout")
        } catch let error as FetchError {
            guard case .fetchFailed(_, let reason) = error else {
                Issue.record("wrong error: \(error)")
                return
            }
            #expect(reason.lowercased().contains("timed out") || reason.lowercased().contains("timeout"), "\(reason)")
        }
        #expect(try DatabaseSnapshot(list) == before)
    }

    @Test func aHugeFileIsRefusedBeforeItIsRead() throws {
        let (list, _) = try seededList()
        let path = temporary.home.directory.appendingPathComponent("huge.txt").path
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.truncate(atOffset: UInt64(ArticleIngestor.maxFileBytes + 1))  // sparse: instant
        try handle.close()
        try expectRefusal(InputError.fileTooLarge(path, limit: ArticleIngestor.maxFileBytes), list) { _ = try list.add(ingestor.draft(from: path)) }
    }

    @Test func textThatIsNotUTF8IsReadAsLatin1() throws {
        let path = temporary.home.directory.appendingPathComponent("latin1.txt").path
        try FileManager.default.createDirectory(at: temporary.home.directory, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: path, contents: Data([0x43, 0x61, 0x66, 0xE9, 0x20, 0x6E, 0x6F, 0x69, 0x72]))  // "Café noir" in Latin-1
        #expect(try ingestor.draft(from: path).content == "Café noir")
    }

    @Test func unknownAndAmbiguousIDs() throws {
        let (list, _) = try seededList()
        try expectRefusal(LookupError.unknownArticle("abc-not-there"), list) { try list.setRead("abc-not-there", true) }
        try expectRefusal(LookupError.unknownArticle("0000"), list) { try list.delete("0000") }
        try expectRefusal(LookupError.unknownNote("0000"), list) { try list.deleteNote("0000") }
        try expectRefusal(LookupError.unknownArticle(""), list) { try list.setFavorite("", true) }
    }

    @Test func outOfRangeProgress() throws {
        let (list, id) = try seededList()
        try expectRefusal(EditError.invalidProgress("150.0"), list) { try list.setProgress(id, percent: 150) }
        try expectRefusal(EditError.invalidProgress("-1.0"), list) { try list.setProgress(id, percent: -1) }
        try expectRefusal(EditError.invalidProgress("nan"), list) { try list.setProgress(id, percent: .nan) }
    }

    @Test func invalidTagsAndEmptyNotes() throws {
        let (list, id) = try seededList()
        try expectRefusal(EditError.invalidTag("  "), list) { try list.tag(id, add: ["ok", "  "], remove: []) }
        try expectRefusal(EditError.emptyNote, list) { try list.addNote(to: id, body: "   ") }
    }

    /// The sync client inflates gzip answers itself: one that is not gzip,
    /// or inflates past the answer size limit, is a bad answer that says so.
    @Test func aGzipAnswerThatDoesNotInflateIsABadAnswer() throws {
        let gzip = ["Content-Type": "application/json", "Content-Encoding": "gzip"]
        let corrupt = try TestHTTPServer(routes: ["/v1/changes": TestHTTPServer.Response(headers: gzip, body: Array("not gzip at all".utf8))])
        defer { corrupt.stop() }
        #expect(throws: SyncError.badAnswer(server: corrupt.url(""), reason: "a gzip body that is not valid gzip")) {
            _ = try CurlSyncTransport(serverURL: corrupt.url(""), token: "t").pull(after: 0, limit: 10, node: NodeID("aaaa")!, known: .nothing)
        }
        let bomb = try TestHTTPServer(routes: [
            "/v1/changes": TestHTTPServer.Response(headers: gzip, body: Gzip.compress([UInt8](repeating: 0x20, count: 2_000_000), level: 9))
        ])
        defer { bomb.stop() }
        let limits = HTTPLimits(maxResponseBytes: 1_000_000)
        #expect(throws: SyncError.badAnswer(server: bomb.url(""), reason: "a gzip body larger than 1000000 bytes inflated")) {
            _ = try CurlSyncTransport(serverURL: bomb.url(""), token: "t", limits: limits).pull(after: 0, limit: 10, node: NodeID("aaaa")!, known: .nothing)
        }
    }
}
