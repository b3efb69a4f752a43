import Foundation
import ZIPFoundation

/// An EPUB 3 book of saved articles, one chapter each, with their notes: what
/// an e-reader (KOReader, Kobo, any EPUB reader) opens. Both sides make them:
/// the client's `export --format epub` and the server's per-article export.
///
/// Only text goes in (readsync keeps an article's readable text, not its
/// page), so a book has no remote resources and no scripts; every string is
/// escaped for XML and stripped of the characters XML cannot hold, so any
/// title or body a library may contain makes a valid book (`epubcheck`).
public struct EPUBBook: Sendable {
    /// One saved article as a chapter.
    public struct Chapter: Sendable {
        public var title: String
        public var author: String?
        public var site: String?
        /// Where the article came from; a link under its title.
        public var url: String?
        public var published: String?
        /// The readable text: one paragraph a line, blank lines between them ignored.
        public var text: String
        public var notes: [Note]

        public init(
            title: String, author: String? = nil, site: String? = nil, url: String? = nil, published: String? = nil,
            text: String, notes: [Note] = []
        ) {
            self.title = title
            self.author = author
            self.site = site
            self.url = url
            self.published = published
            self.text = text
            self.notes = notes
        }
    }

    /// A note on an article, with the passage it quotes.
    public struct Note: Sendable {
        public var body: String
        public var quote: String?
        public var createdAt: String?

        public init(body: String, quote: String? = nil, createdAt: String? = nil) {
            self.body = body
            self.quote = quote
            self.createdAt = createdAt
        }
    }

    /// A unique identifier for the book, as a URI (`urn:…`).
    public var identifier: String
    public var title: String
    /// The book's author: the article's for a one-article book.
    public var author: String?
    /// BCP 47; "und" (undetermined) when unknown, as readsync does not
    /// detect the language of what it saves.
    public var language: String
    public var modified: Date
    public var chapters: [Chapter]

    public init(identifier: String, title: String, author: String? = nil, language: String = "und", modified: Date = Date(), chapters: [Chapter]) {
        self.identifier = identifier
        self.title = title
        self.author = author
        self.language = language
        self.modified = modified
        self.chapters = chapters
    }

    /// The book as the bytes of an `.epub` file.
    public func data() throws -> Data {
        let archive = try Archive(accessMode: .create)
        try fill(archive)
        guard let data = archive.data else { throw EPUBError.couldNotWrite("the archive held no data") }
        return data
    }

