import Foundation
import ReadSyncArticles

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
        return iso(text).flatMap { $0 < 253_402_300_800_000 ? $0 : nil }
    }

    private static func iso(_ text: String) -> Int64? {
        let chars = Array(text.utf8)
        var index = 0
        func number(_ digits: Int) -> Int? {
            guard index + digits <= chars.count else { return nil }
            var value = 0
            for byte in chars[index..<index + digits] {
                guard byte >= 48 && byte <= 57 else { return nil }
                value = value * 10 + Int(byte - 48)
            }
            index += digits
            return value
        }
        func expect(_ character: Character) -> Bool {
            guard index < chars.count, chars[index] == character.asciiValue else { return false }
            index += 1
            return true
        }
        guard let year = number(4), expect("-"), let month = number(2), expect("-"), let day = number(2),
              (1...12).contains(month), (1...31).contains(day) else { return nil }
        var hour = 0, minute = 0, second = 0, millis = 0, offsetSeconds = 0
        if index < chars.count {
            guard chars[index] == UInt8(ascii: "T") || chars[index] == UInt8(ascii: " ") else { return nil }
            index += 1
            guard let h = number(2), expect(":"), let m = number(2), h < 24, m < 60 else { return nil }
            (hour, minute) = (h, m)
            if expect(":") {
                guard let s = number(2), s < 61 else { return nil }
                second = s
                if expect(".") {
                    var digits = 0
                    while index < chars.count, chars[index] >= 48 && chars[index] <= 57 {
                        if digits < 3 { millis = millis * 10 + Int(chars[index] - 48) }
                        digits += 1
                        index += 1
                    }
                    guard digits > 0 else { return nil }
                    for _ in 0..<max(0, 3 - digits) { millis *= 10 }
                }
            }
            if index < chars.count, chars[index] == UInt8(ascii: " ") { index += 1 }
            if index < chars.count {
                if expect("Z") {
                } else if chars[index] == UInt8(ascii: "+") || chars[index] == UInt8(ascii: "-") {
                    let sign = chars[index] == UInt8(ascii: "-") ? -1 : 1
                    index += 1
                    guard let oh = number(2) else { return nil }
                    _ = expect(":")
                    let om = number(2) ?? 0
                    offsetSeconds = sign * (oh * 3600 + om * 60)
                } else { return nil }
            }
        }
        guard index == chars.count else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + second - offsetSeconds)
        return seconds * 1000 + Int64(millis)
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
    private static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
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
