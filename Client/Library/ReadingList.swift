import Foundation
import GRDB
import ReadSyncArticles
import ReadSyncCore

/// The reading list of one device: every command's effect, as register
/// writes through the store. Works fully offline.
public final class ReadingList {
    /// The underlying store (shared with sync).
    public let store: ClientStore
    /// Where it lives.
    public let home: ClientHome
    /// New note ids: random UUIDs (a seam so simulations repeat exactly).
    var makeNoteID: () -> String = { Identity.newNoteID() }

    public init(home: ClientHome, wallClock: any WallClock = SystemWallClock()) throws {
        self.home = home
        self.store = try ClientStore(home: home, wallClock: wallClock)
    }

    /// A reading list over an existing store (an in-memory one, in simulations).
    public init(store: ClientStore, home: ClientHome = ClientHome(directory: URL(fileURLWithPath: ":memory:"))) {
        self.home = home
        self.store = store
    }

    /// Runs several commands (`add`, `addNote`, `setProgress`, …) as one
    /// transaction: much faster for an import, and all of them or none are
    /// kept. Each command stays all-or-nothing on its own: one that throws
    /// leaves nothing, and the others go on if `body` catches its error;
    /// but once storing a command's writes failed (a full disk), the
    /// transaction cannot commit and every later command throws that error.
    public func inOneTransaction<T>(_ body: () throws -> T) throws -> T {
        try store.inOneTransaction(body)
    }

    // MARK: Articles

    /// Saves an article. Saving one that is already there writes only what
    /// changed (nothing, for the same content); saving a deleted one restores it.
    @discardableResult
    public func add(_ draft: ArticleDraft, tags: [String] = []) throws -> (id: String, outcome: AddOutcome) {
        let tagNames = try tags.map(Self.normalizedTag)
        let id = draft.id
        return try store.command { write in
            // As the library shows it before this command (read with the
            // entity the writes load anyway).
            let before = try write.entity(.article, id)
            func key(_ field: ArticleField) -> RegisterKey { RegisterKey(kind: .article, entity: id, field: field.rawValue) }
            for (field, value) in draft.fields { try write.set(key(field), value) }
            try write.setIfAbsent(key(.addedAt), .text(write.now))
            try write.set(key(.deleted), .bool(false))
            for tag in tagNames {
                try write.set(RegisterKey(kind: .tag, entity: TagEntity.id(articleID: id, tag: tag), field: TagField.present.rawValue), .bool(true))
            }

            let outcome: AddOutcome
            if !before.isCompleteArticle {
                outcome = .added
            } else if before.registers[ArticleField.deleted.rawValue]?.value == .bool(true) {
                outcome = .restored
            } else {
                outcome = write.changedAnything ? .updated : .unchanged
            }
            return (id, outcome)
        }
    }

    /// Adds `drafts` as `add` adds one, in one transaction: each is a command
    /// of its own, so one the library refuses (its result says why) leaves
    /// nothing and the others go on; any other failure (a full disk) stops
    /// them all and is thrown. One transaction instead of one per article:
    /// its commit, and the search index's write-out, come once.
    public func add(_ drafts: [ArticleDraft], tags: [String] = []) throws -> [Result<(id: String, outcome: AddOutcome), any Error>] {
        try store.inOneTransaction {
            try drafts.map { draft in
                do {
                    return .success(try add(draft, tags: tags))
                } catch let refusal as any LibraryRefusal {
                    return .failure(refusal)
                }
            }
        }
    }

    /// Moves an article to the trash on every device; its notes and tags are
    /// hidden with it and kept.
    @discardableResult
    public func delete(_ ref: String) throws -> String {
        try store.command { write in
            let id = try ArticleRef.resolve(ref, in: write.db)
            try write.set(RegisterKey(kind: .article, entity: id, field: ArticleField.deleted.rawValue), .bool(true))
            return id
        }
    }

