import Foundation
import GRDB
import ReadSyncArticles
import ReadSyncCore

/// What an import did.
public struct ImportSummary: Sendable, Equatable {
    /// Articles the library did not have.
    public var new = 0
    /// Articles it had, given something they lacked.
    public var updated = 0
    /// Articles it had with everything the file says (a re-import: all of them).
    public var unchanged = 0
    /// Rows not imported, with the line and why.
    public var skipped: [ImportProblem] = []
    /// Rows imported with something left out.
    public var warnings: [ImportProblem] = []
    /// Articles of this import that have no body yet: what `--fetch` fetches.
    public var withoutBody: [BodyRequest] = []

    public init() {}

    /// Adds another file's counts and problems to these.
    public mutating func add(_ other: ImportSummary) {
        new += other.new
        updated += other.updated
        unchanged += other.unchanged
        skipped += other.skipped
        warnings += other.warnings
        let known = Set(withoutBody)
        withoutBody += other.withoutBody.filter { !known.contains($0) }
    }
}

/// An article whose body is to be fetched.
public struct BodyRequest: Sendable, Equatable, Hashable {
    public let articleID: String
    public let url: String
}

extension ReadingList {
    /// Items written per transaction: each item is whole or absent after a
    /// crash, and a re-run finishes the job. Each transaction indexes its
    /// items and commits (a WAL checkpoint): at 250 to a transaction, a
    /// 20,000-row Pocket import took 1.46 s, at 1,000 1.20 s, and `client
    /// add`'s 500 files a command made two transactions.
    public static let importBatchSize = 1000

    /// Saves what an export file holds, as ordinary writes (marked in the
    /// outbox, so it syncs).
    ///
    /// The rule, which makes import idempotent and order-independent: import
    /// only fills in what the library does not have yet. A new article gets
    /// everything the file says. An article already here gets only the fields
    /// that were never written on it (a body or title where it has only an
    /// empty body or its URL as title); it is never un-archived, un-tagged,
    /// un-read, or taken out of the trash, whatever the file says. So a second
    /// run, or an overlapping file, writes nothing, and an interrupted run
    /// re-run completes without duplicates. Articles are identified by their
    /// canonical URL, notes by their article and text.
    @discardableResult
    public func importItems(_ items: [ImportedItem], file: String = "", progress: (Int) -> Void = { _ in }) throws -> ImportSummary {
        var summary = ImportSummary()
        var needingBody = Set<BodyRequest>()
        var done = 0
        for batch in items.chunked(into: Self.importBatchSize) {
            // One transaction per batch, each item a command of its own: an
            // item that fails leaves nothing, the rest go on.
            try store.inOneTransaction {
                for item in batch {
                    do {
                        let (result, changed) = try store.command { write in
                            let before = write.writes
                            let result = try ImportApplication(write: write, noteID: Self.importedNoteID).apply(item)
                            return (result, write.writes > before)
                        }
                        switch result {
                        case .skipped(let reason): summary.skipped.append(ImportProblem(file: file, line: item.line, reason: reason))
                        case .applied(let isNew, let warnings, let body):
                            if isNew { summary.new += 1 } else if changed { summary.updated += 1 } else { summary.unchanged += 1 }
                            summary.warnings += warnings.map { ImportProblem(file: file, line: item.line, reason: $0) }
                            if let body, needingBody.insert(body).inserted { summary.withoutBody.append(body) }
                        }
                    } catch let error as any LibraryRefusal {
                        summary.skipped.append(ImportProblem(file: file, line: item.line, reason: error.description))
                    }
                }
            }
            done += batch.count
            progress(done)
        }
        return summary
    }

    /// Reads one export file (format detected unless given) and imports it;
    /// the summary includes the rows the parser skipped. `progress` gets
    /// (items done, items in the file) after each batch.
    @discardableResult
    public func importSource(
        _ source: ImportSource, format: ImportFormat? = nil,
        progress: (_ done: Int, _ total: Int) -> Void = { _, _ in }
    ) throws -> (format: ImportFormat, summary: ImportSummary) {
        guard let format = format ?? ImportFormat.detect(source.data) else { throw ImportError.unknownFormat(source.name) }
        let parsed = format.parse(source.data, pages: source.pages)
        var summary = try importItems(parsed.items, file: source.name) { progress($0, parsed.items.count) }
        summary.skipped = (parsed.skipped.map { ImportProblem(file: source.name, line: $0.line, reason: $0.reason) } + summary.skipped)
            .sorted { $0.line < $1.line }
        summary.warnings = (parsed.warnings.map { ImportProblem(file: source.name, line: $0.line, reason: $0.reason) } + summary.warnings)
            .sorted { $0.line < $1.line }
        return (format, summary)
    }

