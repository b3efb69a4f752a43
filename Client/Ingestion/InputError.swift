import Foundation

/// What `add` or `import` was given cannot be read as an article or an
/// export: a missing, binary or oversized file, or one with no text.
public enum InputError: LibraryRefusal, Equatable, LocalizedError {
    case fileNotFound(String)
    case notAFile(String)
    case binaryFile(String)
    case fileTooLarge(String, limit: Int)
    /// A file or standard input with no letter or digit to save.
    case noText(String)

    public var description: String {
        switch self {
        case .fileNotFound(let path): return "no such file: \(path)"
        case .notAFile(let path): return "\(path) is a directory, not an article file"
        case .binaryFile(let path): return "\(path) looks like a binary file; readsync adds text, Markdown and HTML"
        case .fileTooLarge(let path, let limit): return "\(path) is larger than \(limit / 1_048_576) MB, the most readsync adds"
        case .noText(let source): return "\(source) has no text to save"
        }
    }

    public var errorDescription: String? { description }
}
