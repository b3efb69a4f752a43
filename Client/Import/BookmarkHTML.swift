import Foundation
import ReadSyncArticles

/// Netscape bookmark files (every browser, Linkding, Shiori, Karakeep):
/// nested `<DL><p>` lists; a folder `<DT><H3>name</H3>` followed by its `<DL>`;
/// a link `<DT><A HREF ADD_DATE TAGS="a,b" TOREAD=…>title</A>` with an
/// optional `<DD>` description. Folders become tags (the browser's own
/// top-level "Bookmarks bar"/"Other bookmarks" too, as the user sees them);
/// a description becomes a note.
enum NetscapeBookmarks {
    static func parse(_ text: String) -> ParsedImport {
        var result = ParsedImport()
        var folders: [String?] = []  // one entry per open <DL>
        var pendingFolder: String?  // the last <H3>, waiting for its <DL>
        var readingFolderName = false
        var current: ImportedItem?  // the open <A>
        var lastLinkIndex: Int?  // where a <DD> attaches
        var readingDescription = false

        func closeLink() {
            guard var item = current else { return }
            item.title = item.title.flatMap(ImportValues.text)
            item.tags += folders.compactMap { $0 }
            result.items.append(item)
            lastLinkIndex = result.items.count - 1
            current = nil
        }

        for token in HTMLMarkup.tokens(text) {
            switch token {
            case .start(let name, let attributes, let line):
                if name != "dd" && readingDescription { readingDescription = false }
                switch name {
                case "dl":
                    folders.append(pendingFolder)
                    pendingFolder = nil
                case "h3":
                    pendingFolder = ""
                    readingFolderName = true
                case "a":
                    closeLink()
                    lastLinkIndex = nil
                    var item = ImportedItem(line: line, url: attributes["href"], title: "")
                    if let added = attributes["add_date"], !added.isEmpty {
                        item.addedAt = ImportValues.date(added)
                        if item.addedAt == nil { result.warnings.append(ImportProblem(line: line, reason: "bad ADD_DATE '\(added)': added now instead")) }
                    }
                    item.tags = ImportValues.tags(attributes["tags"], separator: ",")
                    current = item
                case "dd":
                    closeLink()
                    readingDescription = lastLinkIndex != nil
                case "dt":
                    closeLink()
                default: break
                }
            case .end(let name, _):
                switch name {
                case "a": closeLink()
                case "h3": readingFolderName = false
                case "dl":
                    closeLink()
                    if !folders.isEmpty { folders.removeLast() }
                default: break
                }
            case .text(let text, _):
                if readingFolderName {
                    pendingFolder = (pendingFolder ?? "") + text.trimmingScalars(in: .whitespacesAndNewlines)
                } else if current != nil {
                    current!.title = (current!.title ?? "") + text
                } else if readingDescription, let index = lastLinkIndex, let body = ImportValues.text(text) {
                    result.items[index].notes.append(ImportedNote(body: body))
                    readingDescription = false
                }
            }
        }
        closeLink()
        return result
    }
}

/// Pocket's older HTML export (`ril_export.html`): `<h1>Unread</h1><ul><li>
/// <a href=… time_added=… tags="a,b">title</a>` items, then the same under
/// `<h1>Read Archive</h1>`.
enum PocketHTML {
    static func parse(_ text: String) -> ParsedImport {
        var result = ParsedImport()
        var archived = false
        var inHeading = false, heading = ""
        var current: ImportedItem?

        for token in HTMLMarkup.tokens(text) {
            switch token {
            case .start("h1", _, _):
                inHeading = true
                heading = ""
            case .end("h1", _):
                inHeading = false
                archived = heading.lowercased().contains("archive")
            case .start("a", let attributes, let line):
                if let open = current { result.items.append(open) }
                var item = ImportedItem(line: line, url: attributes["href"])
                item.archived = archived
                if let added = attributes["time_added"], !added.isEmpty {
                    item.addedAt = ImportValues.date(added)
                    if item.addedAt == nil { result.warnings.append(ImportProblem(line: line, reason: "bad time_added '\(added)': added now instead")) }
                }
                item.tags = ImportValues.tags(attributes["tags"], separator: ",")
                current = item
            case .end("a", _):
                if var item = current {
                    item.title = item.title.flatMap(ImportValues.text)
                    result.items.append(item)
                }
                current = nil
            case .text(let text, _):
                if inHeading { heading += text } else if current != nil { current!.title = (current!.title ?? "") + text }
            default: break
            }
        }
        if let open = current { result.items.append(open) }
        return result
    }
}