    /// Gives an article the body fetched for it, unless it got one meanwhile;
    /// also its title (where it has only its URL) and metadata it lacks.
    /// Returns whether anything changed.
    @discardableResult
    public func fillBody(_ articleID: String, from draft: ArticleDraft) throws -> Bool {
        try store.command { write in
            let application = ImportApplication(write: write, noteID: Self.importedNoteID)
            let registers = try write.values(of: .article, articleID)
            guard registers[ArticleField.deleted.rawValue] == .bool(false) else { return false }
            let url = registers[ArticleField.url.rawValue]?.text
            var item = ImportedItem(line: 0, url: url, title: draft.title)
            item.author = draft.author
            item.site = draft.site
            item.published = draft.published
            item.content = draft.content
            try application.fillMetadata(articleID, item, registers: registers, url: url)
            return write.writes > 0
        }
    }

    /// Imported notes have no id of their own: derive one from the article
    /// and the text (UUID-shaped), so importing them again finds them.
    static func importedNoteID(articleID: String, note: ImportedNote) -> String {
        let hex = Array(SHA256.hex("note:\(articleID)\n\(note.quote ?? "")\n\(note.body)"))
        return [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { String(hex[$0]) }.joined(separator: "-")
    }
}

/// Writes one imported item following the fill-in rule of `importItems`.
private struct ImportApplication {
    enum Result {
        case skipped(String)
        case applied(isNew: Bool, warnings: [String], needsBody: BodyRequest?)
    }

    let write: LocalWrite
    let noteID: (String, ImportedNote) -> String

    func apply(_ item: ImportedItem) throws -> Result {
        let url: CanonicalURL?
        if let text = item.url?.trimmingScalars(in: .whitespacesAndNewlines), !text.isEmpty {
            guard let canonical = CanonicalURL(text) else { return .skipped("not an http(s) URL: \(text.prefix(200))") }
            url = canonical
        } else if item.content?.isEmpty == false {
            url = nil  // an article saved from a file: identified by its text
        } else {
            return .skipped("no URL")
        }
        var warnings: [String] = []
        let id = ArticleDraft(url: url, title: "", content: item.content ?? "").id
        let registers = try write.values(of: .article, id)
        if registers[ArticleField.deleted.rawValue] == .bool(true) {
            return .skipped("article \(id.prefix(8)) is in the trash; restore it first")
        }
        let isNew = registers[ArticleField.title.rawValue] == nil
        try fillMetadata(id, item, registers: registers, url: url?.string)

        func key(_ field: ArticleField) -> RegisterKey { RegisterKey(kind: .article, entity: id, field: field.rawValue) }
        let added = item.addedAtISO.flatMap { ImportValues.date($0) != nil ? $0 : nil } ?? item.addedAt.map(ISOTime.string(milliseconds:))
        try write.setIfAbsent(key(.addedAt), .text(added ?? write.now))
        try write.setIfAbsent(key(.deleted), .bool(false))

        try applyReadState(id, item)
        for name in item.tags {
            guard let tag = try? ReadingList.normalizedTag(name) else {
                warnings.append("tag '\(name.prefix(100))' left out: tags are one line of at most 100 characters")
                continue
            }
            try write.setIfAbsent(RegisterKey(kind: .tag, entity: TagEntity.id(articleID: id, tag: tag), field: TagField.present.rawValue), .bool(true))
        }
        for note in item.notes { try applyNote(note, articleID: id, fallbackDate: added) }

        let hasBody = item.content?.isEmpty == false || registers[ArticleField.content.rawValue]?.text?.isEmpty == false
        let needsBody = hasBody ? nil : url.map { BodyRequest(articleID: id, url: $0.string) }
        return .applied(isNew: isNew, warnings: warnings, needsBody: needsBody)
    }

