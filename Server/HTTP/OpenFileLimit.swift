#if canImport(Glibc)
import Glibc
#endif

/// Each device that watches (`client sync --watch`) holds a connection open,
/// and each connection is a file descriptor. The usual soft limit, 1024, would
/// turn devices away near a thousand while the hard limit (often 524288)
/// allows far more; the soft limit is only a default for programs that do not
/// expect many files, so a server raises it to the hard limit, as nginx's
/// `worker_rlimit_nofile` and Go's runtime do.
public enum OpenFileLimit {
    /// Raises this process's soft limit on open files to its hard limit;
    /// returns the limit now in force (nil if it cannot be read).
    @discardableResult
    public static func raiseToHardLimit() -> UInt64? {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return nil }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { return UInt64(raised.rlim_cur) }
        }
        return UInt64(limit.rlim_cur)
    }
}
