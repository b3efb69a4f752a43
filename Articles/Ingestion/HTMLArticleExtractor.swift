import CLibXML2
import Foundation
import ReadSyncCore

/// Extracts the readable article from an HTML page with libxml2's forgiving
/// HTML parser: title, author, site, published date and the body text, with
/// scripts, styles, navigation, headers, footers and asides dropped and
/// paragraphs and headings kept.
public enum HTMLArticleExtractor {
    /// Parses `html` (raw bytes). `charset` is the HTTP header's, if any;
    /// without it libxml2 reads `<meta charset>` or guesses. `url` is where the
    /// page came from; a `<link rel=canonical>` or `og:url` takes precedence.
    public static func extract(_ html: [UInt8], charset: String? = nil, url: CanonicalURL? = nil) -> ArticleDraft {
        let options = Int32(HTML_PARSE_RECOVER.rawValue | HTML_PARSE_NOERROR.rawValue | HTML_PARSE_NOWARNING.rawValue | HTML_PARSE_NONET.rawValue)
        let document: htmlDocPtr? = html.withUnsafeBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) { pointer in
                htmlReadMemory(pointer, Int32(clamping: buffer.count), url?.string, charset, options)
            }
        }
        guard let document else {
            return ArticleDraft(url: url, title: TitleGuess.title(content: "", url: url), content: "")
        }
        defer { xmlFreeDoc(document) }

        let root = xmlDocGetRootElement(document)
        var metadata = Metadata()
        if let root { metadata.collect(from: root) }

        let pageURL = metadata.canonicalURL.flatMap(CanonicalURL.init) ?? url
        var text = TextCollector()
        if let container = root.flatMap(Self.mainContainer) { text.walk(container) }
        let content = text.paragraphs.joined(separator: "\n\n")
        let title = metadata.ogTitle ?? metadata.title ?? metadata.firstHeading
        return ArticleDraft(
            url: pageURL,
            title: title.map { TextStatistics.shorten($0, to: 300) } ?? TitleGuess.title(content: content, url: pageURL),
            author: metadata.author, site: metadata.siteName ?? pageURL?.host,
            published: metadata.published, content: content)
    }

    /// The element holding the article: the `<article>` with the most text,
    /// else `<main>` (or `role=main`), else `<body>`.
    private static func mainContainer(_ root: xmlNodePtr) -> xmlNodePtr? {
        var articles: [xmlNodePtr] = [], main: xmlNodePtr?, body: xmlNodePtr?
        Node.forEachElement(root) { node in
            switch Node.name(node) {
            case "article": articles.append(node)
            case "main": if main == nil { main = node }
            case "body": if body == nil { body = node }
            default: if main == nil, Node.attribute(node, "role") == "main" { main = node }
            }
        }
        if let best = articles.max(by: { Node.textLength($0) < Node.textLength($1) }) { return best }
        return main ?? body ?? root
    }
}

/// Page metadata from `<head>` and friends.
private struct Metadata {
    var title: String?, ogTitle: String?, firstHeading: String?
    var author: String?, siteName: String?, published: String?, canonicalURL: String?

    mutating func collect(from root: xmlNodePtr) {
        Node.forEachElement(root) { node in
            switch Node.name(node) {
            case "title": if title == nil { title = Node.text(node) }
            case "h1": if firstHeading == nil { firstHeading = Node.text(node) }
            case "link":
                if Node.attribute(node, "rel")?.lowercased() == "canonical" { canonicalURL = canonicalURL ?? Node.attribute(node, "href") }
            case "time":
                if published == nil { published = Node.attribute(node, "datetime") }
            case "meta":
                guard let content = Node.attribute(node, "content")?.trimmingCharacters(in: .whitespacesAndNewlines), !content.isEmpty else { return }
                switch (Node.attribute(node, "property") ?? Node.attribute(node, "name") ?? "").lowercased() {
                case "og:title": ogTitle = ogTitle ?? content
                case "og:site_name": siteName = siteName ?? content
                case "og:url": canonicalURL = canonicalURL ?? content
                case "author", "article:author", "byl", "parsely-author": author = author ?? content
                case "article:published_time", "date", "pubdate", "publishdate", "dc.date", "parsely-pub-date": published = content
                default: break
                }
            default: break
            }
        }
        // A <time> inside the body is a weaker hint than a meta tag; both are kept as text.
    }
}

/// Collects readable text: blocks become paragraphs, whitespace collapses,
/// boilerplate subtrees are skipped.
private struct TextCollector {
    private(set) var paragraphs: [String] = []
    private var current = ""