    /// Brings a deleted article back, with its notes and tags.
    @discardableResult
    public func restore(_ ref: String) throws -> String {
        try store.command { write in
            let id = try ArticleRef.resolve(ref, in: write.db, includeDeleted: true)
            guard try write.set(RegisterKey(kind: .article, entity: id, field: ArticleField.deleted.rawValue), .bool(false)) else {
                throw LookupError.articleNotDeleted(id)
            }
            return id
        }
    }

    // MARK: Read state

    /// Marks an article read (progress 100 %) or unread (progress 0).
    @discardableResult
    public func setRead(_ ref: String, _ read: Bool) throws -> String {
        try store.command { write in
            let id = try ArticleRef.resolve(ref, in: write.db)
            try Self.setReadState(id, status: read ? .read : .unread, progress: read ? 1 : 0, write)
            return id
        }
    }

    /// Records reading progress; 0 means unread, 100 read, anything between reading.
    @discardableResult
    public func setProgress(_ ref: String, percent: Double) throws -> String {
        guard percent.isFinite, (0...100).contains(percent) else { throw EditError.invalidProgress(String(percent)) }
        return try store.command { write in
            let id = try ArticleRef.resolve(ref, in: write.db)
            let status: ReadStatus = percent == 0 ? .unread : percent == 100 ? .read : .reading
            try Self.setReadState(id, status: status, progress: percent / 100, write)
            return id
        }
    }

    private static func setReadState(_ id: String, status: ReadStatus, progress: Double, _ write: LocalWrite) throws {
        func key(_ field: ReadStateField) -> RegisterKey { RegisterKey(kind: .readState, entity: id, field: field.rawValue) }
        try write.set(key(.status), .text(status.rawValue))
        try write.set(key(.progress), .double(progress))
        if status == .read { try write.set(key(.readAt), .text(write.now)) }
    }

    @discardableResult
    public func setArchived(_ ref: String, _ archived: Bool) throws -> String {
        try setFlag(ref, .archived, archived)
    }

    @discardableResult
    public func setFavorite(_ ref: String, _ favorite: Bool) throws -> String {
        try setFlag(ref, .favorite, favorite)
    }

    private func setFlag(_ ref: String, _ field: ReadStateField, _ value: Bool) throws -> String {
        try store.command { write in
            let id = try ArticleRef.resolve(ref, in: write.db)
            try write.set(RegisterKey(kind: .readState, entity: id, field: field.rawValue), .bool(value))
            return id
        }
    }

    // MARK: Tags

    /// Adds and removes tags (names are trimmed and lower-cased).
    @discardableResult
    public func tag(_ ref: String, add: [String], remove: [String]) throws -> String {
        let added = try add.map(Self.normalizedTag), removed = try remove.map(Self.normalizedTag)
        return try store.command { write in
            let id = try ArticleRef.resolve(ref, in: write.db)
            for (names, present) in [(added, true), (removed, false)] {
                for name in names {
                    try write.set(RegisterKey(kind: .tag, entity: TagEntity.id(articleID: id, tag: name), field: TagField.present.rawValue), .bool(present))
                }
            }
            return id
        }
    }

    static func normalizedTag(_ name: String) throws -> String {
        guard let normalized = TagEntity.normalizedName(name) else { throw EditError.invalidTag(name) }
        return normalized
    }

    // MARK: Notes

    /// Adds a note to an article; returns the note's id.
    @discardableResult
    public func addNote(to ref: String, body: String, quote: String? = nil) throws -> String {
        let body = body.trimmingScalars(in: .whitespacesAndNewlines)
        guard !body.isEmpty else { throw EditError.emptyNote }
        let quote = quote?.trimmingScalars(in: .whitespacesAndNewlines)
        return try store.command { write in
            let articleID = try ArticleRef.resolve(ref, in: write.db)
            let id = makeNoteID()
            func key(_ field: NoteField) -> RegisterKey { RegisterKey(kind: .note, entity: id, field: field.rawValue) }
            try write.set(key(.articleID), .text(articleID))
            try write.set(key(.body), .text(body))
            if let quote, !quote.isEmpty { try write.set(key(.quote), .text(quote)) }
            try write.set(key(.createdAt), .text(write.now))
            try write.set(key(.deleted), .bool(false))
            return id
        }
    }

