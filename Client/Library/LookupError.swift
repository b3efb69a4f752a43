import Foundation

/// An id prefix or a search that finds no one thing to act on.
public enum LookupError: LibraryRefusal, Equatable, LocalizedError {
    case unknownArticle(String)
    case ambiguousArticle(String, matches: Int)
    case unknownNote(String)
    case ambiguousNote(String, matches: Int)
    /// The article is in the trash (restore it first).
    case articleDeleted(String)
    /// Restoring an article that is not in the trash.
    case articleNotDeleted(String)
    case emptySearch

    public var description: String {
        switch self {
        case .unknownArticle(let ref): return "no article matches id '\(ref)'"
        case .ambiguousArticle(let ref, let count): return "id '\(ref)' matches \(count) articles; give more characters"
        case .unknownNote(let ref): return "no note matches id '\(ref)'"
        case .ambiguousNote(let ref, let count): return "id '\(ref)' matches \(count) notes; give more characters"
        case .articleDeleted(let id): return "article \(id) is deleted (in the trash)"
        case .articleNotDeleted(let id): return "article \(id) is not deleted"
        case .emptySearch: return "search needs at least one word"
        }
    }

    public var errorDescription: String? { description }
}
