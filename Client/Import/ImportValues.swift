import Foundation
import ReadSyncArticles
import ReadSyncCore

/// Reading the loosely typed values export files hold: dates as unix seconds
/// or ISO 8601 in several spellings, booleans as words or numbers, tag lists.
enum ImportValues {
    /// Milliseconds since 1970 from unix seconds (or milliseconds or
    /// microseconds, when the number is too large to be seconds) or ISO 8601 (`2023-05-01T10:00:00Z`,
    /// with fraction, offset `+01:00`/`+0100`, or a space for the `T`).
    /// Nil when it is neither.
    static func date(_ text: String) -> Int64? {
        let text = text.trimmingScalars(in: .whitespaces)
        guard !text.isEmpty else { return nil }
        if text.allSatisfy(\.isNumber), let number = Int64(text) {
            guard number > 0 else { return nil }
            if number > 100_000_000_000_000 { return number / 1000 }  // microseconds (some browsers)
            return number > 100_000_000_000 ? number : number * 1000
        }
        // Before year 10,000: ISO 8601 text has four-digit years.
        return ISOTime.milliseconds(parsing: text).flatMap { $0 < 253_402_300_800_000 ? $0 : nil }
    }

    /// `true`/`false`, `1`/`0`, `yes`/`no` (any case), or a JSON bool or number.
    static func bool(_ value: Any?) -> Bool? {
        switch value {
        case let flag as Bool: return flag
        case let number as Int: return number != 0
        case let number as Double: return number != 0
        case let text as String:
            switch text.trimmingScalars(in: .whitespaces).lowercased() {
            case "true", "1", "yes", "y": return true
            case "false", "0", "no", "n", "": return false
            default: return nil
            }
        default: return nil
        }
    }

    /// A text value, trimmed; nil when absent or empty.
    static func text(_ value: Any?) -> String? {
        guard let text = value as? String else { return nil }
        let trimmed = text.trimmingScalars(in: .whitespacesAndNewlines)
        return trimmed.isEmpty ? nil : trimmed
    }

    /// A number from a JSON number or numeric text.
    static func double(_ value: Any?) -> Double? {
        switch value {
        case let number as Double: return number
        case let number as Int: return Double(number)
        case let text as String: return Double(text.trimmingScalars(in: .whitespaces).replacingOccurrences(of: "%", with: ""))
        default: return nil
        }
    }

    /// A tag list written as `a|b`, `a,b`, a JSON array `["a","b"]` or a
    /// Python list `['a', 'b']`.
    static func tags(_ text: String?, separator: Character) -> [String] {
        guard var text = text?.trimmingScalars(in: .whitespaces), !text.isEmpty else { return [] }
        if text.hasPrefix("["), text.hasSuffix("]") {
            if let data = text.data(using: .utf8), let array = try? JSONSerialization.jsonObject(with: data) as? [Any] {
                return array.compactMap { $0 as? String }
            }
            text = String(text.dropFirst().dropLast())
            return text.split(separator: ",").map { $0.trimmingScalars(in: CharacterSet(charactersIn: " '\"")) }.filter { !$0.isEmpty }
        }
        return text.split(separator: separator).map { $0.trimmingScalars(in: .whitespaces) }.filter { !$0.isEmpty }
    }
}
