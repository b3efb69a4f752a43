import Foundation

/// Why a page could not be fetched and made an article, each described in
/// one sentence a user can act on.
public enum FetchError: Error, Equatable, CustomStringConvertible, LocalizedError {
    /// The text is not an absolute http(s) URL.
    case invalidURL(String)
    /// No complete answer arrived; `reason` is libcurl's (no such host,
    /// connection refused, timed out, an untrusted certificate, …).
    case fetchFailed(url: String, reason: String)
    /// The page is larger than `HTTPLimits.maxResponseBytes`.
    case responseTooLarge(url: String, limit: Int)
    /// The server answered, but not with a 2xx status.
    case httpStatus(url: String, status: Int)
    /// The page is neither HTML nor text (an image, a PDF, …).
    case unsupportedContentType(url: String, contentType: String)
    /// The page holds no letter or digit to save.
    case emptyArticle(url: String)
    /// The page's address, or that of a page a redirect led to
    /// (`redirectedTo`), is one the `AddressPolicy` refuses: the server's own
    /// machine or network, say. Nothing was sent there.
    case refusedAddress(url: String, redirectedTo: String?, address: IPAddress, addressClass: IPAddressClass)

    public var description: String {
        switch self {
        case .invalidURL(let text): return "not an http(s) URL: \(text)"
        case .fetchFailed(let url, let reason): return "could not fetch \(url): \(reason)"
        case .responseTooLarge(let url, let limit): return "\(url) is larger than \(limit / 1_048_576) MB, the most readsync fetches"
        case .httpStatus(let url, let status): return "could not fetch \(url): the server answered HTTP \(status)"
        case .unsupportedContentType(let url, let type): return "\(url) is \(type), not an HTML or text page"
        case .emptyArticle(let url): return "\(url) has no text to save"
        case .refusedAddress(let url, let redirectedTo, let address, let addressClass):
            let target = redirectedTo.map { "it redirects to \($0), which resolves to" } ?? "it resolves to"
            return "refused to fetch \(url): \(target) \(address), \(addressClass), which this fetch policy does not allow"
        }
    }

    public var errorDescription: String? { description }
}
