import Foundation
import GRDB
import ReadSyncCore

/// One entity as a device stores it: the value of each field in its kind's
/// value table (or in `unknown_values`, for a field this version does not
/// know) and each written field's clock in `field_clocks`. Loaded whole,
/// changed in memory, saved with one row write, however many fields changed
/// (a row holding an article body is rewritten whole by any update).
struct StoredEntity {
    let kind: EntityKind
    let id: String
    /// Every field ever written, by name.
    private(set) var registers: [String: Register]
    /// The fields changed since loading.
    private var changed: Set<String> = []
    /// A note's article as loaded: the search entries of both its old and
    /// its new article change with it.
    private let loadedArticleID: String?

    static func load(_ kind: EntityKind, _ id: String, _ db: Database) throws -> StoredEntity {
        var clocks: [String: (HLCTimestamp, VersionVector)] = [:]
        let rows = try Row.fetchCursor(db.cachedStatement(sql: "SELECT field, timestamp, vector FROM field_clocks WHERE kind = ? AND entity = ?"),
                                       arguments: [kind.rawValue, id])
        while let row = try rows.next() {
            let field: String = row[0]
            guard let timestamp = HLCTimestamp(compact: row[1] as Data), let vector = VersionVector(compact: row[2] as Data) else {
                throw DatabaseError(resultCode: .SQLITE_CORRUPT, message: "invalid clock of \(kind.rawValue).\(field)")
            }
            clocks[field] = (timestamp, vector)
        }
        var values: [String: FieldValue] = [:]
        if !clocks.isEmpty {
            let columns = ValueTable.columns(of: kind)
            let found = try Row.fetchCursor(db.cachedStatement(sql: "SELECT \(columns.joined(separator: ", ")) FROM \(ValueTable.name(of: kind)) WHERE id = ?"),
                                            arguments: [id])
            // The cursor resets the statement when released: read the row before.
            try withExtendedLifetime(found) {
                if let row = try found.next() {
                    for (index, column) in columns.enumerated() where clocks[column] != nil {
                        values[column] = try FieldValue(row[index], shape: kind.shape(of: column)!)
                    }
                }
            }
            if clocks.keys.contains(where: { kind.shape(of: $0) == nil }) {
                let unknown = try Row.fetchCursor(db.cachedStatement(sql: "SELECT field, value FROM unknown_values WHERE kind = ? AND entity = ?"),
                                                  arguments: [kind.rawValue, id])
                while let row = try unknown.next() { values[row[0]] = try WireCoding.value(fromText: row[1]) }
            }
        }
        var registers: [String: Register] = [:]
        for (field, (timestamp, vector)) in clocks {
            registers[field] = Register(value: values[field] ?? .null, timestamp: timestamp, vector: vector)
        }
        return StoredEntity(kind: kind, id: id, registers: registers,
                            loadedArticleID: kind == .note ? values[NoteField.articleID.rawValue]?.text : nil)
    }

    private init(kind: EntityKind, id: String, registers: [String: Register], loadedArticleID: String?) {
        self.kind = kind
        self.id = id
        self.registers = registers
        self.loadedArticleID = loadedArticleID
    }

    /// The value of each written field.
    var values: [String: FieldValue] { registers.mapValues(\.value) }

    var hasChanges: Bool { !changed.isEmpty }

    mutating func set(_ field: String, _ register: Register) {
        registers[field] = register
        changed.insert(field)
    }

    /// Writes what changed: the value row (all known columns), the changed
    /// clocks and unknown values. The search entries this entity feeds are
    /// taken out of the index first and queued (`SearchIndex`).
    mutating func save(_ db: Database) throws {
        guard !changed.isEmpty else { return }
        let columns = ValueTable.columns(of: kind)
        let valuesChanged = changed.contains { kind.shape(of: $0) != nil }
        if valuesChanged {
            try unindexWhatThisFeeds(db)
            try writeRow(columns, db)
        }
        for field in changed {
            let register = registers[field]!
            try db.cachedStatement(sql: """
                INSERT INTO field_clocks (kind, entity, field, timestamp, vector) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (kind, entity, field) DO UPDATE SET timestamp = excluded.timestamp, vector = excluded.vector
                """).execute(arguments: [kind.rawValue, id, field, register.timestamp.stored, register.vector.stored])
            if kind.shape(of: field) == nil {
                try db.cachedStatement(sql: """
                    INSERT INTO unknown_values (kind, entity, field, value) VALUES (?, ?, ?, ?)
                    ON CONFLICT (kind, entity, field) DO UPDATE SET value = excluded.value
                    """).execute(arguments: [kind.rawValue, id, field, try WireCoding.text(register.value)])
            }
        }
        changed = []
    }

    private func writeRow(_ columns: [String], _ db: Database) throws {
        var names = ["id"] + columns
        var arguments: [DatabaseValue] = [id.databaseValue] + columns.map { registers[$0]?.value.databaseValue ?? .null }
        switch kind {
        case .article:
            names.append("complete")
            arguments.append(([ArticleField.title, .addedAt, .deleted].allSatisfy { registers[$0.rawValue] != nil }).databaseValue)
        case .tag:
            guard let (articleID, name) = TagEntity.parts(of: id) else { return }
            names += ["article_id", "name"]
            arguments += [articleID.databaseValue, name.databaseValue]
        case .readState, .note: break
        }
        let updates = names.dropFirst().map { "\($0) = excluded.\($0)" }.joined(separator: ", ")
        try db.cachedStatement(sql: """
            INSERT INTO \(ValueTable.name(of: kind)) (\(names.joined(separator: ", "))) VALUES (\(databaseQuestionMarks(count: names.count)))
            ON CONFLICT (id) DO UPDATE SET \(updates)
            """).execute(arguments: StatementArguments(arguments))
    }

    private func unindexWhatThisFeeds(_ db: Database) throws {
        switch kind {
        case .article:
            let searchable: Set<String> = [ArticleField.url.rawValue, ArticleField.title.rawValue, ArticleField.content.rawValue,
                                           ArticleField.deleted.rawValue, ArticleField.addedAt.rawValue]
            if !changed.isDisjoint(with: searchable) { try SearchIndex.unindex(articleID: id, db) }
        case .note:
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
            let entities = try Row.fetchAll(db, sql: "SELECT DISTINCT kind, entity FROM field_clocks")
            for row in entities {
                guard let kind = EntityKind(rawValue: row[0]) else { continue }
                let entity = try StoredEntity.load(kind, row[1], db)
                for (field, register) in entity.registers { result[RegisterKey(kind: kind, entity: entity.id, field: field)] = register }
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
