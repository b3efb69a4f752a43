import Foundation

/// Byte-level sniffing and decoding of text.
// `package`: the client's importers sniff exports with it too; not API.
package enum TextDecoding {
    /// NUL bytes, or many control characters, in the first 8 KB mean binary.
    package static func looksBinary(_ bytes: [UInt8]) -> Bool {
        let head = bytes.prefix(8192)
        if head.contains(0) { return true }
        let controls = head.count(where: { $0 < 32 && $0 != 9 && $0 != 10 && $0 != 13 && $0 != 12 && $0 != 27 })
        return controls * 20 > head.count  // over 5 %
    }

    package static func looksLikeHTML(_ bytes: [UInt8]) -> Bool {
        let head = String(decoding: bytes.prefix(1024), as: UTF8.self).lowercased()
        let trimmed = head.drop(while: { $0.isWhitespace || $0 == "\u{FEFF}" })
        return trimmed.hasPrefix("<!doctype html") || trimmed.hasPrefix("<html") || (trimmed.hasPrefix("<") && head.contains("<body"))
    }

    /// UTF-8 (with or without BOM), else the named charset, else Windows-1252
    /// (what mislabelled "Latin-1" text almost always is).
    package static func decode(_ bytes: [UInt8], charset: String?) -> String? {
        var bytes = bytes[...]
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
        if let text = String(validating: bytes, as: UTF8.self) { return text }
        let encoding: String.Encoding
        switch charset?.lowercased() {
        case "iso-8859-1", "latin1", "latin-1": encoding = .isoLatin1
        case "utf-16": encoding = .utf16
        default: encoding = .windowsCP1252
        }
        return String(data: Data(bytes), encoding: encoding) ?? String(data: Data(bytes), encoding: .isoLatin1)
    }
}
