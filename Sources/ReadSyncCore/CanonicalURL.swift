import Foundation

/// The canonical form of an article's URL, from which its id derives: two
/// spellings of one page give one canonical URL, so one article.
///
/// Scheme and host are lower-cased, the default port, the fragment and
/// tracking parameters (`utm_*`, `fbclid`, `gclid`, …) are dropped, the
/// remaining query parameters are sorted, and a trailing slash is removed
/// (the bare host keeps `/`).
public struct CanonicalURL: Hashable, Sendable, CustomStringConvertible {
    /// The canonical text.
    public let string: String

    /// Canonicalises an absolute http(s) URL; nil for anything else.
    public init?(_ text: String) {
        let trimmed = Graphemes.trimmingWhitespace(text)
        guard var components = URLComponents(string: trimmed),
            let scheme = components.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let host = components.host, !host.isEmpty
        else { return nil }
        components.scheme = scheme
        components.host = host.lowercased()
        if components.port == (scheme == "http" ? 80 : 443) { components.port = nil }
        components.fragment = nil
        components.user = nil
        components.password = nil

        var path = components.percentEncodedPath
        while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
        components.percentEncodedPath = path.isEmpty ? "/" : path

        let items: [URLQueryItem] = components.percentEncodedQueryItems ?? []
        let kept: [URLQueryItem] = items.filter { !Self.isTracking($0.name) }.sorted(by: Self.queryOrder)
        components.percentEncodedQueryItems = kept.isEmpty ? nil : kept

        guard let string = components.string else { return nil }
        self.string = string
    }

    /// The host, lower-cased (e.g. `amp.cnn.com`).
    public var host: String { URLComponents(string: string)?.host ?? "" }

    /// The last meaningful path segment (not `index.html` and the like), if any.
    public var slug: String? {
        let segments = (URLComponents(string: string)?.path ?? "").split(separator: "/").map(String.init)
        for segment in segments.reversed() {
            // The path comes percent-decoded: `%00` and its kind are no part of a name.
            var name = String(String.UnicodeScalarView(segment.unicodeScalars.filter { $0.properties.generalCategory != .control }))
            if let dot = name.lastIndex(of: "."), ["html", "htm", "php", "asp", "aspx", "shtml"].contains(name[name.index(after: dot)...].lowercased()) {
                name = String(name[..<dot])
            }
            if ["index", "amp", ""].contains(name.lowercased()) || name.allSatisfy(\.isNumber) { continue }
            return name
        }
        return nil
    }

    public var description: String { string }

    private static let trackingNames: Set<String> = [
        "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "igshid",
        "mc_cid", "mc_eid", "_ga", "_gl", "_hsenc", "_hsmi", "mkt_tok", "oly_anon_id", "oly_enc_id",
        "vero_id", "wickedid", "rb_clickid", "s_cid", "ref_src", "ref_url",
    ]

    private static func queryOrder(_ a: URLQueryItem, _ b: URLQueryItem) -> Bool {
        a.name != b.name ? a.name < b.name : (a.value ?? "") < (b.value ?? "")
    }

    private static func isTracking(_ name: String) -> Bool {
        let lower = name.lowercased()
        return lower.hasPrefix("utm_") || trackingNames.contains(lower)
    }
}
