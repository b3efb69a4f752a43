/// How replicated entities get their ids. Deterministic ids are what make the
/// same page saved offline on two devices one article after sync.
public enum Identity {
    /// Length of an article id in hex characters (64 bits).
    public static let articleIDLength = 16

    /// The id of an article saved from `url`: derived from its canonical form.
    public static func articleID(for url: CanonicalURL) -> String {
        String(SHA256.hex("url:" + url.string).prefix(articleIDLength))
    }

    /// The id of an article with no URL: derived from its text, ignoring
    /// differences in whitespace.
    public static func articleID(forContent content: String) -> String {
        String(SHA256.hex("content:" + Graphemes.collapsingWhitespace(content)).prefix(articleIDLength))
    }
}
