import Testing

@testable import ReadSyncClient

/// RFC 4180 parsing with line numbers, and the loose values export files hold.
struct CSVReaderTests {
    @Test func quotedFieldsWithCommasDoubledQuotesAndLineBreaks() {
        let records = CSVReader.records("a,b,c\r\n\"x, y\",\"say \"\"hi\"\"\",\"two\nlines\"\r\n\nlast,,\n")
        #expect(records.map(\.fields) == [["a", "b", "c"], ["x, y", "say \"hi\"", "two\nlines"], ["last", "", ""]])
        #expect(records.map(\.line) == [1, 2, 5], "a record starts on the line after the previous one's last line; blank lines skipped")
    }

    @Test func anUnclosedQuoteIsReportedNotSwallowedSilently() {
        let records = CSVReader.records("a,b\n\"open,1\n2,3\n")
        #expect(records.count == 2)
        #expect(records[1].line == 2 && records[1].unterminated)
    }

    @Test func aQuoteInsideAnUnquotedFieldIsData() {
        #expect(CSVReader.records("5\" ruler,x\n").first?.fields == ["5\" ruler", "x"])
    }

    @Test func writtenLinesReadBack() {
        let fields = ["plain", "with, comma", "with \"quotes\"", "multi\nline", "", "Café"]
        #expect(CSVReader.records(CSVReader.line(fields) + "\r\n").first?.fields == fields)
    }

    @Test func datesInTheSpellingsExportsUse() {
        #expect(ImportValues.date("1700000000") == 1_700_000_000_000)
        #expect(ImportValues.date("1700000000123") == 1_700_000_000_123)
        #expect(ImportValues.date("1700000000123456") == 1_700_000_000_123, "microseconds")
        #expect(ImportValues.date("2023-11-14T22:13:20Z") == 1_700_000_000_000)
        #expect(ImportValues.date("2023-11-14T22:13:20.5Z") == 1_700_000_000_500)
        #expect(ImportValues.date("2023-11-14 23:13:20+01:00") == 1_700_000_000_000)
        #expect(ImportValues.date("2023-11-14T23:13:20+0100") == 1_700_000_000_000)
        #expect(ImportValues.date("2023-11-14") == 1_699_920_000_000)
        for bad in ["yesterday", "31/02/2023", "2023-13-01", "0", "-5", "2023-11-14T25:00:00Z", ""] {
            #expect(ImportValues.date(bad) == nil, "\(bad)")
        }
    }

    @Test func tagListsInEveryShape() {
        #expect(ImportValues.tags("a|b c|", separator: "|") == ["a", "b c"])
        #expect(ImportValues.tags("[\"x\",\"y, z\"]", separator: ",") == ["x", "y, z"])
        #expect(ImportValues.tags("['ml', 'to read']", separator: ",") == ["ml", "to read"])
        #expect(ImportValues.tags("[]", separator: ",").isEmpty)
    }
}
