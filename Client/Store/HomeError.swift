import Foundation

/// The device home cannot be used, or its storage failed under a write.
public enum HomeError: Error, Equatable, CustomStringConvertible, LocalizedError {
    case unavailable(path: String, reason: String)
    /// The storage under the library failed a write (disk full, read-only,
    /// locked): `home` is the folder to act on.
    case storage(HomeStorageFault, home: String, during: HomeStorageFault.Activity)

    public var description: String {
        switch self {
        case .unavailable(let path, let reason): return "cannot use \(path) as the readsync home: \(reason)"
        case .storage(let fault, let home, let activity): return fault.message(home: home, during: activity)
        }
    }

    public var errorDescription: String? { description }
}
