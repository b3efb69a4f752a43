import Foundation

/// HTML character references, for what export writes (reading them is
/// libxml2's: `HTMLMarkup`).
enum HTMLText {
    /// Text safe inside an element or a double-quoted attribute.
    static func escape(_ text: String) -> String {
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
