import ReadSyncArticles
import Testing

/// Bookmark files are tag soup: libxml2 reads them as a browser would.
struct HTMLMarkupTests {
    @Test func tagSoupBecomesBalancedTokensWithEveryReferenceDecoded() {
        let file = """
            <!DOCTYPE NETSCAPE-Bookmark-file-1>
            <DL><p>
                <DT><A HREF="https://example.org/?a=1&amp;b=2" ADD_DATE="1700000000" Tags='x,y'>Caf&eacute; &rarr; &#x1F600; &hellip;</A>
                <DD>Un r&eacute;sum&eacute;
            </DL><p>
            """
        let tokens = HTMLMarkup.tokens(file)
        let link = tokens.first { if case .start("a", _, _) = $0 { true } else { false } }
        #expect(link == .start(name: "a", attributes: ["href": "https://example.org/?a=1&b=2", "add_date": "1700000000", "tags": "x,y"], line: 3))
        let texts = tokens.compactMap { if case .text(let text, _) = $0 { text } else { nil } }
        #expect(texts.contains("Café → 😀 …"))
        #expect(texts.contains { $0.hasPrefix("Un résumé") })
        // Every element that starts ends, innermost first, whatever the file closed.
        var open: [String] = []
        for token in tokens {
            if case .start(let name, _, _) = token { open.append(name) }
            if case .end(let name, _) = token { #expect(open.popLast() == name) }
        }
        #expect(open.isEmpty)
    }
}
