import Foundation

/// ISO 8601 text for user-visible times, in UTC with milliseconds
/// (`2026-11-21T19:15:04.123Z`), so "newest first" holds within a second.
public enum ISOTime {
    public static func string(milliseconds: Int64) -> String {
        // Integer arithmetic: formatting a Double date loses the last millisecond.
        let seconds = milliseconds.quotient(dividingBy: 1000)
        let fraction = Int(milliseconds - seconds * 1000)
        // Years 1583…9999 (every date a device or an import gives) by the
        // Gregorian calendar directly; anything else the way Foundation writes
        // it (Julian before the 1582 reform).
        guard (-12_212_553_600...253_402_300_799).contains(seconds) else {
            let whole = Date(timeIntervalSince1970: Double(seconds)).formatted(.iso8601)  // …T19:15:04Z
            let digits = String(fraction)
            return whole.dropLast() + "." + String(repeating: "0", count: 3 - digits.count) + digits + "Z"
        }
        let days = seconds.quotient(dividingBy: 86_400)
        let time = Int(seconds - days * 86_400)
        let (year, month, day) = civilDate(daysSince1970: days)
        return String(unsafeUninitializedCapacity: 24) { buffer in
            var position = 0
            func put(_ value: Int, digits: Int, then separator: UInt8?) {
                var rest = value
                for offset in stride(from: digits - 1, through: 0, by: -1) {
                    buffer[position + offset] = UInt8(ascii: "0") + UInt8(rest % 10)
                    rest /= 10
                }
                position += digits
                if let separator {
                    buffer[position] = separator
                    position += 1
                }
            }
            put(year, digits: 4, then: UInt8(ascii: "-"))
            put(month, digits: 2, then: UInt8(ascii: "-"))
            put(day, digits: 2, then: UInt8(ascii: "T"))
            put(time / 3600, digits: 2, then: UInt8(ascii: ":"))
            put(time / 60 % 60, digits: 2, then: UInt8(ascii: ":"))
            put(time % 60, digits: 2, then: UInt8(ascii: "."))
            put(fraction, digits: 3, then: UInt8(ascii: "Z"))
            return position
        }
    }

    /// Milliseconds since 1970 of ISO 8601 text as export files spell it:
    /// a date alone, or with a time (`T` or a space), seconds, a fraction
    /// and `Z` or an offset (`+01:00`, `+0100`). Nil when it is none of these.
    public static func milliseconds(parsing text: String) -> Int64? {
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
            (1...12).contains(month), (1...31).contains(day)
        else { return nil }
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
                } else {
                    return nil
                }
            }
        }
        guard index == chars.count else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + second - offsetSeconds)
        return seconds * 1000 + Int64(millis)
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
    /// algorithm; `civilDate` is its inverse).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The proleptic Gregorian date `days` days after 1970-01-01 (the
    /// well-known days-to-civil conversion over 400-year eras).
    static func civilDate(daysSince1970 days: Int64) -> (year: Int, month: Int, day: Int) {
        let shifted = days + 719_468  // days since 0000-03-01
        let era = shifted.quotient(dividingBy: 146_097)
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthFromMarch = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthFromMarch + 2) / 5 + 1
        let month = monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (Int(year), Int(month), Int(day))
    }
}

extension Int64 {
    /// Division rounding towards negative infinity.
    fileprivate func quotient(dividingBy divisor: Int64) -> Int64 {
        let (quotient, remainder) = quotientAndRemainder(dividingBy: divisor)
        return remainder < 0 ? quotient - 1 : quotient
    }
}
