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

    /// Reads a file through one descriptor: opened, checked and read.
    /// (Asked for a file's attributes, FileManager also looks its owner up
    /// in the user database: a fifth of reading 500 articles.)
    private func readFile(_ path: String) throws -> ArticleDraft {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw InputError.fileNotFound(path) }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw InputError.fileNotFound(path) }
        guard status.st_mode & S_IFMT != S_IFDIR else { throw InputError.notAFile(path) }
        guard status.st_size <= Self.maxFileBytes else { throw InputError.fileTooLarge(path, limit: Self.maxFileBytes) }
        // To its end, whatever its size said: a file may grow, a pipe has none.
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Int(status.st_size))
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count >= 0 else { throw InputError.fileNotFound(path) }
            if count == 0 { break }
            bytes += chunk[..<count]
            guard bytes.count <= Self.maxFileBytes else { throw InputError.fileTooLarge(path, limit: Self.maxFileBytes) }
        }
        let ext = (path as NSString).pathExtension.lowercased()
        return try draft(fromBytes: bytes, source: path, isHTMLByName: ["html", "htm", "xhtml"].contains(ext), url: nil)
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
