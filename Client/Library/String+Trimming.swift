import Foundation

extension Substring {
    /// What `trimmingCharacters(in:)` gives — the scalars in `set` removed
    /// from both ends — without its trip through NSString, which on Linux
    /// copies the whole text to UTF-16 and back (a visible share of every
    /// saved article and note).
    func trimmingScalars(in set: CharacterSet) -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !set.contains($0) }),
              let last = scalars.lastIndex(where: { !set.contains($0) })
        else { return "" }
        return String(scalars[first...last])
    }
}

extension String {
    /// What `trimmingCharacters(in:)` gives, without NSString (see `Substring`'s).
    func trimmingScalars(in set: CharacterSet) -> String {
        self[...].trimmingScalars(in: set)
    }
}
