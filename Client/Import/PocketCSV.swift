import Foundation
import ReadSyncArticles

/// Pocket's CSV export: `title,url,time_added,cursor,tags,status` (2025) or
/// `title,url,time_added,tags,status` (older). Tags separated by `|`, status
/// `unread` or `archive`, time in unix seconds.
enum PocketCSV {
    static func parse(_ text: String) -> ParsedImport {
        let table = CSVTable(text)
        return CSVRows.parse(table) { row, item, warn in
            item.addedAt = CSVRows.date(table.value(row, "time_added"), warn)
            item.tags = ImportValues.tags(table.value(row, "tags"), separator: "|")
            switch table.value(row, "status")?.trimmingScalars(in: .whitespaces).lowercased() {
            case "archive", "archived", "read": item.archived = true
            case "unread": item.archived = false
            case nil, "": break
            case let other?: warn("unknown status '\(other)' ignored")
            }
            // Not Pocket's: what readsync's own CSV export adds.
            if let favorite = ImportValues.text(table.value(row, "favorite")) { item.favorite = ImportValues.bool(favorite) }
            if let progress = ImportValues.text(table.value(row, "progress")).flatMap(Double.init), progress.isFinite { item.progress = progress }
        }
    }
}

/// Instapaper's CSV export: `URL,Title,Selection,Folder,Timestamp,Tags`
/// (older exports stop after Folder). Folder `Unread`, `Archive`, `Starred`
/// or a folder of the user's own (which becomes a tag); Tags a JSON array;
/// the selection (text highlighted when saving) becomes a note.
enum InstapaperCSV {
    static func parse(_ text: String) -> ParsedImport {
        let table = CSVTable(text)
        return CSVRows.parse(table) { row, item, warn in
            if let selection = ImportValues.text(table.value(row, "selection")) { item.notes.append(ImportedNote(body: selection)) }
            switch ImportValues.text(table.value(row, "folder")) {
            case nil: break
            case let folder? where folder.lowercased() == "unread": item.archived = false
            case let folder? where folder.lowercased() == "archive": item.archived = true
            case let folder? where folder.lowercased() == "starred": item.favorite = true
            case let folder?: item.tags.append(folder)
            }
            item.addedAt = CSVRows.date(table.value(row, "timestamp"), warn)
            item.tags += ImportValues.tags(table.value(row, "tags"), separator: ",")
        }
    }
}

/// Readwise Reader's CSV export: `Title,URL,ID,Document tags,Saved date,
/// Reading progress,Location,Seen`. Location `archive` means archived;
/// progress is 0…1; tags a Python-style list.
enum ReadwiseCSV {
    static func parse(_ text: String) -> ParsedImport {
        let table = CSVTable(text)
        return CSVRows.parse(table) { row, item, warn in
            item.tags = ImportValues.tags(table.value(row, "document tags"), separator: ",")
            item.addedAt = CSVRows.date(table.value(row, "saved date"), warn)
            if let text = ImportValues.text(table.value(row, "reading progress")) {
                if let progress = ImportValues.double(text), progress.isFinite, progress >= 0 {
                    // Some exports write a percentage.
                    item.progress = min(progress > 1 ? progress / 100 : progress, 1)
                } else {
                    warn("bad reading progress '\(text)' ignored")
                }
            }
            switch table.value(row, "location")?.trimmingScalars(in: .whitespaces).lowercased() {
            case "archive": item.archived = true
            case "new", "later", "shortlist", "feed": item.archived = false
            default: break
            }
        }
    }
}

/// The row loop the CSV formats share: one item per row, with the `url` and
/// `title` columns every format has; rows cut short are skipped with their
/// line number.
enum CSVRows {
    typealias Warn = (String) -> Void

    static func parse(_ table: CSVTable, _ fill: (CSVReader.Record, inout ImportedItem, Warn) -> Void) -> ParsedImport {
        var result = ParsedImport()
        for row in table.rows {
            if row.unterminated {
                result.skipped.append(ImportProblem(line: row.line, reason: "a quoted field is never closed"))
                continue
            }
            if row.fields.count < table.header.count {
                result.skipped.append(ImportProblem(line: row.line, reason: "\(row.fields.count) of \(table.header.count) columns"))
                continue
            }
            var item = ImportedItem(line: row.line, url: table.value(row, "url"), title: ImportValues.text(table.value(row, "title")))
            fill(row, &item) { result.warnings.append(ImportProblem(line: row.line, reason: $0)) }
            result.items.append(item)
        }
        return result
    }

    /// A date column: nil when empty; a warning when it cannot be read.
    static func date(_ text: String?, _ warn: Warn) -> Int64? {
        guard let text = ImportValues.text(text) else { return nil }
        guard let date = ImportValues.date(text) else {
            warn("bad date '\(text)': added now instead")
            return nil
        }
        return date
    }
}
