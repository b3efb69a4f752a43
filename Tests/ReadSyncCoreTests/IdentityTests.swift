import Foundation
import Testing

@testable import ReadSyncCore

struct CanonicalURLTests {
    @Test(arguments: [
        "https://example.org/story",
        "HTTPS://Example.ORG/story",
        "https://example.org:443/story",
        "https://example.org/story/",
        "https://example.org/story#comments",
        "https://example.org/story?utm_source=feed&utm_medium=rss",
        "https://example.org/story?fbclid=abc123",
        "https://example.org/story?gclid=x&utm_campaign=y#top",
        "  https://example.org/story  ",
    ])
    func variantsOfOneURLShareOneID(_ variant: String) throws {
        let canonical = try #require(CanonicalURL(variant))
        #expect(canonical.string == "https://example.org/story")
        #expect(Identity.articleID(for: canonical) == Identity.articleID(for: CanonicalURL("https://example.org/story")!))
    }

    @Test func keepsWhatDistinguishesPages() throws {
        let a = try #require(CanonicalURL("https://example.org/story?page=2&id=7"))
        #expect(a.string == "https://example.org/story?id=7&page=2")
        #expect(CanonicalURL("http://example.org/story") != CanonicalURL("https://example.org/story"))
        #expect(CanonicalURL("https://example.org:8443/x")?.string == "https://example.org:8443/x")
        #expect(CanonicalURL("https://example.org")?.string == "https://example.org/")
        #expect(CanonicalURL("https://example.org/Story") != CanonicalURL("https://example.org/story"))
    }

    @Test func refusesWhatIsNotAWebPage() {
        #expect(CanonicalURL("ftp://example.org/x") == nil)
        #expect(CanonicalURL("not a url") == nil)
        #expect(CanonicalURL("file:///etc/passwd") == nil)
    }

    @Test func slugIsTheLastMeaningfulSegment() {
        #expect(CanonicalURL("https://amp.cnn.com/cnn/2023/12/12/politics/biden-israel/index.html")?.slug == "biden-israel")
        #expect(CanonicalURL("https://example.org/")?.slug == nil)
        #expect(CanonicalURL("https://example.org/notes%00on%1Fthis-page")?.slug == "notesonthis-page", "no control characters")
    }

    @Test func contentIDsIgnoreWhitespace() {
        #expect(Identity.articleID(forContent: "a  b\n c") == Identity.articleID(forContent: "a b c"))
        #expect(Identity.articleID(forContent: "a b c") != Identity.articleID(forContent: "a b d"))
        #expect(Identity.articleID(forContent: "x").count == Identity.articleIDLength)
    }
}

struct SHA256Tests {
    @Test func matchesPublishedTestVectors() {
        #expect(SHA256.hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(
            SHA256.hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(SHA256.hex(String(repeating: "a", count: 1_000)) == "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3")
        #expect(
            Hex.string(SHA256.digest(Array(repeating: UInt8(ascii: "a"), count: 1_000_000)))
                == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// Bytes that are not in one piece of memory (a lazy sequence's) give the
    /// digest of the same bytes in one piece.
    @Test func bytesInAnyCollectionGiveTheSameDigest() {
        let text = String(repeating: "readsync keeps every device in sync. ", count: 40)
        #expect(SHA256.digest(text.utf8.lazy.map { $0 }) == SHA256.digest(Array(text.utf8)))
        #expect(Hex.string(SHA256.digest(Array(text.utf8))) == SHA256.hex(text))
    }
}

struct FieldValueTests {
    @Test func roundTripsThroughJSON() throws {
        for value: FieldValue in [.null, .bool(true), .bool(false), .int(42), .double(0.25), .text("héllo \"quoted\"")] {
            let data = try JSONEncoder().encode(value)
            #expect(try JSONDecoder().decode(FieldValue.self, from: data) == value)
        }
    }
}

struct GzipTests {
    @Test func roundTripsAndShrinksText() throws {
        let text = Array(String(repeating: "readsync keeps every device in sync. ", count: 500).utf8)
        let packed = Gzip.compress(text)
        #expect(packed.count < text.count / 10)
        #expect(packed.starts(with: [0x1f, 0x8b]), "gzip magic")
        #expect(try Gzip.decompress(packed, limit: text.count) == text)
        #expect(try Gzip.decompress(Gzip.compress([]), limit: 10) == [])
    }

