import Foundation
import ReadSyncCore
import SeededRandom
import Testing

/// The hand-written JSON of changes and the messages carrying them: the same
/// bytes as `JSONEncoder`, and read as `JSONDecoder` reads them — the same
/// inputs taken, the same values, the same inputs refused.
struct WireCodingTests {
    /// Text that needs every kind of escape, and some that needs none.
    static let awkwardTexts = [
        "", "plain", "quote \" and backslash \\ and slash /", "tab\there, newline\nthere, return\r, \u{8}\u{c}",
        "controls \u{0}\u{1}\u{1f} and DEL \u{7f}", "line separator \u{2028}", "é, 日本語, 😀, e\u{301}", String(repeating: "long ", count: 2_000),
    ]
    static let awkwardNumbers: [Double] = [0, -0.0, 0.5, 1, 100, 1e21, 1e22, 1.5e-7, 0.1, 123_456_789.123, 1e300, 5e-324, 1.0 / 3, 12_345_678_901_234_567_890]

    static func randomChange(_ random: inout SeededGenerator) -> Change {
        let nodes = (0..<Int.random(in: 1...4, using: &random)).map { _ in NodeID.random(using: &random) }
        let vector = VersionVector(Dictionary(nodes.map { ($0, UInt64.random(in: 1...UInt64.max, using: &random)) }, uniquingKeysWith: max))
        let values: [FieldValue] = [
            .null, .bool(Bool.random(using: &random)), .int(Int64.random(in: .min ... .max, using: &random)),
            .double(awkwardNumbers.randomElement(using: &random)!), .double(Double.random(in: -1e9...1e9, using: &random)),
            .text(awkwardTexts.randomElement(using: &random)!),
        ]
        return Change(
            key: RegisterKey(
                kind: (EntityKind.known + [EntityKind(rawValue: "highlight")!]).randomElement(using: &random)!,
                entity: awkwardTexts.randomElement(using: &random)!, field: "title"),
            register: Register(
                value: values.randomElement(using: &random)!,
                timestamp: HLCTimestamp(physical: Int64.random(in: 0...Int64.max, using: &random), counter: .random(in: 0...9, using: &random), node: nodes[0]),
                vector: vector))
    }

    @Test func entitiesAreWrittenByteForByteAsTheEncoderWritesThemAndReadBack() throws {
        var random = SeededGenerator(seed: 5)
        for _ in 0..<3_000 {
            let entity = EntityChange.grouping((0..<Int.random(in: 1...3, using: &random)).map { _ in Self.randomChange(&random) })[0]
            let written = try WireCoding.encode(entity)
            #expect(written == Array(try WireCoding.encoder.encode(entity)), "\(entity)")
            #expect(try WireCoding.decode(EntityChange.self, from: written) == entity)
            #expect(try WireCoding.decoder.decode(EntityChange.self, from: Data(written)) == entity)
        }
    }

    /// Writer and reader look for the bytes that end a plain run eight at a
    /// time (`JSONStringScan`): each such byte, and its near misses (the
    /// bytes beside it, the same byte with its high bit set inside a UTF-8
    /// sequence), is found or passed over at every place in a word.
    @Test func everyByteToEscapeIsFoundAtEveryPlaceInAWord() throws {
        let toEscape = ["\"", "\\", "\u{0}", "\u{1}", "\u{1f}", "\n", "\"\"", "\\\n"]
        // "â" is C3 A2 (a quote's byte with the high bit), "\u{71C}" DC 9C
        // (a backslash's and a control's), "\u{9F}" C2 9F.
        let nearMisses = ["!", "#", "[", "]", " ", "\u{7f}", "â", "\u{71C}", "\u{9F}", "日本語😀"]
        for piece in toEscape + nearMisses {
            for before in 0..<17 {
                for after in [0, 1, 7, 8, 9, 23] {
                    let text = String(repeating: "a", count: before) + piece + String(repeating: "b", count: after)
                    let written = try WireCoding.text(.text(text))
                    #expect(Array(written.utf8) == Array(try WireCoding.encoder.encode(text)), "\(text.debugDescription)")
                    #expect(try WireCoding.value(fromText: written) == .text(text), "\(text.debugDescription)")
                }
            }
        }
    }

