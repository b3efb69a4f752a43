import CLibDeflate

/// gzip for protocol bodies, both ways, with libdeflate. Pure computation.
public enum Gzip {
    /// Bodies smaller than this are sent as they are: gzip would not pay.
    public static let worthwhileBytes = 1024

    public enum Failure: Error, Equatable {
        /// The data is not valid gzip.
        case corrupt
        /// Decompressed, it would be larger than the limit.
        case tooLarge(limit: Int)
    }

    /// `bytes` in gzip format. Level 1 by default: on a full sync's push
    /// zlib's default (6) took most of the client's time, for a body only a
    /// little smaller (BENCHMARKS.md has both).
    public static func compress(_ bytes: [UInt8], level: Int32 = 1) -> [UInt8] {
        Piece(bytes, level: level).member
    }

    /// Part of a gzip body compressed on its own, so that it can be
    /// compressed before the rest is known (`join`): a whole gzip member.
    /// A gzip body may be several members one after the other, read as the
    /// bytes of each in order (RFC 1952, 2.2), as `gzip -d` reads it (a
    /// test checks) and `decompress` does.
    public struct Piece: Sendable {
        let member: [UInt8]
        /// How many bytes it holds, uncompressed.
        let count: Int

        public init(_ bytes: [UInt8], level: Int32 = 1) {
            count = bytes.count
            guard let compressor = libdeflate_alloc_compressor(level) else { fatalError("libdeflate has no memory for a compressor") }
            defer { libdeflate_free_compressor(compressor) }
            // Not zero-filled first: the bound is about the input's size and
            // text compresses to a third of it, so most of the buffer is
            // never written (nor, then, faulted in by the kernel).
            member = [UInt8](unsafeUninitializedCapacity: libdeflate_gzip_compress_bound(compressor, bytes.count)) { target, initialized in
                initialized = bytes.withUnsafeBytes { source in
                    libdeflate_gzip_compress(compressor, source.baseAddress, source.count, target.baseAddress, target.count)
                }
                // The bound always fits (libdeflate returns 0 only when it does not).
                precondition(initialized > 0, "libdeflate's bound did not fit its output")
            }
        }
    }

    /// One gzip body holding the pieces' bytes in order.
    public static func join(_ pieces: [Piece]) -> [UInt8] {
        var body: [UInt8] = []
        body.reserveCapacity(pieces.reduce(0) { $0 + $1.member.count })
        for piece in pieces { body += piece.member }
        return body
    }

    /// The original of gzip `bytes` (one member or several), refusing to grow
    /// past `limit` bytes (a small body may inflate to gigabytes).
    public static func decompress(_ bytes: [UInt8], limit: Int) throws -> [UInt8] {
        guard !bytes.isEmpty else { throw Failure.corrupt }
        guard let decompressor = libdeflate_alloc_decompressor() else { fatalError("libdeflate has no memory for a decompressor") }
        defer { libdeflate_free_decompressor(decompressor) }
        // libdeflate inflates a whole member into a buffer it is given. A
        // member's trailer says its length (modulo 2³²): the body's last
        // four bytes give the last member's, the usual body's only one.
        // Text inflates three to four times at level 1. A buffer too small
        // is doubled, up to the limit, and the body inflated again.
        let stated = bytes.suffix(4).reversed().reduce(0) { $0 << 8 | Int($1) }
        var capacity = min(limit, max(64 * 1024, stated, bytes.count * 4))
        while true {
            if let output = try inflate(bytes, capacity: capacity, decompressor) { return output }
            guard capacity < limit else { throw Failure.tooLarge(limit: limit) }
            capacity = min(limit, capacity * 2)
        }
    }

    /// Every member of `bytes` inflated, in order, into a buffer of
    /// `capacity` bytes; nil when they do not fit. The buffer is not
    /// zero-filled first: a page or a push inflates to megabytes, and
    /// filling them cost as much as a third of the inflating.
    private static func inflate(_ bytes: [UInt8], capacity: Int, _ decompressor: OpaquePointer) throws -> [UInt8]? {
        var fits = true
        let output = try [UInt8](unsafeUninitializedCapacity: max(1, capacity)) { target, written in
            written = 0
            var read = 0
            try bytes.withUnsafeBytes { source in
                while read < source.count {
                    var member: (read: Int, written: Int) = (0, 0)
                    let result = libdeflate_gzip_decompress_ex(
                        decompressor, source.baseAddress! + read, source.count - read, target.baseAddress! + written,
                        min(capacity, target.count) - written, &member.read, &member.written)
                    switch result {
                    case LIBDEFLATE_SUCCESS where member.read > 0:
                        read += member.read
                        written += member.written
                    case LIBDEFLATE_INSUFFICIENT_SPACE:
                        fits = false
                        return
                    default:
                        throw Failure.corrupt
                    }
                }
            }
        }
        return fits ? output : nil
    }
}