    private static let skipped: Set<String> = [
        "script", "style", "noscript", "nav", "header", "footer", "aside", "form", "iframe", "svg",
        "button", "select", "textarea", "template", "canvas", "object", "embed", "figure", "head", "menu", "dialog",
    ]
    private static let blocks: Set<String> = [
        "p", "div", "section", "article", "main", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol",
        "blockquote", "pre", "br", "tr", "table", "dd", "dt", "dl", "hr", "figcaption", "address", "body",
    ]
    private static let boilerplateRoles: Set<String> = ["navigation", "banner", "contentinfo", "complementary", "search", "dialog", "alert"]
    private static let boilerplateWords: Set<String> = [
        "comment", "comments", "share", "sharing", "social", "related", "newsletter", "subscribe", "advert",
        "advertisement", "ad", "ads", "promo", "cookie", "cookies", "sidebar", "breadcrumb", "breadcrumbs", "popup", "modal",
    ]

    mutating func walk(_ node: xmlNodePtr) {
        var child = node.pointee.children
        while let current = child {
            visit(current)
            child = current.pointee.next
        }
        flush()
    }

    private mutating func visit(_ node: xmlNodePtr) {
        switch node.pointee.type {
        case XML_TEXT_NODE, XML_CDATA_SECTION_NODE:
            if let content = node.pointee.content { append(String(cString: content)) }
        case XML_ELEMENT_NODE:
            let name = Node.name(node)
            if Self.skipped.contains(name) || Self.isBoilerplate(node) { return }
            let isBlock = Self.blocks.contains(name)
            if isBlock { flush() }
            var child = node.pointee.children
            while let current = child {
                visit(current)
                child = current.pointee.next
            }
            if isBlock { flush() }
        default:
            break
        }
    }

    private static func isBoilerplate(_ node: xmlNodePtr) -> Bool {
        if Node.attribute(node, "hidden") != nil || Node.attribute(node, "aria-hidden") == "true" { return true }
        if let role = Node.attribute(node, "role"), boilerplateRoles.contains(role.lowercased()) { return true }
        let names = [Node.attribute(node, "class"), Node.attribute(node, "id")].compactMap { $0?.lowercased() }.joined(separator: " ")
        let words = names.split(whereSeparator: { !$0.isLetter })
        return words.contains { boilerplateWords.contains(String($0)) }
    }

    private mutating func append(_ text: String) {
        for scalar in text.unicodeScalars {
            if scalar.properties.isWhitespace {
                if !current.isEmpty, current.last != " " { current.append(" ") }
            } else {
                current.unicodeScalars.append(scalar)
            }
        }
    }

    private mutating func flush() {
        let paragraph = current.trimmingCharacters(in: .whitespaces)
        if !paragraph.isEmpty { paragraphs.append(paragraph) }
        current = ""
    }
}

/// Small helpers over libxml2 nodes. Attributes are read from the node's own
/// attribute list, so nothing here allocates memory that needs xmlFree.
private enum Node {
    static func name(_ node: xmlNodePtr) -> String {
        guard let name = node.pointee.name else { return "" }
        return String(cString: name).lowercased()
    }

    static func attribute(_ node: xmlNodePtr, _ wanted: String) -> String? {
        var attribute = node.pointee.properties
        while let current = attribute {
            if let name = current.pointee.name, String(cString: name).lowercased() == wanted {
                var text = ""
                var child = current.pointee.children
                while let value = child {
                    if let content = value.pointee.content { text += String(cString: content) }
                    child = value.pointee.next
                }
                return text
            }
            attribute = current.pointee.next
        }
        return nil
    }

    /// The element's text with whitespace collapsed, or nil when empty.
    static func text(_ node: xmlNodePtr) -> String? {
        var pieces: [String] = []
        func gather(_ node: xmlNodePtr) {
            var child = node.pointee.children
            while let current = child {
                if current.pointee.type == XML_TEXT_NODE, let content = current.pointee.content {
                    pieces.append(String(cString: content))
                } else if current.pointee.type == XML_ELEMENT_NODE {
                    gather(current)
                }
                child = current.pointee.next
            }
        }
        gather(node)
        let text = pieces.joined().split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
        return text.isEmpty ? nil : text
    }

    static func textLength(_ node: xmlNodePtr) -> Int { text(node)?.count ?? 0 }

    /// Calls `body` for every element below `root` (and `root`), depth first.
    static func forEachElement(_ root: xmlNodePtr, _ body: (xmlNodePtr) -> Void) {
        var stack: [xmlNodePtr] = [root]
        while let node = stack.popLast() {
            if node.pointee.type == XML_ELEMENT_NODE { body(node) }
            var children: [xmlNodePtr] = []
            var child = node.pointee.children
            while let current = child {
                children.append(current)
                child = current.pointee.next
            }
            stack.append(contentsOf: children.reversed())
        }
    }
}