    @Test func messagesAreWrittenAsTheEncoderWritesThem() throws {
        var random = SeededGenerator(seed: 6)
        let changes = (0..<50).map { _ in Self.randomChange(&random) }
        let point = HistoryCheckpoint(seq: 41, token: "0123456789abcdef")
        // With and without the optional parts (a first sync has no epoch or
        // checkpoint, most pages come to a device not retired, a push asks for
        // a pull only when it is the last of a sync, servers built before
        // 2026-12-07 do not say what they take).
        for checkpoint in [nil, point] {
            let chain = checkpoint.map { _ in PushChain(previous: "00aa", token: "11bb") }
            let push = PushRequest(
                node: NodeID.random(using: &random), changes: changes, epoch: checkpoint.map { _ in "e-1" }, checkpoint: checkpoint,
                chain: chain, pull: checkpoint.map { PullAsk(after: $0.seq, limit: 1_000, name: "Kobo \"Clara\"") } ?? PullAsk(after: 0, limit: 7))
            let page = PullResponse(
                epoch: "e-1", changes: changes, next: 41, more: true, latest: 99, serverTime: 1_763_700_000_000, checkpoint: checkpoint,
                retired: checkpoint != nil, changesPerRequest: checkpoint.map { _ in 4_000 })
            #expect(try WireCoding.encode(push) == Array(try WireCoding.encoder.encode(push)))
            // A push compressed with its entities prepared ahead is its JSON.
            let prepared = try CompressedEntities(changes)
            let other = try CompressedEntities(Array(changes.dropFirst()))
            let few = try CompressedEntities([])
            #expect(prepared.worthCompressing && !few.worthCompressing)
            for reused in [prepared, other, few, nil] {
                let (body, count) = try push.gzipBody(reusing: reused)
                #expect(try Gzip.decompress(body, limit: 1 << 24) == WireCoding.encode(push))
                #expect(count == (try WireCoding.encode(push)).count)
            }
            #expect(try WireCoding.encode(page) == Array(try WireCoding.encoder.encode(page)))
            #expect(try WireCoding.decode(PushRequest.self, from: WireCoding.encode(push)) == push)
            #expect(try WireCoding.decode(PullResponse.self, from: WireCoding.encode(page)) == page)
            let answer = PushResponse(
                epoch: "e-1", accepted: 48, ignored: 2, serverTime: 1_763_700_000_000, checkpoint: checkpoint,
                pushToken: chain?.token, pull: checkpoint == nil ? page : nil, changesPerRequest: checkpoint.map { _ in 1_000 })
            #expect(try WireCoding.encode(answer) == Array(try WireCoding.encoder.encode(answer)))
            #expect(try WireCoding.decode(PushResponse.self, from: WireCoding.encode(answer)) == answer)
        }
        for value in [FieldValue.null, .bool(true), .int(-3), .double(0.25), .text("a \"b\"")] {
            #expect(try WireCoding.text(value) == String(decoding: try WireCoding.encoder.encode(value), as: UTF8.self))
            #expect(try WireCoding.value(fromText: WireCoding.text(value)) == value)
        }
    }