    /// Replaces a note's text.
    @discardableResult
    public func editNote(_ ref: String, body: String) throws -> String {
        let body = body.trimmingScalars(in: .whitespacesAndNewlines)
        guard !body.isEmpty else { throw EditError.emptyNote }
        return try store.command { write in
            let id = try NoteRef.resolve(ref, in: write.db)
            try write.set(RegisterKey(kind: .note, entity: id, field: NoteField.body.rawValue), .text(body))
            return id
        }
    }

    /// Deletes a note (a tombstone, so the delete reaches every device).
    @discardableResult
    public func deleteNote(_ ref: String) throws -> String {
        try store.command { write in
            let id = try NoteRef.resolve(ref, in: write.db)
            try write.set(RegisterKey(kind: .note, entity: id, field: NoteField.deleted.rawValue), .bool(true))
            return id
        }
    }

    // MARK: Settings

    /// Stores the sync server's address, this device's token, the name
    /// the server lists it under, and the PEM file of the private
    /// certificate authority that signed the server's certificate (nil: the
    /// system's authorities; a stored one is forgotten).
    public func configureServer(url: String, token: String, deviceName: String? = nil, caFile: String? = nil) throws {
        guard let components = URLComponents(string: url), ["http", "https"].contains(components.scheme?.lowercased() ?? ""),
            components.host?.isEmpty == false
        else { throw ServerSettingsError.invalidServerURL(url) }
        // The URL is shown in `status`, sync summaries and errors: a secret in it would be too.
        guard components.user == nil, components.password == nil else { throw ServerSettingsError.credentialsInServerURL }
        guard !token.isEmpty, token.unicodeScalars.allSatisfy({ $0.isASCII && $0.value > 32 && $0.value < 127 }) else {
            throw ServerSettingsError.invalidToken
        }
        let caPath = try caFile.map { try Self.checkedCAFile($0, serverURL: url) }
        try store.write(during: .command) { db in
            let previous = (try MetaKey.serverURL.read(db), try MetaKey.serverToken.read(db))
            try MetaKey.serverURL.write(url, db)
            try MetaKey.serverToken.write(token, db)
            try MetaKey.caFile.write(caPath, db)
            if let deviceName { try MetaKey.deviceName.write(deviceName, db) }
            // Another server or account: its cursor and epoch mean nothing
            // here, and it has none of this library, so send everything.
            if let oldURL = previous.0, oldURL != url || previous.1 != token {
                try Outbox.requeueEverything(db)
                try MetaKey.cursor.write(nil, db)
                try MetaKey.epoch.write(nil, db)
                try MetaKey.checkpoint.write(nil, db)
                try MetaKey.pushToken.write(nil, db)
                try MetaKey.pendingPushToken.write(nil, db)
                try MetaKey.serverTakes.write(nil, db)
            }
        }
    }

    /// `file` as an absolute path, once it is known to be a readable file
    /// holding a PEM certificate (libcurl would only say so at the first
    /// sync) for an https `serverURL`.
    public static func checkedCAFile(_ file: String, serverURL: String) throws -> String {
        guard URLComponents(string: serverURL)?.scheme?.lowercased() == "https" else { throw ServerSettingsError.caFileWithoutHTTPS(serverURL) }
        let path = URL(fileURLWithPath: file).standardizedFileURL.path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ServerSettingsError.unreadableCAFile(path: path, reason: "no such file")
        }
        guard !isDirectory.boolValue else { throw ServerSettingsError.unreadableCAFile(path: path, reason: "it is a folder; give the PEM file") }
        let contents: Data
        do {
            contents = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ServerSettingsError.unreadableCAFile(path: path, reason: "it cannot be read (permission denied?)")
        }
        guard String(decoding: contents, as: UTF8.self).contains("-----BEGIN CERTIFICATE-----") else {
            throw ServerSettingsError.unreadableCAFile(path: path, reason: "it holds no PEM certificate (a -----BEGIN CERTIFICATE----- block)")
        }
        return path
    }
}
