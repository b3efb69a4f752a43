import Foundation
import ReadSyncArticles
import ReadSyncCore

/// What must hold for any input bytes at all. libFuzzer drives these
/// (`scripts/fuzz.sh`); the test suite replays the corpus and every crasher
/// ever found (`Fuzz/Crashers`) through them. A check returns normally or
/// throws a `Violation`; a crash or a trap is a failure too.
public enum FuzzChecks {
    public struct Violation: Error, CustomStringConvertible {
        public let description: String
    }

    /// The sync protocol's decoding, as the server runs it on a request body
    /// and the client on an answer: gzip (within the size limit), JSON, then
    /// per-change validation.
    /// - On valid JSON (as `JSONSerialization` parses it), the hand-written
    ///   reader (`WireCoding.decode`) must take exactly what Foundation's
    ///   `JSONDecoder` takes, with the same result. On invalid JSON each is
    ///   lenient in its own ways (the decoder takes invalid UTF-8 and bad
    ///   escapes in places, once even dropping a change; the reader checks
    ///   every string it reads), so there only the checks below apply.
    /// - A change that passes validation must survive being encoded and
    ///   decoded again unchanged (what the server stores and sends on is
    ///   exactly what it accepted), and the hand-written writer must give the
    ///   encoder's bytes.
    public static func protocolDecoder(_ bytes: [UInt8]) throws {
        var body = bytes
        if bytes.starts(with: [0x1F, 0x8B]) {
            guard let inflated = try? Gzip.decompress(bytes, limit: SyncProtocol.maxRequestBytes) else { return }
            body = inflated
        }
        if let push = try sameDecoding(PushRequest.self, body) { try roundTrip(push.changes) }
        if let page = try sameDecoding(PullResponse.self, body) { try roundTrip(page.changes) }
    }

    private static func sameDecoding<Message: WireMessage & Equatable>(_ type: Message.Type, _ body: [UInt8]) throws -> Message? {
        let fast = Result { try WireCoding.decode(type, from: body) }
        guard (try? JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed])) != nil else { return try? fast.get() }
        let reference = Result { try WireCoding.decoder.decode(type, from: Data(body)) }
        switch (fast, reference) {
        case (.success(let mine), .success(let theirs)) where mine == theirs: return mine
        case (.failure, .failure): return nil
        default:
            throw Violation(description: "\(type) decoded differently by the hand-written reader (\(fast)) and JSONDecoder (\(reference))")
        }
    }

    private static func roundTrip(_ changes: [Change]) throws {
        for entity in EntityChange.grouping(changes.filter { ChangeValidation.problem(with: $0) == nil }) {
            let written = try WireCoding.encode(entity)
            guard written == Array(try WireCoding.encoder.encode(entity)) else {
                throw Violation(description: "the hand-written writer and JSONEncoder give different bytes for \(entity)")
            }
            let again = try WireCoding.decode(EntityChange.self, from: written)
            guard again == entity else {
                throw Violation(description: "valid changes change when encoded and decoded: \(entity) became \(again)")
            }
        }
    }

    /// The HTML extractor on any page: it always produces an article with a
    /// usable title, and its text is valid Unicode without NUL characters.
    /// The same bytes as a bookmark file's markup: its tags open and close
    /// in pairs.
    public static func htmlExtractor(_ bytes: [UInt8]) throws {
        var open: [String] = []
        for token in HTMLMarkup.tokens(String(decoding: bytes, as: UTF8.self)) {
            switch token {
            case .start(let name, _, _): open.append(name)
            case .end(let name, _):
                guard open.popLast() == name else { throw Violation(description: "markup token </\(name)> closes nothing open") }
            case .text: break
            }
        }
        guard open.isEmpty else { throw Violation(description: "markup tokens leave \(open) open") }
        let draft = HTMLArticleExtractor.extract(bytes)
        guard !draft.title.isEmpty, draft.title.count <= 301 else {
            throw Violation(description: "title of \(draft.title.count) characters: \(draft.title.prefix(80))")
        }
        guard !draft.content.contains("\u{0}"), !draft.title.contains("\u{0}") else {
            throw Violation(description: "NUL in extracted text")
        }
    }

    /// The checks by the names the fuzzer and the corpus folders use.
    public static let byName: [String: @Sendable ([UInt8]) throws -> Void] = [
        "protocol": { try protocolDecoder($0) },
        "html": { try htmlExtractor($0) },
    ]
}