    /// Pages, pushes and a push's answer are written into a buffer
    /// reserved once, at the estimate: for articles (HTML with quotes,
    /// backslashes and line breaks, and fields that are not text) it holds
    /// all that is written, without reserving much more than that.
    @Test func theWireSizeEstimateHoldsWhatALibrarysPageWrites() throws {
        var random = SeededGenerator(seed: 7)
        let node = NodeID.random(using: &random)
        let paragraph = "<p class=\"lead\">Sync is \"hard\" \\ so we test it, line after line.</p>\n"
        var changes: [Change] = []
        for article in 0..<200 {
            let id = String(format: "%032x", article)
            let fields: [(String, FieldValue)] = [
                ("title", .text("Article \(article): \"quoted\" title")), ("url", .text("https://example.com/a/\(article)")),
                ("content", .text(String(repeating: paragraph, count: Int.random(in: 1...120, using: &random)))),
                ("word_count", .int(Int64(article * 7))), ("deleted", .bool(false)), ("progress", .double(0.25)),
            ]
            for (field, value) in fields {
                changes.append(
                    Change(
                        key: RegisterKey(kind: .article, entity: id, field: field),
                        register: Register(
                            value: value, timestamp: HLCTimestamp(physical: 1_763_700_000_000 + Int64(article), counter: 0, node: node),
                            vector: VersionVector([node: UInt64(article + 1)]))))
            }
        }
        let page = PullResponse(epoch: "e-1", changes: changes, next: 1_200, more: true, latest: 5_000, serverTime: 1_763_700_000_000)
        let written = try WireCoding.encode(page).count
        #expect(page.wireBytesEstimate >= written)
        #expect(page.wireBytesEstimate <= written + written / 4)
        let push = PushRequest(node: node, changes: changes, epoch: "e-1", checkpoint: nil, chain: nil)
        #expect(push.wireBytesEstimate >= (try WireCoding.encode(push)).count)
        let answer = PushResponse(epoch: "e-1", accepted: 1_200, ignored: 0, serverTime: 1_763_700_000_000, pull: page)
        #expect(answer.wireBytesEstimate >= (try WireCoding.encode(answer)).count)
    }

    @Test func vectorTextMatchesTheJSONEncoderAndReadsBackTheSame() throws {
        var random = SeededGenerator(seed: 5)
        for _ in 0..<2_000 {
            let nodes = (0..<Int.random(in: 0...4, using: &random)).map { _ in NodeID.random(using: &random) }
            let vector = VersionVector(Dictionary(nodes.map { ($0, UInt64.random(in: 1...UInt64.max, using: &random)) }, uniquingKeysWith: max))
            let text = try WireCoding.text(vector)
            #expect(text == String(decoding: try WireCoding.encoder.encode(vector), as: UTF8.self))
            #expect(try WireCoding.vector(fromText: text) == vector)
        }
    }

    @Test func vectorTextInOtherShapesIsReadOrRefused() throws {
        let node = try #require(NodeID("abc"))
        #expect(try WireCoding.vector(fromText: #"{ "abc" : 3 }"#) == VersionVector([node: 3]))
        #expect(try WireCoding.vector(fromText: "{}") == VersionVector())
        for bad in [#"{"ABC":3}"#, #"{"abc":-1}"#, #"{"abc":3"#, #"{"abc":3}x"#, #"{"abc":"3"}"#, "[]", ""] {
            #expect(throws: (any Error).self, "\(bad)") { try WireCoding.vector(fromText: bad) }
        }
    }

