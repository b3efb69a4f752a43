import Foundation
import ReadSyncArticles

/// An RFC 4180 CSV reader: fields separated by commas, quoted fields may hold
/// commas, doubled quotes and line breaks; CRLF or LF line ends. Each record
/// knows the line it starts on, so problems can be reported by line.
public struct CSVReader {
    /// One record and the (1-based) line it starts on.
    public struct Record: Sendable, Equatable {
        public var line: Int
        public var fields: [String]
        /// The record ended inside a quoted field (the file was cut short or a
        /// quote is unbalanced).
        public var unterminated = false
    }

    /// Every record of `text`; blank lines are skipped.
    public static func records(_ text: String) -> [Record] {
        var records: [Record] = []
        var fields: [String] = []
        var field: [UInt8] = []
        var line = 1, recordLine = 1
        var inQuotes = false, fieldWasQuoted = false
        let bytes = Array(text.utf8)
        var index = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0

        func endField() {
            fields.append(String(decoding: field, as: UTF8.self))
            field.removeAll(keepingCapacity: true)
            fieldWasQuoted = false
        }
        func endRecord(unterminated: Bool = false) {
            endField()
            if !(fields.count == 1 && fields[0].isEmpty && !unterminated) {
                records.append(Record(line: recordLine, fields: fields, unterminated: unterminated))
            }
            fields.removeAll(keepingCapacity: true)
        }

        while index < bytes.count {
            let byte = bytes[index]
            if inQuotes {
                if byte == UInt8(ascii: "\"") {
                    if index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "\"") {
                        field.append(byte)
                        index += 1
                    } else {
                        inQuotes = false
                    }
                } else {
                    if byte == UInt8(ascii: "\n") { line += 1 }
                    field.append(byte)
                }
            } else {
                switch byte {
                case UInt8(ascii: ","):
                    endField()
                case UInt8(ascii: "\""):
                    // A quote opens a quoted field only at its start; elsewhere it is data.
                    if field.isEmpty && !fieldWasQuoted {
                        inQuotes = true
                        fieldWasQuoted = true
                    } else {
                        field.append(byte)
                    }
                case UInt8(ascii: "\r"):
                    if index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "\n") { break }
                    field.append(byte)
                case UInt8(ascii: "\n"):
                    endRecord()
                    line += 1
                    recordLine = line
                default:
                    field.append(byte)
                }
            }
            index += 1
        }
        if inQuotes || !field.isEmpty || !fields.isEmpty { endRecord(unterminated: inQuotes) }
        return records
    }

    /// `fields` as one CSV line (quoted where needed), without a line end.
    public static func line(_ fields: [String]) -> String {
        fields.map { field in
            guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return field }
            return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }.joined(separator: ",")
    }
}

/// A CSV file with a header: fields looked up by column name.
struct CSVTable {
    let header: [String]
    let rows: [CSVReader.Record]
    private let columns: [String: Int]

    init(_ text: String) {
        var records = CSVReader.records(text)
        let header = records.isEmpty ? [] : records.removeFirst().fields.map { $0.trimmingScalars(in: .whitespaces).lowercased() }
        self.header = header
        self.rows = records
        var columns: [String: Int] = [:]
        for (index, name) in header.enumerated() where columns[name] == nil { columns[name] = index }
        self.columns = columns
    }

    func has(_ name: String) -> Bool { columns[name] != nil }

    /// The field in column `name` (lower-case), nil when the row is too short
    /// or the column missing.
    func value(_ row: CSVReader.Record, _ name: String) -> String? {
        guard let index = columns[name], index < row.fields.count else { return nil }
        return row.fields[index]
    }
}
