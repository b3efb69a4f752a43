import Foundation

// libFuzzer's entry point; scripts/fuzz.sh compiles this file with
// `-sanitize=fuzzer`, which supplies `main`. READSYNC_FUZZ_TARGET picks the
// check (`protocol` or `html`).

private let check: @Sendable ([UInt8]) throws -> Void = {
    let name = ProcessInfo.processInfo.environment["READSYNC_FUZZ_TARGET"] ?? ""
    guard let check = FuzzChecks.byName[name] else {
        fatalError("READSYNC_FUZZ_TARGET must be one of \(FuzzChecks.byName.keys.sorted()), not '\(name)'")
    }
    return check
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    do {
        try check(bytes)
    } catch {
        // A trap makes libFuzzer save this input as a crasher.
        fatalError("\(error)")
    }
    return 0
}