    /// What JSONDecoder takes that the compact writer never writes, and what it refuses.
    static let readerCases: [String] = {
        let entity =
            #"{"entity":"0123456789abcdef","fields":[{"field":"title","timestamp":"0000019a00000000.00000000.aaaa","value":VALUE,"vector":{"aaaa":1}}],"kind":"article"}"#
        func with(_ value: String) -> String { #"{"protocol":2,"node":"aaaa","entities":["# + entity.replacingOccurrences(of: "VALUE", with: value) + "]}" }
        let accepted = [
            with(#""t""#), with("1.0"), with("1e2"), with("-0"), with("0.5"), with("12345678901234567890123"), with("null"), with("true"),
            with(#""\u00e9\ud83d\ude00 \/ \" \\ \b\f\n\r\t""#),
            " \n" + with("1") + " \t",
            #"{"entities":[],"node":"aaaa","protocol":2,"unknown":{"deep":[1,2,{"x":null}]}}"#,
            #"{"protocol":2,"protocol":3,"node":"aaaa","entities":[]}"#,
            #"{"protocol":2.0,"node":"aaaa","entities":[]}"#, #"{"protocol":2,"node":"aaaa","entities":[],}"#,
            #"{"protocol":2,"node":"aaaa","entities":[] , }"#, with("1").replacingOccurrences(of: "}]}", with: "},]}"),
            #"{"protocol":2,"node":"aaaa","entities":[],"x":[01,"\x",1.e+,-,"\u20zz"]}"#,
            #"{"protocol":2,"node":"aaaa","entities":[],"pull":null}"#, #"{"protocol":2,"node":"aaaa","entities":[],"pull":{"after":3,"limit":9}}"#,
            #"{"protocol":2,"node":"aaaa","entities":[],"pull":{"limit":9,"name":null,"after":3}}"#,
        ]
        let refused = [
            "", " ", "{", "{}", "[]", "null", #"{"protocol":2,"node":"aaaa","entities":[,]}"#,
            #"{"protocol":2,"node":"aaaa","entities":[],"x":+1}"#, #"{"protocol":2,"node":"aaaa","entities":[],"x":"\ua5b"}"#, with("01"), with("1."),
            with(".5"), with("+1"), with("1e"), with("--1"), with("1e999"),
            with(#""\ud83d""#), with(#""\ude00""#), with(#""\x""#), with("\"tab\tinside\""), with("[1]"), with(#"{"a":1}"#), with("tru"), with("nul"),
            with(#""t""#) + "x", #"{"protocol":"one","node":5,"entities":{}}"#, #"{"protocol":2.5,"node":"aaaa","entities":[]}"#,
            #"{"protocol":2,"node":"AAAA","entities":[]}"#, #"{"protocol":2,"node":"aaaa","entities":[1,]}"#, "{,}",
            #"{"protocol":2,"node":"aaaa"}"#, #"{'protocol':1}"#,
            #"{"protocol":2,"node":"aaaa","entities":[],"pull":{"after":3}}"#, #"{"protocol":2,"node":"aaaa","entities":[],"pull":{"after":"3","limit":9}}"#,
            #"{"protocol":2,"node":"aaaa","entities":[],"pull":[]}"#,
        ]
        return accepted + refused
    }()

    @Test(arguments: readerCases)
    func theReaderTakesAndRefusesWhatJSONDecoderDoes(_ json: String) throws {
        let bytes = Array(json.utf8)
        let mine = Result { try WireCoding.decode(PushRequest.self, from: bytes) }
        let theirs = Result { try WireCoding.decoder.decode(PushRequest.self, from: Data(bytes)) }
        switch (mine, theirs) {
        case (.success(let a), .success(let b)): #expect(a == b)
        case (.failure(let a), .failure(let b)): #expect(Self.kind(of: a) == Self.kind(of: b), "\(a) vs \(b)")
        default: Issue.record("the reader gives \(mine), JSONDecoder \(theirs)")
        }
    }

    @Test func invalidUTF8AndDeepNestingAreRefused() throws {
        #expect(throws: DecodingError.self) { try WireCoding.decode(PushRequest.self, from: [0x7B, 0x22, 0xFF, 0xFE, 0x22, 0x7D]) }
        // In a value after an escape, where the text is copied in runs: é
        // is taken, a lead byte followed by an ASCII one is not.
        func title(_ after: [UInt8]) -> [UInt8] {
            Array(#"{"protocol":2,"node":"aaaa","entities":[{"entity":"0123456789abcdef","fields":[{"field":"title","value":"a\nb"#.utf8) + after
                + Array(#"","timestamp":"0000019a00000000.00000000.aaaa","vector":{"aaaa":1}}],"kind":"article"}]}"#.utf8)
        }
        #expect(try WireCoding.decode(PushRequest.self, from: title([0xC3, 0xA9])).changes.map(\.value) == [.text("a\nbé")])
        #expect(throws: DecodingError.self) { try WireCoding.decode(PushRequest.self, from: title([0xC3, 0x28])) }
        let deep = #"{"protocol":1,"node":"aaaa","changes":[],"x":"# + String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000) + "}"
        #expect(throws: DecodingError.self) { try WireCoding.decode(PushRequest.self, from: Array(deep.utf8)) }
    }

    /// A missing key, or anything else (syntax, type, value): the decoder
    /// itself files some refusals under another of the latter kinds, and all
    /// read as a 400 with their path.
    static func kind(of error: any Error) -> String {
        if case .keyNotFound? = error as? DecodingError { return "missing key" }
        return error is DecodingError ? "refused" : "not a DecodingError"
    }
}
