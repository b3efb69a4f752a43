import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A one-line progress bar on standard error (done / total, rate, ETA),
/// redrawn at most ten times a second; silent when standard error is not a
/// terminal, so logs and scripts see only the summary.
final class ProgressBar {
    private let label: String
    private let enabled: Bool
    private let start = Date()
    private var lastDraw = Date.distantPast

    init(label: String) {
        self.label = label
        enabled = isatty(2) == 1
    }

    func update(_ done: Int, of total: Int) {
        guard enabled, total > 0 else { return }
        let now = Date()
        guard done >= total || now.timeIntervalSince(lastDraw) >= 0.1 else { return }
        lastDraw = now
        let elapsed = max(now.timeIntervalSince(start), 0.001)
        let rate = Double(done) / elapsed
        let eta = rate > 0 ? Int((Double(total - done) / rate).rounded(.up)) : 0
        let width = 30, filled = total > 0 ? width * done / total : width
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        let line = "\r\(label) [\(bar)] \(done)/\(total)  \(Int(rate))/s  ETA \(eta / 60):\(String(format: "%02d", eta % 60))\u{1B}[K"
        FileHandle.standardError.write(Data(line.utf8))
    }

    func finish() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}
