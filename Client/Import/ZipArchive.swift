import Foundation
import ZIPFoundation

/// The files inside a zip archive, as Pocket's and Omnivore's exports come,
/// read with ZIPFoundation: from the file as a stream, each member's CRC
/// checked, Zip64 understood.
enum ZipArchive {
    struct Member {
        /// The member's path inside the archive.
        let name: String
        let bytes: Data
    }

    enum Failure: Error, CustomStringConvertible {
        case tooLarge(String, limit: Int)
        case checksumMismatch(String)

        var description: String {
            switch self {
            case .tooLarge(let name, let limit): "\(name) unpacks to more than \(limit) bytes"
            case .checksumMismatch(let name): "\(name) does not match its checksum"
            }
        }
    }

    /// Whether a file begins as a zip archive does.
    static func isZip(_ bytes: some Collection<UInt8>) -> Bool { bytes.starts(with: [0x50, 0x4B, 0x03, 0x04]) }

    /// The files of the archive at `url` that `wanted` picks by name (folders
    /// and links left out), each unpacked to at most `limit` bytes whatever
    /// its header declares.
    static func members(at url: URL, limit: Int, where wanted: (String) -> Bool) throws -> [Member] {
        let archive = try Archive(url: url, accessMode: .read)
        var members: [Member] = []
        for entry in archive where entry.type == .file && wanted(entry.path) {
            guard entry.uncompressedSize <= UInt64(limit) else { throw Failure.tooLarge(entry.path, limit: limit) }
            var bytes = Data()
            // This form of extract computes the CRC and leaves the check to its caller.
            let checksum = try archive.extract(entry) { chunk in
                guard bytes.count + chunk.count <= limit else { throw Failure.tooLarge(entry.path, limit: limit) }
                bytes.append(chunk)
            }
            guard checksum == entry.checksum else { throw Failure.checksumMismatch(entry.path) }
            members.append(Member(name: entry.path, bytes: bytes))
        }
        return members
    }
}
