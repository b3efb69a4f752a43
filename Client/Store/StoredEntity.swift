import Foundation
import GRDB
import ReadSyncCore

/// One entity as a device stores it: one row of its kind's value table,
/// holding the value of each known field and, in `clocks`, every written
/// field's clock (`EntityClocks`); the values of fields this version does not
/// know are in `unknown_values`. Loaded whole, changed in memory, saved with
/// one row write however many fields changed (SQLite rewrites a row whole on
/// any update, and an article's row holds its body).
struct StoredEntity {
    let kind: EntityKind
    let id: String
    /// Every field ever written, by name.
    private(set) var registers: [String: Register]
    /// The fields whose value changed since loading, and those whose clock did.
    private var changedValues: Set<String> = []
    private var changedClocks: Set<String> = []
    /// A note's article as loaded: the search entries of both its old and
    /// its new article change with it.
    private let loadedArticleID: String?

    /// An entity's field clocks alone, without reading its values (an
    /// acknowledgement or a re-stamp needs no article body).
    static func clocks(_ kind: EntityKind, _ id: String, _ db: Database) throws -> [String: EntityClocks.Clock] {
        guard let blob = try Data.fetchOne(db.cachedStatement(sql: "SELECT clocks FROM \(ValueTable.name(of: kind)) WHERE id = ?"), arguments: [id])
        else { return [:] }
        guard let clocks = EntityClocks.decode(blob) else {
            throw DatabaseError(resultCode: .SQLITE_CORRUPT, message: "invalid clocks of \(kind.rawValue) \(id)")
        }
        return clocks
    }

    static func load(_ kind: EntityKind, _ id: String, _ db: Database) throws -> StoredEntity {
        let columns = ValueTable.columns(of: kind)
        var registers: [String: Register] = [:]
        let found = try Row.fetchCursor(db.cachedStatement(sql: Self.select[kind]!), arguments: [id])
        // The cursor resets the statement when released: read the row before.
        try withExtendedLifetime(found) {
            guard let row = try found.next() else { return }
            guard let clocks = EntityClocks.decode(row[0] as Data) else {
                throw DatabaseError(resultCode: .SQLITE_CORRUPT, message: "invalid clocks of \(kind.rawValue) \(id)")
            }
            for (field, clock) in clocks {
                let value = try columns.firstIndex(of: field).map { try FieldValue(row[$0 + 1], shape: kind.shape(of: field)!) } ?? .null
                registers[field] = Register(value: value, timestamp: clock.timestamp, vector: clock.vector)
            }
        }
        if registers.keys.contains(where: { kind.shape(of: $0) == nil }) {
            let unknown = try Row.fetchCursor(db.cachedStatement(sql: "SELECT field, value FROM unknown_values WHERE kind = ? AND entity = ?"),
                                              arguments: [kind.rawValue, id])
            while let row = try unknown.next() {
                let field: String = row[0]
                registers[field]?.value = try WireCoding.value(fromText: row[1])
            }
        }
        return StoredEntity(kind: kind, id: id, registers: registers,
                            loadedArticleID: kind == .note ? registers[NoteField.articleID.rawValue]?.value.text : nil)
    }

    private init(kind: EntityKind, id: String, registers: [String: Register], loadedArticleID: String?) {
        self.kind = kind
        self.id = id
        self.registers = registers
        self.loadedArticleID = loadedArticleID
    }

    /// The value of each written field.
    var values: [String: FieldValue] { registers.mapValues(\.value) }

    mutating func set(_ field: String, _ register: Register) {
        if registers[field]?.value != register.value { changedValues.insert(field) }
        registers[field] = register
        changedClocks.insert(field)
    }

    /// Writes what changed: the row (every known value and every clock) and
    /// the changed unknown values. The search entries this entity feeds are
    /// taken out of the index first and queued (`SearchIndex`) when a value
    /// they are made of changed.
    mutating func save(_ db: Database) throws {
        guard !changedClocks.isEmpty else { return }
        try unindexWhatThisFeeds(db)
        try writeRow(db)
        for field in changedValues where kind.shape(of: field) == nil {
            try db.cachedStatement(sql: """
                INSERT INTO unknown_values (kind, entity, field, value) VALUES (?, ?, ?, ?)
                ON CONFLICT (kind, entity, field) DO UPDATE SET value = excluded.value
                """).execute(arguments: [kind.rawValue, id, field, try WireCoding.text(registers[field]!.value)])
        }
        changedValues = []
        changedClocks = []
    }

