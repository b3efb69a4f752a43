import Foundation
import ReadSyncCore

/// Reads the members of a zip archive (stored or deflated), as Pocket's and
/// Omnivore's exports come. Sizes and offsets are taken from the central
/// directory, so members written with data descriptors read correctly.
/// Zip64 and encrypted archives are refused.
enum ZipArchive {
    struct Member {
        let name: String
        let bytes: [UInt8]
    }

    enum Failure: Error, Equatable {
        case notAZip
        case unsupported(String)
        case corrupt(String)
    }

    static func isZip(_ bytes: some Collection<UInt8>) -> Bool { bytes.starts(with: [0x50, 0x4B, 0x03, 0x04]) }

    /// Every file in `bytes` (folders left out), each at most `limit` bytes unpacked.
    static func members(_ bytes: [UInt8], limit: Int = 1 << 30) throws -> [Member] {
        func u16(_ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 }
        func u32(_ at: Int) -> Int { u16(at) | u16(at + 2) << 16 }

        // The end-of-central-directory record sits in the last 64 KB + 22 bytes.
        guard bytes.count >= 22 else { throw Failure.notAZip }
        var end = bytes.count - 22
        while end >= max(0, bytes.count - 65_557), !(bytes[end] == 0x50 && bytes[end + 1] == 0x4B && bytes[end + 2] == 5 && bytes[end + 3] == 6) { end -= 1 }
        guard end >= max(0, bytes.count - 65_557) else { throw Failure.notAZip }
        let count = u16(end + 10)
        var entry = u32(end + 16)
        if count == 0xFFFF || entry == 0xFFFF_FFFF { throw Failure.unsupported("zip64 archives") }

        var members: [Member] = []
        for _ in 0..<count {
            guard entry + 46 <= bytes.count, u32(entry) == 0x0201_4B50 else { throw Failure.corrupt("central directory") }
            let flags = u16(entry + 8), method = u16(entry + 10)
            let compressedSize = u32(entry + 20), size = u32(entry + 24)
            let nameLength = u16(entry + 28), extraLength = u16(entry + 30), commentLength = u16(entry + 32)
            let localHeader = u32(entry + 42)
            guard entry + 46 + nameLength <= bytes.count else { throw Failure.corrupt("central directory") }
            let name = String(decoding: bytes[(entry + 46)..<(entry + 46 + nameLength)], as: UTF8.self)
            entry += 46 + nameLength + extraLength + commentLength
            if name.hasSuffix("/") { continue }
            if flags & 1 != 0 { throw Failure.unsupported("encrypted archives") }
            guard size <= limit else { throw Failure.unsupported("members larger than \(limit) bytes") }

            guard localHeader + 30 <= bytes.count, u32(localHeader) == 0x0403_4B50 else { throw Failure.corrupt(name) }
            let dataStart = localHeader + 30 + u16(localHeader + 26) + u16(localHeader + 28)
            guard dataStart + compressedSize <= bytes.count else { throw Failure.corrupt(name) }
            let data = Array(bytes[dataStart..<(dataStart + compressedSize)])
            switch method {
            case 0: members.append(Member(name: name, bytes: data))
            case 8:
                guard let inflated = try? Gzip.inflateRaw(data, limit: max(size, 1)), inflated.count == size else { throw Failure.corrupt(name) }
                members.append(Member(name: name, bytes: inflated))
            default: throw Failure.unsupported("compression method \(method)")
            }
        }
        return members
    }
}
