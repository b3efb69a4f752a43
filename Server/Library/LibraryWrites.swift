import Foundation
import ReadSyncArticles
import ReadSyncCore

// What a reader does to a library through the server (the wallabag API, the
// web reader), as edits of the server's replica (`ServerReplica`). Each
// writes the same fields, with the same meaning, as the device command of
// the same name (`ReadingList`), so that a write made in a browser or an app
// is an ordinary write on every device.

extension RegisterKey {
    static func article(_ id: String, _ field: ArticleField) -> RegisterKey {
        RegisterKey(kind: .article, entity: id, field: field.rawValue)
    }

    static func readState(_ id: String, _ field: ReadStateField) -> RegisterKey {
        RegisterKey(kind: .readState, entity: id, field: field.rawValue)
    }

    /// Whether the tag `name` is on the article `id`.
    static func tag(_ name: String, on id: String) -> RegisterKey {
        RegisterKey(kind: .tag, entity: TagEntity.id(articleID: id, tag: name), field: TagField.present.rawValue)
    }

    static func note(_ id: String, _ field: NoteField) -> RegisterKey {
        RegisterKey(kind: .note, entity: id, field: field.rawValue)
    }
}

extension ReplicaEdit {
    /// Read to the end (progress 1, read now) or unread (progress 0): `client read` / `client unread`.
    mutating func setRead(_ id: String, _ read: Bool, now: String) {
        setProgress(id, read ? 1 : 0, now: now)
    }

    /// How far the article is read, 0…1: 0 is unread, 1 read, anything between reading (`client progress`).
    mutating func setProgress(_ id: String, _ fraction: Double, now: String) {
        let status: ReadStatus = fraction <= 0 ? .unread : fraction >= 1 ? .read : .reading
        set(.readState(id, .status), .text(status.rawValue))
        set(.readState(id, .progress), .double(min(1, max(0, fraction))))
        if status == .read { set(.readState(id, .readAt), .text(now)) }
    }

    /// The status the article has as this edit leaves it.
    func status(_ id: String) -> ReadStatus {
        value(.readState(id, .status))?.text.flatMap(ReadStatus.init) ?? .unread
    }

    mutating func setArchived(_ id: String, _ archived: Bool) { set(.readState(id, .archived), .bool(archived)) }

    mutating func setFavorite(_ id: String, _ favorite: Bool) { set(.readState(id, .favorite), .bool(favorite)) }

    mutating func setTitle(_ id: String, _ title: String) { set(.article(id, .title), .text(title)) }

    /// Puts the tag on the article or takes it off (`name` already normalised: `TagEntity.normalizedName`).
    mutating func setTag(_ name: String, on id: String, _ present: Bool) { set(.tag(name, on: id), .bool(present)) }

    /// Moves the article to the trash (its notes and tags hidden with it) or brings it back.
    mutating func setDeleted(_ id: String, _ deleted: Bool) { set(.article(id, .deleted), .bool(deleted)) }

    /// A new note `noteID` on the article; `quote` is the passage it is about (a highlight has no body).
    mutating func addNote(_ noteID: String, to article: String, body: String, quote: String?, now: String) {
        set(.note(noteID, .articleID), .text(article))
        set(.note(noteID, .body), .text(body))
        if let quote, !quote.isEmpty { set(.note(noteID, .quote), .text(quote)) }
        set(.note(noteID, .createdAt), .text(now))
        set(.note(noteID, .deleted), .bool(false))
    }

    mutating func setNoteBody(_ noteID: String, _ body: String) { set(.note(noteID, .body), .text(body)) }

    mutating func deleteNote(_ noteID: String) { set(.note(noteID, .deleted), .bool(true)) }

    /// Saves the page at `url` as article `id`: the fields of `draft` when
    /// the page could be read, else a bare link (its address as its title,
    /// no text), as a device's import of a link is. Saving a page saved
    /// before keeps when it was first added, and takes it out of the trash.
    mutating func save(_ id: String, url: CanonicalURL, draft: ArticleDraft?, now: String) {
        if let draft {
            for (field, value) in draft.fields { set(.article(id, field), value) }
        } else {
            setIfAbsent(.article(id, .url), .text(url.string))
            setIfAbsent(.article(id, .title), .text(url.string))
        }
        setIfAbsent(.article(id, .addedAt), .text(now))
        setDeleted(id, false)
    }
}

extension ServerReplica {
    /// One edit of article `id`: its fields, its read-state, the tags named
    /// and the notes named (what `edit` may read and write).
    func edit(
        _ user: UserID, article id: String, tags: [String] = [], notes: [String] = [],
        _ edit: @Sendable (inout ReplicaEdit) throws -> Void
    ) async throws {
        let entities =
            [EntitiesRequest.Address(kind: .article, entity: id), EntitiesRequest.Address(kind: .readState, entity: id)]
            + tags.map { EntitiesRequest.Address(kind: .tag, entity: TagEntity.id(articleID: id, tag: $0)) }
            + notes.map { EntitiesRequest.Address(kind: .note, entity: $0) }
        try await self.edit(user, reading: entities, edit)
    }
}

/// Reading a page to save on the server, with the devices' own ingestion
/// (so that it is the same article, same id, same text, as when a device
/// saves it): from HTML the app sent, or fetched.
struct PageSaving: Sendable {
    /// Where pages may be fetched from (`readsync serve --fetch-private`).
    let fetchPolicy: AddressPolicy

    /// The article the page makes, or nil when it cannot be read (the
    /// caller saves a bare link): unfetchable, no text, or too large for a
    /// field (a book as plain text: the fetch allows 20 MB, a field 4 MB).
    func draft(of url: CanonicalURL, html: String? = nil) async -> ArticleDraft? {
        var draft: ArticleDraft?
        if let html, !html.isEmpty {
            draft = HTMLArticleExtractor.extract(Array(html.utf8), url: url)
            if draft?.hasText == false { draft = nil }
        } else {
            draft = try? await fetch(url.string)
        }
        if let body = draft?.content, body.utf8.count > ChangeValidation.maxTextBytes { return nil }
        return draft
    }

    /// The page, fetched off the server's event loops (libcurl blocks),
    /// from the addresses `fetchPolicy` allows, a few at a time (`Fetches`).
    private func fetch(_ url: String) async throws -> ArticleDraft {
        let policy = fetchPolicy
        return try await withCheckedThrowingContinuation { answer in
            Fetches.queue.addOperation {
                answer.resume(
                    with: Result { () throws(FetchError) -> ArticleDraft in
                        try PageFetcher(limits: Fetches.limits, addressPolicy: policy).draft(from: url)
                    })
            }
        }
    }
}

/// The server's fetches of saved pages: at most four at once, whoever asks
/// (the rest wait their turn without holding a thread), each within 20 s,
/// so that apps and browsers saving many links cannot tie the server up.
private enum Fetches {
    static let queue: OperationQueue = {
        let queue = OperationQueue()
        queue.name = "readsync.page-fetches"
        queue.maxConcurrentOperationCount = 4
        return queue
    }()
    static let limits = HTTPLimits(connectTimeoutSeconds: 10, totalTimeoutSeconds: 20)
}