    /// Pieces compressed on their own join into one gzip body of their bytes
    /// in order (a member each), which the system's `gzip` reads whole.
    @Test func piecesJoinIntoOneBody() throws {
        let parts = [Array("{\"head\":".utf8), Array(String(repeating: "the body of a long article. ", count: 2_000).utf8), [], Array("}".utf8)]
        let joined = Gzip.join(parts.map { Gzip.Piece($0) })
        let whole = parts.flatMap { $0 }
        #expect(try Gzip.decompress(joined, limit: whole.count) == whole)
        #expect(joined.count < whole.count / 10)

        let (inflated, status) = try Self.systemGzip(["-dc"], input: joined)
        #expect(status == 0, "gzip read it whole, its CRC and length included")
        #expect(inflated == whole)

        #expect(throws: Gzip.Failure.tooLarge(limit: whole.count - 1), "the limit holds for the members together") {
            try Gzip.decompress(joined, limit: whole.count - 1)
        }
        #expect(throws: Gzip.Failure.corrupt, "garbage after a member") { try Gzip.decompress(joined + [0x1f, 0x8b, 8], limit: whole.count) }

        // Inflating to many times the room first guessed (the last member
        // states only its own length): inflated again into more, whole.
        let long = [Array(String(repeating: "a line said many times. ", count: 20_000).utf8), Array("}".utf8)]
        #expect(try Gzip.decompress(Gzip.join(long.map { Gzip.Piece($0) }), limit: 10_000_000) == long.flatMap { $0 })
    }

    /// A body compressed by the system's `gzip`, not by us, reads back.
    @Test func readsWhatGzipWrote() throws {
        let text = Array(String(repeating: "written by another program. ", count: 3_000).utf8)
        let (packed, status) = try Self.systemGzip(["-9", "-c"], input: text)
        #expect(status == 0)
        #expect(try Gzip.decompress(packed, limit: text.count) == text)
        #expect(throws: Gzip.Failure.tooLarge(limit: text.count / 2)) { try Gzip.decompress(packed, limit: text.count / 2) }
    }

    /// The system's `gzip` run with `arguments` on a file holding `input`:
    /// what it wrote, and its exit status.
    private static func systemGzip(_ arguments: [String], input: [UInt8]) throws -> (output: [UInt8], status: Int32) {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("readsync-gzip-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data(input).write(to: file)
        let gzip = Process()
        gzip.executableURL = URL(fileURLWithPath: "/bin/gzip")
        gzip.arguments = arguments + [file.path]
        let output = Pipe()
        gzip.standardOutput = output
        try gzip.run()
        let written = output.fileHandleForReading.readDataToEndOfFile()
        gzip.waitUntilExit()
        return (Array(written), gzip.terminationStatus)
    }

    @Test func refusesBombsAndGarbage() {
        let bomb = Gzip.compress([UInt8](repeating: 0, count: 10_000_000), level: 9)
        #expect(bomb.count < 20_000)
        #expect(throws: Gzip.Failure.tooLarge(limit: 1_000_000)) { try Gzip.decompress(bomb, limit: 1_000_000) }
        #expect(throws: Gzip.Failure.corrupt) { try Gzip.decompress(Array("not gzip at all".utf8), limit: 100) }
        #expect(throws: Gzip.Failure.corrupt) { try Gzip.decompress(Array(bomb.prefix(100)), limit: 100_000_000) }
    }
}

struct NoteIDTests {
    /// A new note's id is what `UUID().uuidString.lowercased()` wrote
    /// before: a version-4 UUID of the RFC 9562 variant, in lower case,
    /// that Foundation reads back as the same text; and no two are alike.
    @Test func aNewNoteIDIsARandomVersion4UUIDInLowerCase() throws {
        var seen: Set<String> = []
        for _ in 0..<10_000 {
            let id = Identity.newNoteID()
            let uuid = try #require(UUID(uuidString: id), "\(id)")
            #expect(uuid.uuidString.lowercased() == id)
            let bytes = uuid.uuid
            #expect(bytes.6 >> 4 == 4, "version 4: \(id)")
            #expect(bytes.8 >> 6 == 0b10, "the RFC 9562 variant: \(id)")
            seen.insert(id)
        }
        #expect(seen.count == 10_000)

        // Every bit but the version and the variant comes from the generator.
        struct Constant: RandomNumberGenerator {
            let value: UInt64
            mutating func next() -> UInt64 { value }
        }
        var zeros = Constant(value: 0), ones = Constant(value: .max)
        #expect(Identity.newNoteID(using: &zeros) == "00000000-0000-4000-8000-000000000000")
        #expect(Identity.newNoteID(using: &ones) == "ffffffff-ffff-4fff-bfff-ffffffffffff")
    }
}
