import Foundation
import ReadSyncArticles
import ReadSyncCore

/// The JSON formats read through `JSONSerialization` (their fields are loosely
/// typed: `0`/`1` or booleans, tags as strings or objects). Items are
/// numbered from 1 in place of line numbers.
enum JSONExports {
    /// The array of objects in `data`: the top level, or under `key`.
    static func objects(_ data: Data, under key: String? = nil) -> [Any]? {
        guard let top = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) else { return nil }
        if let array = top as? [Any] { return array }
        if let key, let object = top as? [String: Any] { return object[key] as? [Any] }
        return nil
    }

    /// One item per object, with its `url` and `title`; `fill` reads the rest.
    static func parse(_ data: Data, under key: String? = nil, _ fill: ([String: Any], inout ImportedItem, (String) -> Void) -> Void) -> ParsedImport {
        var result = ParsedImport()
        guard let array = objects(data, under: key) else {
            result.skipped.append(ImportProblem(line: 1, reason: "not valid JSON (or not an array of items)"))
            return result
        }
        for (offset, element) in array.enumerated() {
            let number = offset + 1
            guard let object = element as? [String: Any] else {
                result.skipped.append(ImportProblem(line: number, reason: "item \(number) is not an object"))
                continue
            }
            var item = ImportedItem(line: number, url: ImportValues.text(object["url"]), title: ImportValues.text(object["title"]))
            fill(object, &item) { result.warnings.append(ImportProblem(line: number, reason: $0)) }
            result.items.append(item)
        }
        return result
    }

    static func date(_ value: Any?, _ warn: (String) -> Void) -> Int64? {
        if let number = value as? Int, number > 0 { return ImportValues.date(String(number)) }
        guard let text = ImportValues.text(value) else { return nil }
        guard let date = ImportValues.date(text) else {
            warn("bad date '\(text)': added now instead")
            return nil
        }
        return date
    }

    /// Tags as strings or as objects with a `label`/`name`.
    static func tags(_ value: Any?) -> [String] {
        guard let array = value as? [Any] else { return [] }
        return array.compactMap { element in
            if let name = element as? String { return name }
            if let object = element as? [String: Any] { return ImportValues.text(object["label"]) ?? ImportValues.text(object["name"]) }
            return nil
        }
    }

    /// Highlights as objects with a quote and an optional annotation.
    static func highlights(_ value: Any?, quoteKey: String, noteKey: String, dateKey: String) -> [ImportedNote] {
        guard let array = value as? [[String: Any]] else { return [] }
        return array.compactMap { object in
            let quote = ImportValues.text(object[quoteKey]), note = ImportValues.text(object[noteKey])
            let createdAt = ImportValues.text(object[dateKey]).flatMap(ImportValues.date).map(ISOTime.string(milliseconds:))
            switch (quote, note) {
            case (let quote?, let note?): return ImportedNote(body: note, quote: quote, createdAt: createdAt)
            case (let quote?, nil): return ImportedNote(body: quote, createdAt: createdAt)
            case (nil, let note?): return ImportedNote(body: note, createdAt: createdAt)
            case (nil, nil): return nil
            }
        }
    }
}

/// wallabag v2's JSON export: an array of entries with `title,url,content
/// (HTML),is_archived,is_starred,tags,created_at,domain_name,…` and
/// `annotations` (highlights with `quote` and `text`).
enum WallabagJSON {
    static func parse(_ data: Data) -> ParsedImport {
        JSONExports.parse(data) { object, item, warn in
            item.archived = ImportValues.bool(object["is_archived"])
            item.favorite = ImportValues.bool(object["is_starred"])
            item.tags = JSONExports.tags(object["tags"])
            item.addedAt = JSONExports.date(object["created_at"], warn)
            item.site = ImportValues.text(object["domain_name"])
            item.published = ImportValues.text(object["published_at"])
            if let authors = object["published_by"] as? [String], !authors.isEmpty { item.author = authors.joined(separator: ", ") }
            if let html = ImportValues.text(object["content"]) {
                let text = HTMLArticleExtractor.extract(Array("<html><body>\(html)</body></html>".utf8), charset: "utf-8").content
                if !text.isEmpty { item.content = text }
            }
            item.notes = JSONExports.highlights(object["annotations"], quoteKey: "quote", noteKey: "text", dateKey: "created_at")
        }
    }
}

/// Omnivore's JSON export (`metadata_*.json`): `id,slug,title,description,
/// author,url,state (Active/Archived),readingProgress (0–100),labels[],
/// savedAt,updatedAt,publishedAt`, and `highlights` where present.
enum OmnivoreJSON {
    /// `pages` are the zip's other members: `content/<slug>.html` becomes the body.
    static func parse(_ data: Data, pages: [String: Data] = [:]) -> ParsedImport {
        var pagesBySlug: [String: Data] = [:]
        for (path, page) in pages {
            let slug = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
            if pagesBySlug[slug] == nil { pagesBySlug[slug] = page }
        }
        return JSONExports.parse(data) { object, item, warn in
            if let slug = ImportValues.text(object["slug"]), let page = pagesBySlug[slug] {
                let text = HTMLArticleExtractor.extract(Array(page), charset: "utf-8").content
                if !text.isEmpty { item.content = text }
            }
            item.author = ImportValues.text(object["author"])
            item.published = ImportValues.text(object["publishedAt"])
            item.addedAt = JSONExports.date(object["savedAt"], warn)
            item.tags = JSONExports.tags(object["labels"])
            switch ImportValues.text(object["state"])?.lowercased() {
            case "archived": item.archived = true
            case "active", "succeeded": item.archived = false
            default: break
            }
            if let progress = ImportValues.double(object["readingProgress"] ?? object["readingProgressPercent"]), progress.isFinite, progress >= 0 {
                item.progress = min(progress / 100, 1)
            }
            item.notes = JSONExports.highlights(object["highlights"], quoteKey: "quote", noteKey: "annotation", dateKey: "createdAt")
        }
    }
}
