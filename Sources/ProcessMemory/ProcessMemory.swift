#if canImport(Glibc)
import CMalloc
import Glibc
#endif

/// How this process's memory allocator behaves, set once at start by each
/// executable (`readsync`, `readsync-bench`).
///
/// A sync moves requests and pages of megabytes through several threads
/// (libcurl's, NIO's, the database's). glibc's allocator, left as it is,
/// raises two thresholds each time a large block is freed: the size from
/// which a block is mapped on its own (and unmapped when freed), and the
/// free space a heap keeps rather than hands back. Later buffers then come
/// from heaps that hold on to their space; and threads get up to eight
/// heaps per core. A library's first sync, at 4,000 field versions a
/// request, peaked at 118–127 MB on a device and 101–107 MB on the server.
/// Setting the first threshold (at glibc's starting 128 KiB) keeps both
/// from rising; with it and one heap per core (two at least), the same
/// sync peaked at 92–95 and 73–76 MB (BENCHMARKS, seventeenth pass).
public enum ProcessMemory {
    public static func returnLargeBlocksAndShareHeaps() {
        #if canImport(Glibc)
        _ = mallopt(M_MMAP_THRESHOLD, 128 * 1024)
        _ = mallopt(M_ARENA_MAX, Int32(max(2, sysconf(Int32(_SC_NPROCESSORS_ONLN)))))
        #endif
    }
}
