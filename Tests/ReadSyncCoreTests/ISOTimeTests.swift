import Foundation
import ReadSyncCore
import SeededRandom
import Testing

/// User-visible times are written without a date formatter; they must read
/// exactly as Foundation's ISO 8601 style writes them.
struct ISOTimeTests {
    /// The definition: Foundation's ISO 8601 text of the second, plus milliseconds.
    static func reference(_ milliseconds: Int64) -> String {
        let (seconds, remainder) = milliseconds.quotientAndRemainder(dividingBy: 1000)
        let (whole, fraction) = remainder < 0 ? (seconds - 1, remainder + 1000) : (seconds, remainder)
        let text = Date(timeIntervalSince1970: Double(whole)).formatted(.iso8601)
        return text.dropLast() + "." + String(format: "%03d", fraction) + "Z"
    }

    @Test func matchesFoundationAcrossTheCalendar() {
        let day: Int64 = 86_400_000
        var samples: [Int64] = [
            0, 1, 999, 1000, -1, -999, -1000, -1001, 1_795_288_504_123,
            951_782_400_000,  // 2000-02-29
            4_107_542_400_000,  // 2100-02-28
            4_107_542_400_000 + day,
            253_402_300_799_999,  // 9999-12-31
            -62_135_596_800_000,  // 0001-01-01
            -12_212_553_600_000,  // 1583-01-01
            -12_212_553_600_001,
            -12_219_292_800_000,  // 1582-10-15
            253_402_300_800_000,
        ]
        var random = SeededGenerator(seed: 11)
        for _ in 0..<2_000 { samples.append(Int64.random(in: -62_135_596_800_000...253_402_300_799_999, using: &random)) }
        for _ in 0..<500 { samples.append(Int64.random(in: 0...4_102_444_800_000, using: &random)) }
        for milliseconds in samples {
            #expect(ISOTime.string(milliseconds: milliseconds) == Self.reference(milliseconds), "\(milliseconds) ms")
        }
        #expect(ISOTime.string(milliseconds: 1_795_288_504_123) == "2026-11-21T19:15:04.123Z")
    }

    /// Reading is writing's inverse on every date from 1583 to 9999, and
    /// takes the spellings export files use.
    @Test func readsWhatItWritesAndTheSpellingsExportsUse() {
        var random = SeededGenerator(seed: 12)
        for _ in 0..<2_000 {
            let milliseconds = Int64.random(in: -12_212_553_600_000...253_402_300_799_999, using: &random)
            #expect(ISOTime.milliseconds(parsing: ISOTime.string(milliseconds: milliseconds)) == milliseconds, "\(milliseconds) ms")
        }
        let noon = ISOTime.milliseconds(parsing: "2023-05-01T12:00:00Z")
        #expect(noon == 1_682_942_400_000)
        #expect(ISOTime.milliseconds(parsing: "2023-05-01 13:00:00+01:00") == noon)
        #expect(ISOTime.milliseconds(parsing: "2023-05-01T10:30:00-0130") == noon)
        #expect(ISOTime.milliseconds(parsing: "2023-05-01T12:00:00.5Z") == noon.map { $0 + 500 })
        #expect(ISOTime.milliseconds(parsing: "2023-05-01") == 1_682_899_200_000)
        for bad in ["", "2023-13-01", "2023-05-01T25:00", "2023-05-01T12:00:00Q", "yesterday", "2023-05-01T12:00:00."] {
            #expect(ISOTime.milliseconds(parsing: bad) == nil, "\(bad)")
        }
    }
}
