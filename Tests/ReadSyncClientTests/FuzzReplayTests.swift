import Foundation
import FuzzChecks
import ReadSyncTestSupport
import Testing

/// Every input in Fuzz/Corpus and Fuzz/Crashers passes its fuzz check: the
/// corpus shows that real inputs pass, and each crasher `scripts/fuzz.sh`
/// ever found stays fixed.
struct FuzzReplayTests {
    @Test(arguments: FuzzChecks.byName.keys.sorted())
    func everyKnownInputPassesItsCheck(_ target: String) throws {
        let check = try #require(FuzzChecks.byName[target])
        var replayed = 0
        for folder in ["Corpus", "Crashers"] {
            let directory = RepositoryPaths.root.appendingPathComponent("Fuzz/\(folder)/\(target)")
            for name in try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted() where !name.hasPrefix(".") {
                let input = Array(try Data(contentsOf: directory.appendingPathComponent(name)))
                #expect(throws: Never.self, "Fuzz/\(folder)/\(target)/\(name)") { try check(input) }
                replayed += 1
            }
        }
        #expect(replayed > 0, "the corpus for \(target) is empty")
    }
}
