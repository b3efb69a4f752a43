import Foundation
import GRDB
import ReadSyncCore
import SQLiteStatements

/// One entity as a device stores it: one row of its kind's value table,
/// holding the value of each known field and, in `clocks`, every written
/// field's clock (`EntityClocks`); the values of fields this version does not
/// know are in `unknown_values`. An entity of a kind this version does not
/// know is kept the same way with no value columns: its clocks in a row of
/// `unknown_entities`, every value in `unknown_values`. Loaded whole, changed in memory, saved with
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
    /// Its clocks as stored when it was loaded (nil when it had no row):
    /// while they are unchanged, none of its fields was written since.
    let storedClocks: Data?
    /// Whether the entity has a row (loaded with one, or saved since). An
    /// article without one is in no search index: its entries are only queued.
    private var wasStored: Bool
    var hasRow: Bool { wasStored }

    /// An entity's field clocks alone, without reading its values (an
    /// acknowledgement or a re-stamp needs no article body).
    static func clocks(_ kind: EntityKind, _ id: String, _ db: Database) throws -> [String: EntityClocks.Clock] {
        let (sql, arguments) = Self.selectClocks(kind, id)
        guard let blob = try db.cachedStatement(sql: sql).firstRow(arguments, { $0.flatMap { Data.fromDatabaseValue($0[0]) } }) else { return [:] }
        guard let clocks = EntityClocks.decode(blob) else {
            throw DatabaseError(resultCode: .SQLITE_CORRUPT, message: "invalid clocks of \(kind.rawValue) \(id)")
        }
        return clocks
    }

    static func load(_ kind: EntityKind, _ id: String, _ db: Database) throws -> StoredEntity {
        let columns = ValueTable.columns(of: kind)
        var registers: [String: Register] = [:]
        var storedClocks: Data?
        let (sql, arguments) = kind.isKnown ? (Self.select[kind]!, [id.databaseValue]) : Self.selectClocks(kind, id)
        try db.cachedStatement(sql: sql).firstRow(arguments) { row in
            guard let row else { return }
            storedClocks = Data.fromDatabaseValue(row[0])
            guard let blob = storedClocks, let clocks = EntityClocks.decodeFields(blob) else {
                throw DatabaseError(resultCode: .SQLITE_CORRUPT, message: "invalid clocks of \(kind.rawValue) \(id)")
            }
            registers.reserveCapacity(clocks.count)
            for (field, clock) in clocks {
                let value = try columns.firstIndex(of: field).map { try FieldValue(row[$0 + 1], shape: kind.shape(of: field)!) } ?? .null
                registers[field] = Register(value: value, timestamp: clock.timestamp, vector: clock.vector)
            }
        }
        if registers.keys.contains(where: { kind.shape(of: $0) == nil }) {
            let unknown = try Row.fetchCursor(
                db.cachedStatement(sql: "SELECT field, value FROM unknown_values WHERE kind = ? AND entity = ?"),
                arguments: [kind.rawValue, id])
            while let row = try unknown.next() {
                let field: String = row[0]
                registers[field]?.value = try WireCoding.value(fromText: row[1])
            }
        }
        return StoredEntity(
            kind: kind, id: id, registers: registers,
            loadedArticleID: kind == .note ? registers[NoteField.articleID.rawValue]?.value.text : nil,
            storedClocks: storedClocks)
    }

    private init(kind: EntityKind, id: String, registers: [String: Register], loadedArticleID: String?, storedClocks: Data?) {
        self.kind = kind
        self.id = id
        self.registers = registers
        self.loadedArticleID = loadedArticleID
        self.storedClocks = storedClocks
        self.wasStored = storedClocks != nil
    }

    /// The value of each written field.
    var values: [String: FieldValue] { registers.mapValues(\.value) }

    /// Whether an article's title, added-at and tombstone have all arrived
    /// (its row's `complete`): only then does the library show it, so a
    /// sync cut off half-way through it never shows it empty or live.
    var isCompleteArticle: Bool { [ArticleField.title, .addedAt, .deleted].allSatisfy { registers[$0.rawValue] != nil } }

    mutating func set(_ field: String, _ register: Register) {
        if registers.updateValue(register, forKey: field)?.value != register.value { changedValues.insert(field) }
        changedClocks.insert(field)
    }

    /// Writes what changed: the row (every known value and every clock) and
    /// the changed unknown values. The search entries this entity feeds are
    /// taken out of the index first and queued (`SearchIndex`) when a value
    /// they are made of changed.
    mutating func save(_ db: Database) throws {
        guard !changedClocks.isEmpty else { return }
        try SearchIndex.unindex(searchEntriesThatChange, db)
        try writeChanges(db)
    }

    /// Saves each of `entities` that changed, as `save` does, with the search
    /// entries they feed taken out of the index in one statement first (one
    /// statement per article made FTS5 write each out on its own:
    /// `SearchIndex.unindex`).
    static func save(_ entities: inout [EntityAddress: StoredEntity], _ db: Database) throws {
        var entries: [SearchIndex.Entry] = []
        for entity in entities.values where !entity.changedClocks.isEmpty { entries += entity.searchEntriesThatChange }
        try SearchIndex.unindex(entries, db)
        for address in entities.keys where !entities[address]!.changedClocks.isEmpty {
            try entities[address]!.writeChanges(db)
        }
    }

    /// The row and the changed unknown values; the search entries are the caller's.
    private mutating func writeChanges(_ db: Database) throws {
        try writeRow(db)
        for field in changedValues where kind.shape(of: field) == nil {
            try db.cachedStatement(
                sql: """
                    INSERT INTO unknown_values (kind, entity, field, value) VALUES (?, ?, ?, ?)
                    ON CONFLICT (kind, entity, field) DO UPDATE SET value = excluded.value
                    """
            ).execute(arguments: [kind.rawValue, id, field, try WireCoding.text(registers[field]!.value)])
        }
        changedValues = []
        changedClocks = []
        wasStored = true
    }

    private func writeRow(_ db: Database) throws {
        let clocks = EntityClocks.encode(registers)
        guard kind.isKnown else {
            try db.cachedStatement(
                sql: """
                    INSERT INTO unknown_entities (kind, id, clocks) VALUES (?, ?, ?) ON CONFLICT (kind, id) DO UPDATE SET clocks = excluded.clocks
                    """
            ).execute(arguments: [kind.rawValue, id, Data(clocks)])
            return
        }
        var arguments = [id.databaseValue, Data(clocks).databaseValue]
        arguments += ValueTable.columns(of: kind).map { registers[$0]?.value.databaseValue ?? .null }
        switch kind {
        case .article:
            arguments.append(isCompleteArticle.databaseValue)
        case .tag:
            guard let (articleID, name) = TagEntity.parts(of: id) else { return }
            arguments += [articleID.databaseValue, name.databaseValue]
        default: break
        }
        try db.cachedStatement(sql: Self.upsert[kind]!).run(arguments)
    }

    /// The statement that reads an entity's clocks alone, with its arguments.
    private static func selectClocks(_ kind: EntityKind, _ id: String) -> (String, [DatabaseValue]) {
        kind.isKnown
            ? ("SELECT clocks FROM \(ValueTable.name(of: kind)) WHERE id = ?", [id.databaseValue])
            : ("SELECT clocks FROM unknown_entities WHERE kind = ? AND id = ?", [kind.rawValue.databaseValue, id.databaseValue])
    }

    /// Per known kind, the statement that reads an entity's row.
    private static let select: [EntityKind: String] = Dictionary(
        uniqueKeysWithValues: EntityKind.known.map { kind in
            (kind, "SELECT clocks, \(ValueTable.columns(of: kind).joined(separator: ", ")) FROM \(ValueTable.name(of: kind)) WHERE id = ?")
        })

    /// Per known kind, the statement that writes an entity's row: its id, its
    /// clocks, every value column, and what is derived from them.
    private static let upsert: [EntityKind: String] = Dictionary(
        uniqueKeysWithValues: EntityKind.known.map { kind in
            var names = ["id", "clocks"] + ValueTable.columns(of: kind)
            switch kind {
            case .article: names.append("complete")
            case .tag: names += ["article_id", "name"]
            default: break
            }
            let updates = names.dropFirst().map { "\($0) = excluded.\($0)" }.joined(separator: ", ")
            return (
                kind,
                """
                INSERT INTO \(ValueTable.name(of: kind)) (\(names.joined(separator: ", "))) VALUES (\(databaseQuestionMarks(count: names.count)))
                ON CONFLICT (id) DO UPDATE SET \(updates)
                """
            )
        })

    /// The search entries made of a value that changed (`SearchIndex`): both
    /// of an article's when its title, URL, body, tombstone or added-at
    /// changed (the last three, with the title, decide whether it is
    /// searched at all, notes included; its notes entry is short), and the
    /// notes entry of a note's article, before and after.
    private var searchEntriesThatChange: [SearchIndex.Entry] {
        switch kind {
        case .article:
            let searchable: Set<String> = [
                ArticleField.url.rawValue, ArticleField.title.rawValue, ArticleField.content.rawValue,
                ArticleField.deleted.rawValue, ArticleField.addedAt.rawValue,
            ]
            guard !changedValues.isDisjoint(with: searchable) else { return [] }
            return SearchIndex.Part.allCases.map { SearchIndex.Entry(articleID: id, part: $0, mayBeIndexed: wasStored) }
        case .note:
            guard !changedValues.isEmpty else { return [] }
            let articleID = registers[NoteField.articleID.rawValue]?.value.text
            return [loadedArticleID, articleID == loadedArticleID ? nil : articleID].compactMap { $0 }.map {
                SearchIndex.Entry(articleID: $0, part: .notes, mayBeIndexed: true)
            }
        default: return []
        }
    }
}

