import ReadSyncCore
import Testing

@testable import ReadSyncClient

/// An entity's outbox row: which fields wait, and what re-stamping needs of
/// each, never a value.
struct OutboxEntryTests {
    let node = NodeID("aaaa")!
    func stamp(_ physical: Int64) -> HLCTimestamp { HLCTimestamp(physical: physical, counter: 0, node: node) }

    @Test func aFirstWriteKeepsItsBaseAndAWriteOverAWaitingOneRaisesTheFloor() {
        var entry = OutboxEntry()
        entry.markWritten("title", replacing: nil, base: 3)
        #expect(entry.mark(of: "title") == .init(floor: nil, base: 3))
        entry.markWritten("title", replacing: stamp(20), base: 4)
        entry.markWritten("title", replacing: stamp(10), base: 5)
        #expect(entry.mark(of: "title") == .init(floor: stamp(20), base: 3), "the largest replaced timestamp, the first base")
        entry.markWritten("url", replacing: stamp(5), base: 0)
        #expect(entry.fields.map(\.name) == ["title", "url"], "in the order first written")
        #expect(entry.mark(of: "url") == .init(floor: nil, base: 0), "a field not yet waiting gets no floor")
    }

    @Test func aFieldQueuedAgainKeepsItsMarkAndOneWithoutABaseTakesTheNextWritesBase() {
        var entry = OutboxEntry()
        entry.markWritten("title", replacing: nil, base: 2)
        entry.queueAgain("title")
        entry.queueAgain("content")
        #expect(entry.mark(of: "title") == .init(floor: nil, base: 2))
        #expect(entry.mark(of: "content") == .init(floor: nil, base: nil))
        entry.markWritten("content", replacing: stamp(7), base: 9)
        #expect(entry.mark(of: "content") == .init(floor: stamp(7), base: 9))
        entry.remove("title")
        entry.remove("content")
        #expect(entry.isEmpty)
    }

    @Test func theBlobReadsBackAndAnythingElseIsRefused() throws {
        var entry = OutboxEntry()
        entry.markWritten("title", replacing: nil, base: 0)
        entry.markWritten("title", replacing: stamp(1_700_000_000_000), base: 1)
        entry.markWritten("progress", replacing: nil, base: 300)
        entry.queueAgain("x_from_a_newer_version")
        #expect(OutboxEntry(encoded: entry.encoded) == entry)
        #expect(OutboxEntry(encoded: [])?.isEmpty == true)
        let bytes = entry.encoded
        #expect(OutboxEntry(encoded: bytes.dropLast()) == nil, "cut short")
        #expect(OutboxEntry(encoded: [5, 0x74, 0x69, 0x74, 0x6c, 0x65, 0x80]) == nil, "an unknown flag")
    }
}
