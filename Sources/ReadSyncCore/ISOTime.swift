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
        guard (-12_212_553_600 ... 253_402_300_799).contains(seconds) else {
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
                if let separator { buffer[position] = separator; position += 1 }
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
