import Foundation

/// Everything the client can refuse, each described in one sentence a user
/// can act on. User content (article text, notes) never goes into a message.
public enum ClientError: Error, Equatable, CustomStringConvertible, LocalizedError {
    case fileNotFound(String)
    case notAFile(String)
    case binaryFile(String)
    case fileTooLarge(String, limit: Int)
    case emptyArticle(String)
    case invalidURL(String)
    case fetchFailed(url: String, reason: String)
    case httpStatus(url: String, status: Int)
    case unsupportedContentType(url: String, contentType: String)
    case responseTooLarge(url: String, limit: Int)
    case unknownArticle(String)
    case ambiguousArticle(String, matches: Int)
    case unknownNote(String)
    case ambiguousNote(String, matches: Int)
    case articleDeleted(String)
    case articleNotDeleted(String)
    case invalidProgress(String)
    case invalidTag(String)
    case emptyNote
    case emptySearch
    case invalidServerURL(String)
    case invalidToken
    /// A server URL with a user name or password in it.
    case credentialsInServerURL
    case unreadableCAFile(path: String, reason: String)
    case caFileWithoutHTTPS(String)
    case homeUnavailable(path: String, reason: String)
    case unsyncable(String)
    case unknownImportFormat(String)
    case unreadableImport(String, reason: String)
    /// The storage under the library failed a write (disk full, read-only,
    /// locked): `home` is the folder to act on.
    case homeStorage(HomeStorageFault, home: String, during: HomeStorageFault.Activity)

    public var description: String {
        switch self {
        case .fileNotFound(let path): return "no such file: \(path)"
        case .notAFile(let path): return "\(path) is a directory, not an article file"
        case .binaryFile(let path): return "\(path) looks like a binary file; readsync adds text, Markdown and HTML"
        case .fileTooLarge(let path, let limit): return "\(path) is larger than \(limit / 1_048_576) MB, the most readsync adds"
        case .emptyArticle(let source): return "\(source) has no text to save"
        case .invalidURL(let text): return "not an http(s) URL: \(text)"
        case .fetchFailed(let url, let reason): return "could not fetch \(url): \(reason)"
        case .httpStatus(let url, let status): return "could not fetch \(url): the server answered HTTP \(status)"
        case .unsupportedContentType(let url, let type): return "\(url) is \(type), not an HTML or text page"
        case .responseTooLarge(let url, let limit): return "\(url) is larger than \(limit / 1_048_576) MB, the most readsync fetches"
        case .unknownArticle(let ref): return "no article matches id '\(ref)' (see `readsync client list`)"
        case .ambiguousArticle(let ref, let count): return "id '\(ref)' matches \(count) articles; give more characters"
        case .unknownNote(let ref): return "no note matches id '\(ref)' (see `readsync client show ARTICLE`)"
        case .ambiguousNote(let ref, let count): return "id '\(ref)' matches \(count) notes; give more characters"
        case .articleDeleted(let id): return "article \(id) is deleted; `readsync client restore \(id)` brings it back"
        case .articleNotDeleted(let id): return "article \(id) is not deleted"
        case .invalidProgress(let text): return "progress must be a percentage from 0 to 100, not '\(text)'"
        case .invalidTag(let text): return "invalid tag '\(text)': write +name to add or -name to remove, with a non-empty name"
        case .emptyNote: return "a note needs some text"
        case .emptySearch: return "search needs at least one word"
        case .invalidServerURL(let text): return "not an http(s) server URL: \(text)"
        case .invalidToken: return "the token must be non-empty and printable (as `readsync user add` prints it)"
        case .credentialsInServerURL:
            return "the server URL must not hold a user name or password (`client status` and sync messages show the URL); give the token with --token"
        case .unreadableCAFile(let path, let reason): return "cannot use \(path) as the certificate authority: \(reason)"
        case .caFileWithoutHTTPS(let url): return "--ca-file is for an https:// server, and \(url) is not one"
        case .homeUnavailable(let path, let reason): return "cannot use \(path) as the readsync home: \(reason)"
        case .unsyncable(let problem): return "not saved: the \(problem), more than sync carries"
        case .unknownImportFormat(let path):
            return "\(path) is not an export readsync knows (\(ImportFormat.allCases.map(\.rawValue).joined(separator: ", "))); give --format if it is one"
        case .unreadableImport(let path, let reason): return "cannot import \(path): \(reason)"
        case .homeStorage(let fault, let home, let activity): return fault.message(home: home, during: activity)
        }
    }

    public var errorDescription: String? { description }
}
