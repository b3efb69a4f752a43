import Foundation
import ReadSyncArticles
import ReadSyncCore

/// Turns what `add` was given — a file path, an http(s) URL, or `-` for
/// standard input — into an article draft. Refuses what is not an article
/// with a `ClientError` that says why.
public struct ArticleIngestor {
    /// The most bytes read from a file or standard input.
    public static let maxFileBytes = 20 * 1_048_576

    private let http: CurlHTTPClient
    private let readStandardInput: () -> Data

    public init(limits: HTTPLimits = HTTPLimits(), readStandardInput: @escaping () -> Data = { FileHandle.standardInput.readDataToEndOfFile() }) {
        self.http = CurlHTTPClient(limits: limits)
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

    private func fetch(_ text: String) throws -> ArticleDraft {
        guard let url = CanonicalURL(text) else { throw ClientError.invalidURL(text) }
        let response: HTTPResponse
        do {
            response = try http.perform(HTTPRequest(url: text, headers: [("Accept", "text/html,application/xhtml+xml,text/plain;q=0.8")]))
        } catch HTTPTransportError.responseTooLarge(let limit) {
            throw ClientError.responseTooLarge(url: text, limit: limit)
        } catch {
            throw ClientError.fetchFailed(url: text, reason: String(describing: error))
        }
        guard (200..<300).contains(response.status) else { throw ClientError.httpStatus(url: text, status: response.status) }
        let mediaType = response.mediaType ?? "text/html"
        switch mediaType {
        case "text/html", "application/xhtml+xml":
            let draft = HTMLArticleExtractor.extract(response.body, charset: response.charset, url: url)
            return try nonEmpty(draft, source: text)
        case "text/plain", "text/markdown", "text/x-markdown":
            guard let decoded = TextDecoding.decode(response.body, charset: response.charset) else {
                throw ClientError.unsupportedContentType(url: text, contentType: "binary data labelled \(mediaType)")
            }
            return try nonEmpty(TextArticleParser.parse(decoded, fallbackURL: url), source: text)
        default:
            throw ClientError.unsupportedContentType(url: text, contentType: mediaType)
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
        guard draft.content.contains(where: { $0.isLetter || $0.isNumber }) else { throw ClientError.emptyArticle(source) }
        return draft
    }
}
