import Foundation

/// A forgiving scanner for the simple, tag-soup HTML that bookmark and Pocket
/// exports are: it yields start tags (with attributes), end tags and text, each
/// with its line number, and decodes character references. Nesting is left
/// to the caller (bookmark files rarely close what they open).
struct MarkupScanner {
    enum Token: Equatable {
        case start(name: String, attributes: [String: String], line: Int)
        case end(name: String, line: Int)
        case text(String, line: Int)
    }

    static func tokens(_ text: String) -> [Token] {
        var tokens: [Token] = []
        let bytes = Array(text.utf8)
        var index = 0, line = 1
        var textStart = 0, textLine = 1

        func flushText(upTo end: Int) {
            guard end > textStart else { return }
            let raw = String(decoding: bytes[textStart..<end], as: UTF8.self)
            if raw.contains(where: { !$0.isWhitespace }) { tokens.append(.text(Entities.decode(raw), line: textLine)) }
        }

        while index < bytes.count {
            guard bytes[index] == UInt8(ascii: "<") else {
                if bytes[index] == UInt8(ascii: "\n") { line += 1 }
                index += 1
                continue
            }
            flushText(upTo: index)
            let tagLine = line
            // Comments and declarations (<!-- … -->, <!DOCTYPE …>) are skipped.
            if bytes[index...].starts(with: Array("<!--".utf8)) {
                var end = index + 4
                while end < bytes.count, !bytes[end...].starts(with: Array("-->".utf8)) { end += 1 }
                line += bytes[index..<min(end, bytes.count)].count(where: { $0 == UInt8(ascii: "\n") })
                index = min(end + 3, bytes.count)
            } else {
                var end = index + 1
                var quote: UInt8? = nil
                while end < bytes.count {
                    let byte = bytes[end]
                    if let open = quote { if byte == open { quote = nil } }
                    else if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") { quote = byte }
                    else if byte == UInt8(ascii: ">") { break }
                    end += 1
                }
                let inner = String(decoding: bytes[(index + 1)..<min(end, bytes.count)], as: UTF8.self)
                line += inner.utf8.count(where: { $0 == UInt8(ascii: "\n") })
                if let token = tag(inner, line: tagLine) { tokens.append(token) }
                index = min(end + 1, bytes.count)
            }
            textStart = index
            textLine = line
        }
        flushText(upTo: bytes.count)
        return tokens
    }

    private static func tag(_ inner: String, line: Int) -> Token? {
        if inner.hasPrefix("!") || inner.hasPrefix("?") { return nil }
        if inner.hasPrefix("/") {
            let name = inner.dropFirst().prefix(while: { !$0.isWhitespace }).lowercased()
            return .end(name: name, line: line)
        }
        var rest = Substring(inner)
        let name = rest.prefix(while: { !$0.isWhitespace && $0 != "/" }).lowercased()
        guard !name.isEmpty else { return nil }
        rest = rest.dropFirst(name.count)
        var attributes: [String: String] = [:]
        while true {
            rest = rest.drop(while: { $0.isWhitespace || $0 == "/" })
            let key = rest.prefix(while: { !$0.isWhitespace && $0 != "=" && $0 != "/" }).lowercased()
            guard !key.isEmpty else { break }
            rest = rest.dropFirst(key.count).drop(while: \.isWhitespace)
            var value = ""
            if rest.first == "=" {
                rest = rest.dropFirst().drop(while: \.isWhitespace)
                if let quote = rest.first, quote == "\"" || quote == "'" {
                    let body = rest.dropFirst()
                    let closing = body.firstIndex(of: quote) ?? body.endIndex
                    value = String(body[..<closing])
                    rest = closing < body.endIndex ? body[body.index(after: closing)...] : body[closing...]
                } else {
                    let raw = rest.prefix(while: { !$0.isWhitespace })
                    value = String(raw)
                    rest = rest.dropFirst(raw.count)
                }
            }
            if attributes[key] == nil { attributes[key] = Entities.decode(value) }
        }
        return .start(name: name, attributes: attributes, line: line)
    }
}

/// HTML character references, both ways.
enum Entities {
    private static let named: [String: String] = [
        "amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'", "nbsp": "\u{00A0}",
        "mdash": "—", "ndash": "–", "hellip": "…", "lsquo": "‘", "rsquo": "’", "ldquo": "“", "rdquo": "”",
    ]

    static func decode(_ text: String) -> String {
        guard text.contains("&") else { return text }
        var result = ""
        var rest = Substring(text)
        while let amp = rest.firstIndex(of: "&") {
            result += rest[..<amp]
            let after = rest[rest.index(after: amp)...]
            if let semicolon = after.prefix(12).firstIndex(of: ";") {
                let name = after[..<semicolon]
                var replacement: String?
                if name.hasPrefix("#x") || name.hasPrefix("#X") {
                    replacement = UInt32(name.dropFirst(2), radix: 16).flatMap(Unicode.Scalar.init).map { String(Character($0)) }
                } else if name.hasPrefix("#") {
                    replacement = UInt32(name.dropFirst()).flatMap(Unicode.Scalar.init).map { String(Character($0)) }
                } else {
                    replacement = named[String(name)]
                }
                if let replacement {
                    result += replacement
                    rest = after[after.index(after: semicolon)...]
                    continue
                }
            }
            result += "&"
            rest = after
        }
        return result + rest
    }

    /// Text safe inside an element or a double-quoted attribute.
    static func encode(_ text: String) -> String {
        var result = ""
        for character in text {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            default: result.append(character)
            }
        }
        return result
    }
}
