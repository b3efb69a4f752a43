import Foundation
import ReadSyncArticles
import ReadSyncCore

/// Turns what `add` was given — a file path, an http(s) URL, or `-` for
/// standard input — into an article draft. Refuses what is not an article
/// with an `InputError` (a file, standard input) or a `FetchError` (a URL)
/// that says why.
public struct ArticleIngestor {
    /// The most bytes read from a file or standard input.
    public static let maxFileBytes = 20 * 1_048_576

    private let pages: PageFetcher
    private let readStandardInput: () -> Data

    public init(limits: HTTPLimits = HTTPLimits(), readStandardInput: @escaping () -> Data = { FileHandle.standardInput.readDataToEndOfFile() }) {
        self.pages = PageFetcher(limits: limits)
        self.readStandardInput = readStandardInput
    }

    public func draft(from input: String) throws -> ArticleDraft {
        if input == "-" {
            return try draft(fromBytes: Array(readStandardInput()), source: "standard input", isHTMLByName: false, url: nil)
        }
        let lowered = input.lowercased()
        if lowered.hasPrefix("http://") || lowered.hasPrefix("https://") {
            return try fetch(input)
        }
        return try readFile(input)
    }

    private func readFile(_ path: String) throws -> ArticleDraft {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw InputError.fileNotFound(path) }
        guard !isDirectory.boolValue else { throw InputError.notAFile(path) }
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        guard size <= Self.maxFileBytes else { throw InputError.fileTooLarge(path, limit: Self.maxFileBytes) }
        guard let data = FileManager.default.contents(atPath: path) else { throw InputError.fileNotFound(path) }
        let ext = (path as NSString).pathExtension.lowercased()
        return try draft(fromBytes: Array(data), source: path, isHTMLByName: ["html", "htm", "xhtml"].contains(ext), url: nil)
    }

    /// A page, fetched as the server fetches one (`PageFetcher`).
    private func fetch(_ text: String) throws(FetchError) -> ArticleDraft {
        try pages.draft(from: text)
    }

    private func draft(fromBytes bytes: [UInt8], source: String, isHTMLByName: Bool, url: CanonicalURL?) throws -> ArticleDraft {
        guard bytes.count <= Self.maxFileBytes else { throw InputError.fileTooLarge(source, limit: Self.maxFileBytes) }
        guard !TextDecoding.looksBinary(bytes) else { throw InputError.binaryFile(source) }
        if isHTMLByName || TextDecoding.looksLikeHTML(bytes) {
            return try nonEmpty(HTMLArticleExtractor.extract(bytes, url: url), source: source)
        }
        guard let text = TextDecoding.decode(bytes, charset: nil) else { throw InputError.binaryFile(source) }
        return try nonEmpty(TextArticleParser.parse(text, fallbackURL: url), source: source)
    }

    private func nonEmpty(_ draft: ArticleDraft, source: String) throws -> ArticleDraft {
        guard draft.hasText else { throw InputError.noText(source) }
        return draft
    }
}
