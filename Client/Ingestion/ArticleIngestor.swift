import Foundation
import ReadSyncArticles
import ReadSyncCore

/// Turns what `add` was given — a file path, an http(s) URL, or `-` for
/// standard input — into an article draft. Refuses what is not an article
/// with a `ClientError` that says why.
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
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw ClientError.fileNotFound(path) }
        guard !isDirectory.boolValue else { throw ClientError.notAFile(path) }
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        guard size <= Self.maxFileBytes else { throw ClientError.fileTooLarge(path, limit: Self.maxFileBytes) }
        guard let data = FileManager.default.contents(atPath: path) else { throw ClientError.fileNotFound(path) }
        let ext = (path as NSString).pathExtension.lowercased()
        return try draft(fromBytes: Array(data), source: path, isHTMLByName: ["html", "htm", "xhtml"].contains(ext), url: nil)
    }

    /// A page, fetched as the server fetches one (`PageFetcher`), with its
    /// refusals in the client's words.
    private func fetch(_ text: String) throws -> ArticleDraft {
        do throws(FetchError) {
            return try pages.draft(from: text)
        } catch {
            throw ClientError(error)
        }
    }

    private func draft(fromBytes bytes: [UInt8], source: String, isHTMLByName: Bool, url: CanonicalURL?) throws -> ArticleDraft {
        guard bytes.count <= Self.maxFileBytes else { throw ClientError.fileTooLarge(source, limit: Self.maxFileBytes) }
        guard !TextDecoding.looksBinary(bytes) else { throw ClientError.binaryFile(source) }
        if isHTMLByName || TextDecoding.looksLikeHTML(bytes) {
            return try nonEmpty(HTMLArticleExtractor.extract(bytes, url: url), source: source)
        }
        guard let text = TextDecoding.decode(bytes, charset: nil) else { throw ClientError.binaryFile(source) }
        return try nonEmpty(TextArticleParser.parse(text, fallbackURL: url), source: source)
    }

    private func nonEmpty(_ draft: ArticleDraft, source: String) throws -> ArticleDraft {
        guard draft.hasText else { throw ClientError.emptyArticle(source) }
        return draft
    }
}

extension ClientError {
    /// The client's error for a page that could not be fetched: the same
    /// message `readsync client add URL` has always printed.
    init(_ error: FetchError) {
        switch error {
        case .invalidURL(let text): self = .invalidURL(text)
        case .fetchFailed(let url, let reason): self = .fetchFailed(url: url, reason: reason)
        case .responseTooLarge(let url, let limit): self = .responseTooLarge(url: url, limit: limit)
        case .httpStatus(let url, let status): self = .httpStatus(url: url, status: status)
        case .unsupportedContentType(let url, let type): self = .unsupportedContentType(url: url, contentType: type)
        case .emptyArticle(let url): self = .emptyArticle(url)
        // Not under the client's policy (`any`), which refuses no address.
        case .refusedAddress(let url, _, let address, let addressClass):
            self = .fetchFailed(url: url, reason: "it resolves to \(address), \(addressClass), which is refused")
        }
    }
}