    /// Title, body and metadata: written where the article has none (or only
    /// placeholders: its URL as title, an empty body).
    func fillMetadata(_ id: String, _ item: ImportedItem, registers: [String: FieldValue], url: String?) throws {
        func key(_ field: ArticleField) -> RegisterKey { RegisterKey(kind: .article, entity: id, field: field.rawValue) }
        func current(_ field: ArticleField) -> FieldValue? { registers[field.rawValue] }
        func fill(_ field: ArticleField, _ value: String?) throws {
            guard let value, (current(field) ?? .null) == .null else { return }
            try write.set(key(field), .text(value))
        }
        if let url { try write.setIfAbsent(key(.url), .text(url)) }
        let title = item.exact ? item.title : item.title.map { TextStatistics.shorten($0.split(whereSeparator: \.isNewline).joined(separator: " "), to: 300) }
        let currentTitle = current(.title)?.text
        if currentTitle == nil || currentTitle == url || currentTitle?.isEmpty == true, let newTitle = title ?? (currentTitle == nil ? url : nil) {
            try write.set(key(.title), .text(newTitle))
        }
        try fill(.author, item.author)
        try fill(.site, item.site)
        try fill(.published, item.published)
        if let content = item.content, !content.isEmpty, (current(.content)?.text ?? "").isEmpty {
            let draft = ArticleDraft(url: nil, title: title ?? currentTitle ?? "", content: content)
            try write.set(key(.content), .text(content))
            try write.set(key(.excerpt), .text(draft.excerpt))
            try write.set(key(.wordCount), .int(Int64(draft.wordCount)))
        }
        // No body: the body registers stay unwritten (they read as empty), so
        // a metadata-only import writes three registers fewer per article.
    }

    /// Flags, progress and status: only what is set (archived, favorite, some
    /// progress) and never written here before.
    private func applyReadState(_ id: String, _ item: ImportedItem) throws {
        func key(_ field: ReadStateField) -> RegisterKey { RegisterKey(kind: .readState, entity: id, field: field.rawValue) }
        if item.archived == true { try write.setIfAbsent(key(.archived), .bool(true)) }
        if item.favorite == true { try write.setIfAbsent(key(.favorite), .bool(true)) }
        let progress = item.progress.map { min(max($0, 0), 1) }
        let status = item.status ?? progress.map { $0 >= 1 ? .read : $0 > 0 ? .reading : .unread }
        guard let status, status != .unread || (progress ?? 0) > 0 else { return }
        guard try !write.exists(key(.status)) else { return }
        try write.set(key(.status), .text(status.rawValue))
        if let progress, progress > 0 { try write.setIfAbsent(key(.progress), .double(progress)) }
        if status == .read { try write.setIfAbsent(key(.readAt), .text(item.readAt ?? write.now)) }
    }

    private func applyNote(_ note: ImportedNote, articleID: String, fallbackDate: String?) throws {
        let body = note.body.trimmingScalars(in: .whitespacesAndNewlines)
        guard !body.isEmpty else { return }
        let id = note.id ?? noteID(articleID, note)
        func key(_ field: NoteField) -> RegisterKey { RegisterKey(kind: .note, entity: id, field: field.rawValue) }
        // A note already here may have been edited or deleted since: leave it.
        guard try !write.exists(key(.articleID)) else { return }
        try write.set(key(.articleID), .text(articleID))
        try write.set(key(.body), .text(body))
        if let quote = note.quote?.trimmingScalars(in: .whitespacesAndNewlines), !quote.isEmpty { try write.set(key(.quote), .text(quote)) }
        try write.set(key(.createdAt), .text(note.createdAt ?? fallbackDate ?? write.now))
        try write.set(key(.deleted), .bool(false))
    }
}

extension Array {
    /// Consecutive slices of at most `size` elements.
    func chunked(into size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}

extension ReadingList {
    /// The live articles `filter` chooses (all by default) with their
    /// bodies, notes and tags, oldest first (the order they were added), for
    /// `export`.
    public func exportArticles(_ filter: ListFilter = ListFilter()) throws -> [ArticleDetail] {
        let chosen = try list(filter).sorted { ($0.addedAt, $0.id) < ($1.addedAt, $1.id) }
        return try chosen.map { try show($0.id) }
    }
}