    /// Writes the book to `url` (replacing a file there only once the whole
    /// book is written), without holding it all in memory.
    public func write(to url: URL) throws {
        let partial = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).partial")
        defer { try? FileManager.default.removeItem(at: partial) }
        do {
            let archive = try Archive(url: partial, accessMode: .create)
            try fill(archive)
        } catch let error as EPUBError {
            throw error
        } catch {
            throw EPUBError.couldNotWrite("\(url.path): \((error as NSError).localizedDescription)")
        }
        guard rename(partial.path, url.path) == 0 else {
            throw EPUBError.couldNotWrite("\(url.path): \(String(cString: strerror(errno)))")
        }
    }

    // MARK: - The container

    /// The files of the book, in order: `mimetype` first and stored
    /// uncompressed, as the OCF container format requires.
    private func fill(_ archive: Archive) throws {
        // A book's reading order and table of contents must each hold something.
        guard !chapters.isEmpty else { throw EPUBError.noArticles }
        try add("mimetype", Data("application/epub+zip".utf8), to: archive, compressed: false)
        try add("META-INF/container.xml", Data(Self.container.utf8), to: archive)
        try add("OEBPS/content.opf", Data(packageDocument.utf8), to: archive)
        try add("OEBPS/nav.xhtml", Data(navigationDocument.utf8), to: archive)
        try add("OEBPS/style.css", Data(Self.style.utf8), to: archive)
        for (index, chapter) in chapters.enumerated() {
            try add("OEBPS/\(Self.chapterFile(index))", Data(document(for: chapter).utf8), to: archive)
        }
    }

    private func add(_ path: String, _ bytes: Data, to archive: Archive, compressed: Bool = true) throws {
        try archive.addEntry(
            with: path, type: .file, uncompressedSize: Int64(bytes.count), modificationDate: modified,
            compressionMethod: compressed ? .deflate : .none
        ) { position, size in
            bytes.subdata(in: Int(position)..<Int(position) + size)
        }
    }

    static func chapterFile(_ index: Int) -> String { String(format: "article-%05d.xhtml", index + 1) }

    private static let container = """
        <?xml version="1.0" encoding="UTF-8"?>
        <container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
          <rootfiles>
            <rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>
          </rootfiles>
        </container>
        """

    private static let style = """
        body { margin: 0 5%; line-height: 1.5; }
        h1 { font-size: 1.4em; margin-bottom: 0.3em; }
        p.byline { font-size: 0.85em; margin-top: 0; }
        section.notes { margin-top: 2em; border-top: 1px solid #888; }
        blockquote { margin: 0.5em 0 0.2em 1em; font-style: italic; }
        p.note-time { font-size: 0.8em; }
        """

    // MARK: - The package document and the table of contents

    private var packageDocument: String {
        let manifest = chapters.indices.map { index in
            #"    <item id="article-\#(index + 1)" href="\#(Self.chapterFile(index))" media-type="application/xhtml+xml"/>"#
        }
        let spine = chapters.indices.map { #"    <itemref idref="article-\#($0 + 1)"/>"# }
        let creator = author.map { "\n    <dc:creator>\(XML.escape($0))</dc:creator>" } ?? ""
        return """
            <?xml version="1.0" encoding="UTF-8"?>
            <package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="book-id" xml:lang="\(XML.escape(language))">
              <metadata xmlns:dc="http://purl.org/dc/elements/1.1/">
                <dc:identifier id="book-id">\(XML.escape(identifier))</dc:identifier>
                <dc:title>\(XML.escape(Self.nonEmpty(title)))</dc:title>
                <dc:language>\(XML.escape(language))</dc:language>\(creator)
                <meta property="dcterms:modified">\(Self.modifiedFormat.string(from: modified))</meta>
              </metadata>
              <manifest>
                <item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>
                <item id="style" href="style.css" media-type="text/css"/>
            \(manifest.joined(separator: "\n"))
              </manifest>
              <spine>
            \(spine.joined(separator: "\n"))
              </spine>
            </package>
            """
    }

    private var navigationDocument: String {
        let entries = chapters.enumerated().map { index, chapter in
            #"      <li><a href="\#(Self.chapterFile(index))">\#(XML.escape(Self.nonEmpty(chapter.title)))</a></li>"#
        }
        return page(
            title: title,
            body: """
                    <nav epub:type="toc" id="toc">
                      <h1>\(XML.escape(Self.nonEmpty(title)))</h1>
                      <ol>
                \(entries.joined(separator: "\n"))
                      </ol>
                    </nav>
                """)
    }

    // MARK: - A chapter

    private func document(for chapter: Chapter) -> String {
        var body = "    <h1>\(XML.escape(Self.nonEmpty(chapter.title)))</h1>\n"
        let byline = [chapter.author, chapter.site, chapter.published].compactMap { $0 }.filter { !$0.isEmpty }
        var bylineParts = byline.map(XML.escape)
        if let url = chapter.url, !url.isEmpty { bylineParts.append(#"<a href="\#(XML.escape(url))">\#(XML.escape(url))</a>"#) }
        if !bylineParts.isEmpty { body += #"    <p class="byline">\#(bylineParts.joined(separator: " · "))</p>"# + "\n" }
        for paragraph in Self.paragraphs(chapter.text) {
            body += "    <p>\(XML.escape(paragraph))</p>\n"
        }
        if !chapter.notes.isEmpty {
            body += #"    <section class="notes">"# + "\n      <h2>Notes</h2>\n"
            for note in chapter.notes {
                if let quote = note.quote, !quote.isEmpty { body += "      <blockquote><p>\(XML.escape(quote))</p></blockquote>\n" }
                for paragraph in Self.paragraphs(note.body) { body += "      <p>\(XML.escape(paragraph))</p>\n" }
                if let time = note.createdAt { body += #"      <p class="note-time">\#(XML.escape(time))</p>"# + "\n" }
            }
            body += "    </section>\n"
        }
        return page(title: chapter.title, body: body)
    }

    /// An XHTML content document in the book's language.
    private func page(title: String, body: String) -> String {
        let language = XML.escape(self.language)
        return """
            <?xml version="1.0" encoding="UTF-8"?>
            <!DOCTYPE html>
            <html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops" xml:lang="\(language)" lang="\(language)">
              <head>
                <meta charset="utf-8"/>
                <title>\(XML.escape(Self.nonEmpty(title)))</title>
                <link rel="stylesheet" type="text/css" href="style.css"/>
              </head>
              <body>
            \(body)
              </body>
            </html>
            """
    }

    /// The non-blank lines of `text`, trimmed. Only line feeds end a line:
    /// readsync's text has them, and a stray U+0085 or U+2028 is no paragraph.
    public static func paragraphs(_ text: String) -> [String] {
        text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// Readers show an empty title as nothing at all: a book or chapter has one.
    private static func nonEmpty(_ title: String) -> String {
        title.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? "Untitled" : title
    }

    private static let modifiedFormat: DateFormatter = {
        let format = DateFormatter()
        format.locale = Locale(identifier: "en_US_POSIX")
        format.timeZone = TimeZone(identifier: "UTC")
        format.dateFormat = "yyyy-MM-dd'T'HH:mm:ss'Z'"
        return format
    }()
}

public enum EPUBError: Error, CustomStringConvertible, Equatable {
    case couldNotWrite(String)
    case noArticles

    public var description: String {
        switch self {
        case .noArticles: return "an EPUB needs at least one article, and none was chosen"
        case .couldNotWrite(let reason): return "could not write the EPUB: \(reason)"
        }
    }
}

/// Text made safe for XML 1.0 content and attribute values.
public enum XML {
    /// Escapes the five markup characters and drops what XML 1.0 cannot hold
    /// (control characters other than tab and newline, U+FFFE and U+FFFF) and
    /// the C1 controls, which are never text.
    public static func escape(_ text: String) -> String {
        var escaped = ""
        escaped.unicodeScalars.reserveCapacity(text.unicodeScalars.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            case "\t", "\n": escaped.unicodeScalars.append(scalar)
            case "\r": continue
            default:
                let value = scalar.value
                if value < 0x20 || (0x7F...0x9F).contains(value) || value == 0xFFFE || value == 0xFFFF { continue }
                escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped
    }
}
