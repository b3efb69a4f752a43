import Foundation

/// An export file `import` cannot read.
public enum ImportError: LibraryRefusal, Equatable, LocalizedError {
    case unknownFormat(String)
    case unreadable(String, reason: String)

    public var description: String {
        switch self {
        case .unknownFormat(let path):
            return "\(path) is not an export readsync knows (\(ImportFormat.allCases.map(\.rawValue).joined(separator: ", "))); give --format if it is one"
        case .unreadable(let path, let reason): return "cannot import \(path): \(reason)"
        }
    }

    public var errorDescription: String? { description }
}
