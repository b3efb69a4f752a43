import Foundation
import ReadSyncCore

/// Fetches a web page over http(s) and makes it an article draft: HTML
/// through `HTMLArticleExtractor`, plain text and Markdown through
/// `TextArticleParser`, the identity from the canonical URL. The client's
/// `add URL` and the server's saving of a page both come here, so one page
/// saved from either side is one article.
///
/// Not thread-safe: it holds one libcurl handle (`CurlHTTPClient`). Make one
/// per call, or one per thread.
public final class PageFetcher {
    private let http: CurlHTTPClient

    /// A fetcher whose every transfer is bounded by `limits` (time, size,
    /// redirects) and connects only where `addressPolicy` allows: `any` for
    /// the client, `publicOnly` for the server (see `AddressPolicy`).
    public init(limits: HTTPLimits = HTTPLimits(), addressPolicy: AddressPolicy = .any) {
        self.http = CurlHTTPClient(limits: limits, addressPolicy: addressPolicy)
    }

    /// Fetches `text`, an absolute http(s) URL, following redirects. The
    /// draft's URL is the page's canonical one (its `<link rel=canonical>`,
    /// else `text` canonicalised), never where redirects ended.
    public func draft(from text: String) throws(FetchError) -> ArticleDraft {
        guard let url = CanonicalURL(text) else { throw .invalidURL(text) }
        let response: HTTPResponse
        do {
            response = try http.perform(HTTPRequest(url: text, headers: [("Accept", "text/html,application/xhtml+xml,text/plain;q=0.8")]))
        } catch HTTPTransportError.responseTooLarge(let limit) {
            throw .responseTooLarge(url: text, limit: limit)
        } catch HTTPTransportError.refusedAddress(let hop, let redirected, let address, let addressClass) {
            throw .refusedAddress(url: text, redirectedTo: redirected ? hop : nil, address: address, addressClass: addressClass)
        } catch {
            throw .fetchFailed(url: text, reason: String(describing: error))
        }
        guard (200..<300).contains(response.status) else { throw .httpStatus(url: text, status: response.status) }
        let mediaType = response.mediaType ?? "text/html"
        let draft: ArticleDraft
        switch mediaType {
        case "text/html", "application/xhtml+xml":
            draft = HTMLArticleExtractor.extract(response.body, charset: response.charset, url: url)
        case "text/plain", "text/markdown", "text/x-markdown":
            guard let decoded = TextDecoding.decode(response.body, charset: response.charset) else {
                throw .unsupportedContentType(url: text, contentType: "binary data labelled \(mediaType)")
            }
            draft = TextArticleParser.parse(decoded, fallbackURL: url)
        default:
            throw .unsupportedContentType(url: text, contentType: mediaType)
        }
        guard draft.hasText else { throw .emptyArticle(url: text) }
        return draft
    }
}