struct EntityAddress: Hashable {
    let kind: EntityKind
    let id: String
}

extension Dictionary where Key == EntityAddress, Value == StoredEntity {
    /// Where the entity at `address` is held, loaded from `db` first if it
    /// is not. Changed through `values[index]`, it is changed where it is
    /// held: an entity copied out of the dictionary, changed and stored back
    /// had its registers copied whole at every change, as the dictionary
    /// still held the original.
    mutating func index(loading address: EntityAddress, _ db: Database) throws -> Index {
        if let index = index(forKey: address) { return index }
        self[address] = try StoredEntity.load(address.kind, address.id, db)
        return index(forKey: address)!
    }
}

extension ClientStore {
    /// Every field this device holds, with its value and clock: the state it
    /// converges on with every other replica.
    func registers() throws -> [RegisterKey: Register] {
        try read { db in
            var result: [RegisterKey: Register] = [:]
            for address in try StoredEntity.everyEntity(db) {
                for (field, register) in try StoredEntity.load(address.kind, address.id, db).registers {
                    result[RegisterKey(kind: address.kind, entity: address.id, field: field)] = register
                }
            }
            return result
        }
    }
}

extension StoredEntity {
    /// The address of every entity stored, of known kinds and others.
    static func everyEntity(_ db: Database) throws -> [EntityAddress] {
        var addresses: [EntityAddress] = []
        for kind in EntityKind.known {
            addresses += try String.fetchAll(db.cachedStatement(sql: "SELECT id FROM \(ValueTable.name(of: kind))")).map { EntityAddress(kind: kind, id: $0) }
        }
        for row in try Row.fetchAll(db.cachedStatement(sql: "SELECT kind, id FROM unknown_entities ORDER BY kind, id")) {
            guard let kind = EntityKind(rawValue: row[0]) else { continue }
            addresses.append(EntityAddress(kind: kind, id: row[1]))
        }
        return addresses
    }

