import CLibXML2
import Foundation

/// Tag-soup HTML as start tags, end tags and text in document order, as
/// libxml2's forgiving HTML parser reads it: implied elements opened and
/// closed, every character reference decoded, attribute names lowercased.
/// For files whose meaning is in their markup rather than in an article
/// (browser bookmark files, Pocket's HTML export).
public enum HTMLMarkup {
    public enum Token: Equatable, Sendable {
        /// An element begins; `line` is where its tag is in the source.
        case start(name: String, attributes: [String: String], line: Int)
        /// It ends (where the source closes it, or where the parser implies it).
        case end(name: String, line: Int)
        /// Text that is not only whitespace.
        case text(String, line: Int)
    }

    public static func tokens(_ text: String) -> [Token] {
        let options = Int32(HTML_PARSE_RECOVER.rawValue | HTML_PARSE_NOERROR.rawValue | HTML_PARSE_NOWARNING.rawValue | HTML_PARSE_NONET.rawValue)
        let bytes = Array(text.utf8)
        if bytes.isEmpty { return [] }
        let document: htmlDocPtr? = bytes.withUnsafeBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) { pointer in
                htmlReadMemory(pointer, Int32(clamping: buffer.count), nil, "UTF-8", options)
            }
        }
        guard let document else { return [] }
        defer { xmlFreeDoc(document) }
        var tokens: [Token] = []
        var child = document.pointee.children
        while let node = child {
            walk(node, into: &tokens)
            child = node.pointee.next
        }
        return tokens
    }

    /// Appends `node` and what is below it, depth first.
    private static func walk(_ node: xmlNodePtr, into tokens: inout [Token]) {
        let line = Int(xmlGetLineNo(node))
        switch node.pointee.type {
        case XML_ELEMENT_NODE:
            let name = node.pointee.name.map { String(cString: $0).lowercased() } ?? ""
            tokens.append(.start(name: name, attributes: attributes(of: node), line: line))
            var child = node.pointee.children
            while let current = child {
                walk(current, into: &tokens)
                child = current.pointee.next
            }
            tokens.append(.end(name: name, line: line))
        case XML_TEXT_NODE, XML_CDATA_SECTION_NODE:
            guard let content = node.pointee.content else { return }
            let text = String(cString: content)
            if text.contains(where: { !$0.isWhitespace }) { tokens.append(.text(text, line: line)) }
        default:
            break  // comments, the doctype, processing instructions
        }
    }

    /// The element's attributes by lowercased name; the first of a repeated one wins.
    private static func attributes(of node: xmlNodePtr) -> [String: String] {
        var attributes: [String: String] = [:]
        var attribute = node.pointee.properties
        while let current = attribute {
            if let name = current.pointee.name {
                var value = ""
                var child = current.pointee.children
                while let text = child {
                    if let content = text.pointee.content { value += String(cString: content) }
                    child = text.pointee.next
                }
                let key = String(cString: name).lowercased()
                if attributes[key] == nil { attributes[key] = value }
            }
            attribute = current.pointee.next
        }
        return attributes
    }
}
