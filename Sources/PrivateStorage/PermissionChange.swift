/// A file or folder that other local accounts could read, found when a
/// device home or a server data folder was opened, and what was done about
/// it. The libraries do not print: they report these, and the executable
/// (or the server's log) says them in one line.
public struct PermissionChange: Sendable, Equatable, CustomStringConvertible {
    public let path: String
    /// The permission bits found (`0o755`).
    public let before: UInt32
    /// The bits set, or nil when `chmod` failed (then `failure` says why and
    /// the file is used as it is: it stays readable to others, but nothing breaks).
    public let after: UInt32?
    public let failure: String?

    public init(path: String, before: UInt32, after: UInt32?, failure: String? = nil) {
        self.path = path
        self.before = before
        self.after = after
        self.failure = failure
    }

    /// `tightened permissions of PATH (was 0755, now 0700)`, or why not.
    public var description: String {
        if let after { return "tightened permissions of \(path) (was \(Self.octal(before)), now \(Self.octal(after)))" }
        return "could not tighten permissions of \(path) (\(Self.octal(before)): \(failure ?? "unknown error")); other local accounts can read it"
    }

    static func octal(_ mode: UInt32) -> String {
        let digits = String(mode & 0o7777, radix: 8)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}
