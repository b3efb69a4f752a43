import Foundation

/// An edit of the library refused before anything is written.
public enum EditError: LibraryRefusal, Equatable, LocalizedError {
    case invalidProgress(String)
    case invalidTag(String)
    case emptyNote
    /// A value the server would refuse (`ChangeValidation`): kept, it would
    /// block every later sync.
    case unsyncable(String)

    public var description: String {
        switch self {
        case .invalidProgress(let text): return "progress must be a percentage from 0 to 100, not '\(text)'"
        case .invalidTag(let text): return "invalid tag '\(text)': write +name to add or -name to remove, with a non-empty name"
        case .emptyNote: return "a note needs some text"
        case .unsyncable(let problem): return "not saved: the \(problem), more than sync carries"
        }
    }

    public var errorDescription: String? { description }
}
