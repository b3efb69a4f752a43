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
        var stream = z_stream()
        guard readsync_deflate_init_gzip(&stream, level) == Z_OK else { return [] }
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(bytes.count))) + 32)
        var input = bytes
        let produced: Int = input.withUnsafeMutableBufferPointer { source in
            output.withUnsafeMutableBufferPointer { target in
                stream.next_in = source.baseAddress
                stream.avail_in = uInt(source.count)
                stream.next_out = target.baseAddress
                stream.avail_out = uInt(target.count)
                _ = deflate(&stream, Z_FINISH)
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
