import Foundation
import ReadSyncCore
import Testing

/// The compact vector text: the same bytes and values as plain JSON coding.
struct WireCodingTests {
    @Test func vectorTextMatchesTheJSONEncoderAndReadsBackTheSame() throws {
        var random = SeededGenerator(seed: 5)
        for _ in 0..<2_000 {
            let nodes = (0..<Int.random(in: 0...4, using: &random)).map { _ in NodeID.random(using: &random) }
            let vector = VersionVector(Dictionary(nodes.map { ($0, UInt64.random(in: 1...UInt64.max, using: &random)) }, uniquingKeysWith: max))
            let text = try WireCoding.text(vector)
            #expect(text == String(decoding: try WireCoding.encoder.encode(vector), as: UTF8.self))
            #expect(try WireCoding.vector(fromText: text) == vector)
            #expect(try WireCoding.decoder.decode(VersionVector.self, from: Data(text.utf8)) == vector)
        }
    }

    @Test func vectorTextInOtherShapesIsReadByJSONOrRefused() throws {
        let node = try #require(NodeID("abc"))
        #expect(try WireCoding.vector(fromText: #"{ "abc" : 3 }"#) == VersionVector([node: 3]))
        #expect(try WireCoding.vector(fromText: "{}") == VersionVector())
        for bad in [#"{"ABC":3}"#, #"{"abc":-1}"#, #"{"abc":3"#, #"{"abc":3}x"#, #"{"abc":"3"}"#, "[]", ""] {
            #expect(throws: (any Error).self, "\(bad)") { try WireCoding.vector(fromText: bad) }
        }
    }
}
