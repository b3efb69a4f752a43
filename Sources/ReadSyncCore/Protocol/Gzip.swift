import CSystemZlib

/// gzip for protocol bodies, both ways, with zlib. Pure computation.
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
        join([Piece(bytes, level: level)])
    }

    /// Part of a gzip body compressed on its own, so that it can be
    /// compressed before the rest is known (`join`): deflate blocks that
    /// refer to nothing before them and end on a byte boundary, with the
    /// CRC-32 and length of what they hold. This is how pigz compresses the
    /// parts of one file on several threads.
    public struct Piece: Sendable {
        let deflated: [UInt8]
        let crc: UInt32
        let count: Int

        public init(_ bytes: [UInt8], level: Int32 = 1) {
            count = bytes.count
            crc = bytes.withUnsafeBufferPointer { UInt32(crc32(0, $0.baseAddress, uInt($0.count))) }
            deflated = Gzip.rawDeflate(bytes, level: level, flush: Z_FULL_FLUSH)
        }
    }

    /// One gzip member holding the pieces' bytes in order: a header, their
    /// blocks, a last empty block, the CRC-32 of the whole and its length.
    public static func join(_ pieces: [Piece]) -> [UInt8] {
        // ID1 ID2, deflate, no flags, no time, no extra flags, unknown OS.
        var body: [UInt8] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255]
        body.reserveCapacity(pieces.reduce(body.count + finalBlock.count + 8) { $0 + $1.deflated.count })
        var crc: UInt32 = 0
        var count = 0
        for piece in pieces {
            body += piece.deflated
            crc = UInt32(crc32_combine(uLong(crc), uLong(piece.crc), numericCast(piece.count)))
            count += piece.count
        }
        body += finalBlock
        // Both little-endian; the length modulo 2³².
        for value in [crc, UInt32(truncatingIfNeeded: count)] {
            for shift in stride(from: 0, to: 32, by: 8) { body.append(UInt8(truncatingIfNeeded: value >> shift)) }
        }
        return body
    }

    /// An empty block marked last, as zlib ends a stream with nothing left.
    private static let finalBlock = rawDeflate([], level: 1, flush: Z_FINISH)

    /// Raw deflate of `bytes`, ended with `flush`.
    private static func rawDeflate(_ bytes: [UInt8], level: Int32, flush: Int32) -> [UInt8] {
        var stream = z_stream()
        guard readsync_deflate_init_raw(&stream, level) == Z_OK else { return [] }
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(bytes.count))) + 32)
        var input = bytes
        let produced: Int = input.withUnsafeMutableBufferPointer { source in
            output.withUnsafeMutableBufferPointer { target in
                stream.next_in = source.baseAddress
                stream.avail_in = uInt(source.count)
                stream.next_out = target.baseAddress
                stream.avail_out = uInt(target.count)
                _ = deflate(&stream, flush)
                return target.count - Int(stream.avail_out)
            }
        }
        return Array(output.prefix(produced))
    }

    /// The original of gzip `bytes`, refusing to grow past `limit` bytes (a
    /// small body may inflate to gigabytes).
    public static func decompress(_ bytes: [UInt8], limit: Int) throws -> [UInt8] {
        var stream = z_stream()
        guard readsync_inflate_init_gzip(&stream) == Z_OK else { throw Failure.corrupt }
        defer { inflateEnd(&stream) }
        var input = bytes
        var output: [UInt8] = []
        // Text inflates three to four times at level 1: grown from empty,
        // the output was copied again at every doubling (7 % of the
        // server's samples in a full sync's push). Pages reserved and never
        // written cost nothing.
        output.reserveCapacity(min(limit, max(64 * 1024, bytes.count * 8)))
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        return try input.withUnsafeMutableBufferPointer { source in
            stream.next_in = source.baseAddress
            stream.avail_in = uInt(source.count)
            while true {
                let (status, produced) = chunk.withUnsafeMutableBufferPointer { target in
                    stream.next_out = target.baseAddress
                    stream.avail_out = uInt(target.count)
                    let status = inflate(&stream, Z_NO_FLUSH)
                    return (status, target.count - Int(stream.avail_out))
                }
                guard status == Z_OK || status == Z_STREAM_END else { throw Failure.corrupt }
                guard output.count + produced <= limit else { throw Failure.tooLarge(limit: limit) }
                output.append(contentsOf: chunk.prefix(produced))
                if status == Z_STREAM_END { return output }
                if produced == 0 && stream.avail_in == 0 { throw Failure.corrupt }  // truncated
            }
        }
    }
}
