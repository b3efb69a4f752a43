import Foundation
import ReadSyncArticles

/// The export formats `import` reads.
public enum ImportFormat: String, CaseIterable, Sendable {
    case pocketCSV = "pocket-csv"
    case pocketHTML = "pocket-html"
    case instapaper
    case netscape
    case wallabag
    case omnivore
    case readwise
    case readsync

    /// Recognises a file by its content: the CSV header, the HTML's marks, the
    /// JSON's keys. Nil when it is none of the formats.
    public static func detect(_ data: Data) -> ImportFormat? {
        let head = String(decoding: data.prefix(4096), as: UTF8.self)
        let trimmed = head.drop(while: { $0.isWhitespace || $0 == "\u{FEFF}" })
        let lower = trimmed.lowercased()
        if trimmed.hasPrefix("{") || trimmed.hasPrefix("[") {
            guard let top = try? JSONSerialization.jsonObject(with: data) else { return nil }
            if let object = top as? [String: Any] { return object["format"] as? String == "readsync" ? .readsync : nil }
            guard let first = (top as? [Any])?.first as? [String: Any] else { return nil }
            if first["is_archived"] != nil || first["is_starred"] != nil { return .wallabag }
            if first["savedAt"] != nil || first["readingProgress"] != nil || first["slug"] != nil { return .omnivore }
            return nil
        }
        if lower.contains("netscape-bookmark-file") { return .netscape }
        if lower.hasPrefix("<") {
            if lower.contains("time_added") || lower.contains("<h1>unread</h1>") || lower.contains("pocket export") { return .pocketHTML }
            if lower.contains("<dl") && lower.contains("<dt") { return .netscape }
            return nil
        }
        let header = lower.prefix(while: { !$0.isNewline }).split(separator: ",").map { $0.trimmingScalars(in: CharacterSet(charactersIn: " \"")) }
        if header.starts(with: ["title", "url", "time_added"]) { return .pocketCSV }
        if header.starts(with: ["url", "title", "selection", "folder"]) { return .instapaper }
        if header.starts(with: ["title", "url", "id", "document tags"]) { return .readwise }
        return nil
    }

    /// Reads a file of this format; `pages` are article bodies beside it in its zip.
    public func parse(_ data: Data, pages: [String: Data] = [:]) -> ParsedImport {
        func text() -> String { TextDecoding.decode(Array(data), charset: nil) ?? "" }
        switch self {
        case .pocketCSV: return PocketCSV.parse(text())
        case .pocketHTML: return PocketHTML.parse(text())
        case .instapaper: return InstapaperCSV.parse(text())
        case .netscape: return NetscapeBookmarks.parse(text())
        case .wallabag: return WallabagJSON.parse(data)
        case .omnivore: return OmnivoreJSON.parse(data, pages: pages)
        case .readwise: return ReadwiseCSV.parse(text())
        case .readsync: return ReadsyncJSON.parse(data)
        }
    }
}

/// An import file read from disk: a zip (Pocket's and Omnivore's exports)
/// counts as the export files inside it.
public struct ImportSource: Sendable {
    /// The path, or `archive.zip:part_000000.csv` for a member.
    public let name: String
    public let data: Data
    /// Article pages beside it in its zip, by their path inside it (Omnivore
    /// puts each body in `content/<slug>.html`).
    public let pages: [String: Data]
    /// A member of a zip: one the zip may hold that is not an export is skipped,
    /// where a file named on the command line is an error.
    public let isArchiveMember: Bool

    public init(name: String, data: Data, pages: [String: Data] = [:], isArchiveMember: Bool = false) {
        self.name = name
        self.data = data
        self.pages = pages
        self.isArchiveMember = isArchiveMember
    }

    /// The largest file (or zip member) read: larger ones are refused.
    public static let maxBytes = 1 << 30

    public static func read(_ path: String) throws -> [ImportSource] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw InputError.fileNotFound(path) }
        guard !isDirectory.boolValue else { throw InputError.notAFile(path) }
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        guard size <= maxBytes else { throw InputError.fileTooLarge(path, limit: maxBytes) }
        guard let file = FileHandle(forReadingAtPath: path) else { throw InputError.fileNotFound(path) }
        let head = (try? file.read(upToCount: 4)) ?? Data()
        try? file.close()
        guard ZipArchive.isZip(head) else {
            guard let data = FileManager.default.contents(atPath: path) else { throw InputError.fileNotFound(path) }
            return [ImportSource(name: path, data: data)]
        }
        // Omnivore keeps each body in content/<slug>.html; Pocket's parts are CSV.
        func isPage(_ name: String) -> Bool { name.lowercased().split(separator: "/").dropLast().contains("content") }
        func isExport(_ name: String) -> Bool {
            let lower = name.lowercased()
            let base = lower.split(separator: "/").last.map(String.init) ?? lower
            return !isPage(name) && !base.hasPrefix(".") && !lower.hasPrefix("__macosx/")
                && [".csv", ".json", ".html", ".htm"].contains(where: lower.hasSuffix)
        }
        let members: [ZipArchive.Member]
        do {
            members = try ZipArchive.members(at: URL(fileURLWithPath: path), limit: maxBytes) { isPage($0) || isExport($0) }
        } catch {
            throw ImportError.unreadable(path, reason: "a damaged or unsupported zip archive (\(error))")
        }
        let pages = Dictionary(members.filter { isPage($0.name) }.map { ($0.name, $0.bytes) }, uniquingKeysWith: { first, _ in first })
        let wanted = members.filter { isExport($0.name) }
        guard !wanted.isEmpty else { throw ImportError.unreadable(path, reason: "the zip archive holds no CSV, JSON or HTML export") }
        return wanted.sorted { $0.name < $1.name }.map { ImportSource(name: "\(path):\($0.name)", data: $0.bytes, pages: pages, isArchiveMember: true) }
    }
}