    /// Whether an earlier version kept aside anything this one knows: a field
    /// of a known kind in `unknown_values`, or an entity of a known kind in
    /// `unknown_entities`. Cheap when nothing is kept aside.
    static func hasKnownFieldsKeptAside(_ db: Database) throws -> Bool {
        let kinds = EntityKind.known.map { "'\($0.rawValue)'" }.joined(separator: ", ")
        for row in try Row.fetchAll(db, sql: "SELECT DISTINCT kind, field FROM unknown_values WHERE kind IN (\(kinds))") {
            if let kind = EntityKind(rawValue: row[0]), kind.shape(of: row[1]) != nil { return true }
        }
        return try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM unknown_entities WHERE kind IN (\(kinds)))") ?? false
    }

    /// Moves the values of fields that an earlier version kept aside as
    /// unknown (a newer version wrote them) and this version knows into
    /// their columns, clocks unchanged. Runs when a store opens; the table
    /// is empty but after an upgrade that taught the version a field.
    static func adoptKnownFields(_ db: Database) throws {
        try adoptKnownKinds(db)
        let rows = try Row.fetchAll(db, sql: "SELECT kind, entity, field, value FROM unknown_values")
        for row in rows {
            guard let kind = EntityKind(rawValue: row[0]), let field = row[2] as String?, kind.shape(of: field) != nil else { continue }
            var entity = try StoredEntity.load(kind, row[1], db)
            guard let register = entity.registers[field] else { continue }
            entity.set(field, Register(value: try WireCoding.value(fromText: row[3]), timestamp: register.timestamp, vector: register.vector))
            try db.execute(
                sql: "DELETE FROM unknown_values WHERE kind = ? AND entity = ? AND field = ?", arguments: [row[0] as String, row[1] as String, field])
            try entity.save(db)
        }
    }

    /// Moves entities of a kind an earlier version did not know, and this one
    /// does, into their kind's table, clocks and values unchanged.
    private static func adoptKnownKinds(_ db: Database) throws {
        let kinds = EntityKind.known.map { "'\($0.rawValue)'" }.joined(separator: ", ")
        for row in try Row.fetchAll(db, sql: "SELECT kind, id, clocks FROM unknown_entities WHERE kind IN (\(kinds))") {
            guard let kind = EntityKind(rawValue: row[0]), let clocks = EntityClocks.decode(row[2] as Data) else { continue }
            let id: String = row[1]
            var values: [String: String] = [:]
            for value in try Row.fetchAll(db, sql: "SELECT field, value FROM unknown_values WHERE kind = ? AND entity = ?", arguments: [kind.rawValue, id]) {
                values[value[0]] = value[1]
            }
            var entity = try StoredEntity.load(kind, id, db)
            for (field, clock) in clocks {
                let kept = Register(value: try values[field].map(WireCoding.value(fromText:)) ?? .null, timestamp: clock.timestamp, vector: clock.vector)
                // The kind's table may hold the field already (a version that
                // knew the kind wrote it, and an older one kept this aside).
                entity.set(field, entity.registers[field].map { Register.merge($0, kept).merged } ?? kept)
            }
            try db.execute(sql: "DELETE FROM unknown_entities WHERE kind = ? AND id = ?", arguments: [kind.rawValue, id])
            // Fields the kind knows move into their columns; the others stay.
            for field in values.keys where kind.shape(of: field) != nil {
                try db.execute(sql: "DELETE FROM unknown_values WHERE kind = ? AND entity = ? AND field = ?", arguments: [kind.rawValue, id, field])
            }
            try entity.save(db)
        }
    }
}
