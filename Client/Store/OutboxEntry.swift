import ReadSyncCore

/// One entity's fields waiting in the outbox, in the order first written,
/// each with what re-stamping needs to know of it and never its value (a
/// push reads the current value). Stored as one blob in the entity's outbox
/// row (`encoded`), so a write to five fields of an article marks one row.
struct OutboxEntry: Equatable {
    struct Mark: Equatable {
        /// The largest timestamp of an earlier version of the field that may
        /// have reached the server (sent, its answer lost): re-stamping after
        /// a clock error stays above it.
        var floor: HLCTimestamp?
        /// The writer's count in the field's vector before its first waiting
        /// write; nil for a field that waits only to be sent again (to a
        /// server that lost it or is new), or since before bases were kept.
        var base: UInt64?
    }

    private(set) var fields: [(name: String, mark: Mark)] = []

    init() {}

    var isEmpty: Bool { fields.isEmpty }

    func mark(of field: String) -> Mark? { fields.first { $0.name == field }?.mark }

    /// The field was written here. When it was already waiting, the version
    /// it replaces (stamped `replaced`) may have reached the server in a push
    /// whose answer was lost: its timestamp becomes the floor. When it was not
    /// (or waits only to be sent again), `base` is kept with it.
    mutating func markWritten(_ field: String, replacing replaced: HLCTimestamp?, base: UInt64) {
        guard let index = fields.firstIndex(where: { $0.name == field }) else {
            fields.append((field, Mark(floor: nil, base: base)))
            return
        }
        if let replaced { fields[index].mark.floor = max(fields[index].mark.floor ?? replaced, replaced) }
        if fields[index].mark.base == nil { fields[index].mark.base = base }
    }

    /// Adds a field as the earlier outbox kept it (`v9-outbox-per-entity`).
    mutating func append(_ field: String, floor: HLCTimestamp?, base: UInt64?) {
        fields.append((field, Mark(floor: floor, base: base)))
    }

    /// The field waits to be sent again (it may be missing on the server);
    /// a field already waiting keeps its mark.
    mutating func queueAgain(_ field: String) {
        if mark(of: field) == nil { fields.append((field, Mark())) }
    }

    /// The field leaves the outbox (the server acknowledged its current version).
    mutating func remove(_ field: String) {
        fields.removeAll { $0.name == field }
    }

    /// Changes the field's base, when it has one (or when `force`).
    mutating func setBase(of field: String, to base: UInt64?, force: Bool = false) {
        guard let index = fields.firstIndex(where: { $0.name == field }) else { return }
        if force || fields[index].mark.base != nil { fields[index].mark.base = base }
    }

    static func == (left: OutboxEntry, right: OutboxEntry) -> Bool {
        left.fields.map(\.name) == right.fields.map(\.name) && left.fields.map(\.mark) == right.fields.map(\.mark)
    }

    /// For each field in order: the name's length (one byte) and bytes; a
    /// byte of flags (1: a floor follows, 2: a base follows); the floor as
    /// its `compact` length (one byte) and bytes; the base as a LEB128 varint.
    var encoded: [UInt8] {
        var bytes: [UInt8] = []
        for (name, mark) in fields {
            let nameBytes = Array(name.utf8)
            bytes.append(UInt8(nameBytes.count))
            bytes += nameBytes
            bytes.append((mark.floor == nil ? 0 : 1) | (mark.base == nil ? 0 : 2))
            if let floor = mark.floor?.compact {
                bytes.append(UInt8(floor.count))
                bytes += floor
            }
            if let base = mark.base { LEB128.append(base, to: &bytes) }
        }
        return bytes
    }

    /// Reads `encoded`; nil for anything else.
    init?(encoded blob: some Collection<UInt8>) {
        let read = ByteReader.reading(blob) { reader -> [(name: String, mark: Mark)]? in
            var fields: [(name: String, mark: Mark)] = []
            while reader.remaining > 0 {
                guard let nameLength = reader.byte(), let name = reader.string(length: Int(nameLength)), let flags = reader.byte(), flags & ~3 == 0
                else { return nil }
                var mark = Mark()
                if flags & 1 != 0 {
                    guard let length = reader.byte(), let floor = reader.timestamp(length: Int(length)) else { return nil }
                    mark.floor = floor
                }
                if flags & 2 != 0 {
                    guard let base = reader.varint() else { return nil }
                    mark.base = base
                }
                fields.append((name, mark))
            }
            return fields
        }
        guard let read else { return nil }
        fields = read
    }
}
