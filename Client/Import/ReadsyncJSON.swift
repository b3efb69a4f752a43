import Foundation
import ReadSyncCore

enum ReadsyncJSON {
    /// An element that failed to decode is kept as its error, so one bad
    /// article is reported instead of failing the file.
    private struct Lossy: Decodable {
        let article: Result<ArticleDetail, any Error>
        init(from decoder: any Decoder) throws {
            article = Result { try ArticleDetail(from: decoder) }
        }
    }

    private struct Document: Decodable {
        let format: String
        let articles: [Lossy]
    }

    static func parse(_ data: Data) -> ParsedImport {
        var result = ParsedImport()
        guard let document = try? JSONDecoder().decode(Document.self, from: data), document.format == "readsync" else {
            result.skipped.append(ImportProblem(line: 1, reason: "not a readsync export"))
            return result
        }
        for (offset, element) in document.articles.enumerated() {
            guard case .success(let article) = element.article else {
                result.skipped.append(ImportProblem(line: offset + 1, reason: "article \(offset + 1) is missing fields"))
                continue
            }
            var item = ImportedItem(line: offset + 1, url: article.url, title: article.title)
            item.exact = true
            item.author = article.author
            item.site = article.site
            item.published = article.published
            item.addedAtISO = article.addedAt
            item.archived = article.archived
            item.favorite = article.favorite
            item.progress = article.progress
            item.status = ReadStatus(rawValue: article.status)
            item.readAt = article.readAt
            item.tags = article.tags
            item.content = article.content
            item.notes = article.notes.map { ImportedNote(id: $0.id, body: $0.body, quote: $0.quote, createdAt: $0.createdAt) }
            result.items.append(item)
        }
        return result
    }
}
