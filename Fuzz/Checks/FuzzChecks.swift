import Foundation
import ReadSyncCore
#if canImport(ReadSyncClient)
import ReadSyncClient  // scripts/fuzz.sh compiles the extractor into this module instead
#endif

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
    /// per-change validation. A change that passes validation must survive
    /// being encoded and decoded again unchanged (what the server stores and
    /// sends on is exactly what it accepted).
    public static func protocolDecoder(_ bytes: [UInt8]) throws {
        var body = bytes
        if bytes.starts(with: [0x1F, 0x8B]) {
            guard let inflated = try? Gzip.decompress(bytes, limit: SyncProtocol.maxRequestBytes) else { return }
            body = inflated
        }
        let data = Data(body)
        if let push = try? WireCoding.decoder.decode(PushRequest.self, from: data) {
            try roundTrip(push.changes)
        }
        if let page = try? WireCoding.decoder.decode(PullResponse.self, from: data) {
            try roundTrip(page.changes)
        }
    }

    private static func roundTrip(_ changes: [Change]) throws {
        for change in changes where ChangeValidation.problem(with: change) == nil {
            let again = try WireCoding.decoder.decode(Change.self, from: WireCoding.encoder.encode(change))
            guard again == change else {
                throw Violation(description: "a valid change changes when encoded and decoded: \(change) became \(again)")
            }
        }
    }

    /// The HTML extractor on any page: it always produces an article with a
    /// usable title, and its text is valid Unicode without NUL characters.
    public static func htmlExtractor(_ bytes: [UInt8]) throws {
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