    private func writeRow(_ db: Database) throws {
        let clocks = EntityClocks.encode(registers.mapValues { ($0.timestamp, $0.vector) })
        var arguments: [DatabaseValue] = [id.databaseValue, Data(clocks).databaseValue]
            + ValueTable.columns(of: kind).map { registers[$0]?.value.databaseValue ?? .null }
        switch kind {
        case .article:
            arguments.append(([ArticleField.title, .addedAt, .deleted].allSatisfy { registers[$0.rawValue] != nil }).databaseValue)
        case .tag:
            guard let (articleID, name) = TagEntity.parts(of: id) else { return }
            arguments += [articleID.databaseValue, name.databaseValue]
        case .readState, .note: break
        }
        try db.cachedStatement(sql: Self.upsert[kind]!).execute(arguments: StatementArguments(arguments))
    }

    /// Per kind, the statement that reads an entity's row.
    private static let select: [EntityKind: String] = Dictionary(uniqueKeysWithValues: EntityKind.allCases.map { kind in
        (kind, "SELECT clocks, \(ValueTable.columns(of: kind).joined(separator: ", ")) FROM \(ValueTable.name(of: kind)) WHERE id = ?")
    })

    /// Per kind, the statement that writes an entity's row: its id, its
    /// clocks, every value column, and what is derived from them.
    private static let upsert: [EntityKind: String] = Dictionary(uniqueKeysWithValues: EntityKind.allCases.map { kind in
        var names = ["id", "clocks"] + ValueTable.columns(of: kind)
        switch kind {
        case .article: names.append("complete")
        case .tag: names += ["article_id", "name"]
        case .readState, .note: break
        }
        let updates = names.dropFirst().map { "\($0) = excluded.\($0)" }.joined(separator: ", ")
        return (kind, """
            INSERT INTO \(ValueTable.name(of: kind)) (\(names.joined(separator: ", "))) VALUES (\(databaseQuestionMarks(count: names.count)))
            ON CONFLICT (id) DO UPDATE SET \(updates)
            """)
    })

    private func unindexWhatThisFeeds(_ db: Database) throws {
        switch kind {
        case .article:
            let searchable: Set<String> = [ArticleField.url.rawValue, ArticleField.title.rawValue, ArticleField.content.rawValue,
                                           ArticleField.deleted.rawValue, ArticleField.addedAt.rawValue]
            if !changedValues.isDisjoint(with: searchable) { try SearchIndex.unindex(articleID: id, db) }
        case .note:
            guard !changedValues.isEmpty else { return }
            if let loadedArticleID { try SearchIndex.unindex(articleID: loadedArticleID, db) }
            if let articleID = registers[NoteField.articleID.rawValue]?.value.text, articleID != loadedArticleID {
                try SearchIndex.unindex(articleID: articleID, db)
            }
        case .readState, .tag: break
        }
    }
}

/// The address of an entity, for the entities a transaction holds in memory.
struct EntityAddress: Hashable {
    let kind: EntityKind
    let id: String
}

extension ClientStore {
    /// Every field this device holds, with its value and clock: the state it
    /// converges on with every other replica.
    func registers() throws -> [RegisterKey: Register] {
        try read { db in
            var result: [RegisterKey: Register] = [:]
            for kind in EntityKind.allCases {
                for id in try String.fetchAll(db, sql: "SELECT id FROM \(ValueTable.name(of: kind))") {
                    for (field, register) in try StoredEntity.load(kind, id, db).registers {
                        result[RegisterKey(kind: kind, entity: id, field: field)] = register
                    }
                }
            }
            return result
        }
    }
}

extension StoredEntity {
    /// Moves the values of fields that an earlier version kept aside as
    /// unknown (a newer version wrote them) and this version knows into
    /// their columns, clocks unchanged. Runs when a store opens; the table
    /// is empty but after an upgrade that taught the version a field.
    static func adoptKnownFields(_ db: Database) throws {
        let rows = try Row.fetchAll(db, sql: "SELECT kind, entity, field, value FROM unknown_values")
        for row in rows {
            guard let kind = EntityKind(rawValue: row[0]), let field = row[2] as String?, kind.shape(of: field) != nil else { continue }
            var entity = try StoredEntity.load(kind, row[1], db)
            guard let register = entity.registers[field] else { continue }
            entity.set(field, Register(value: try WireCoding.value(fromText: row[3]), timestamp: register.timestamp, vector: register.vector))
            try db.execute(sql: "DELETE FROM unknown_values WHERE kind = ? AND entity = ? AND field = ?", arguments: [row[0] as String, row[1] as String, field])
            try entity.save(db)
        }
    }
}
