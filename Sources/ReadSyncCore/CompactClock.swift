/// Binary forms of a register's clock (its timestamp and version vector), for
/// storage beside every field: a third of the size of the text forms, and no
/// JSON to parse when a register is merged.
extension HLCTimestamp {
    /// 8 bytes of physical time and 4 of counter, big-endian, then the node
    /// id's bytes. Byte order is timestamp order, like `encoded`'s, so a
    /// database compares and indexes it as a plain blob.
    public var compact: [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(12 + node.rawValue.utf8.count)
        appendCompact(to: &bytes)
        return bytes
    }

    /// Appends `compact` to `bytes`.
    public func appendCompact(to bytes: inout [UInt8]) {
        Compact.appendBigEndian(UInt64(bitPattern: physical), width: 8, to: &bytes)
        Compact.appendBigEndian(UInt64(counter), width: 4, to: &bytes)
        bytes.append(contentsOf: node.rawValue.utf8)
    }

    /// Reads `compact`; nil for anything else.
    public init?(compact bytes: some Collection<UInt8>) {
        guard let stamp = ByteReader.reading(bytes, { $0.timestamp(length: $0.remaining) }) else { return nil }
        self = stamp
    }
}

extension VersionVector {
    /// For each node in id order: the id's length (one byte), its bytes, and
    /// the counter as a LEB128 varint.
    public var compact: [UInt8] {
        var bytes: [UInt8] = []
        appendCompact(to: &bytes)
        return bytes
    }

    /// Appends `compact` to `bytes`.
    public func appendCompact(to bytes: inout [UInt8]) {
        for entry in entries {
            let id = entry.node.rawValue.utf8
            bytes.append(UInt8(id.count))
            bytes.append(contentsOf: id)
            LEB128.append(entry.counter, to: &bytes)
        }
    }

    /// Reads `compact`; nil for anything else.
    public init?(compact bytes: some Collection<UInt8>) {
        guard let vector = ByteReader.reading(bytes, { $0.vector(length: $0.remaining) }) else { return nil }
        self = vector
    }
}

/// Unsigned LEB128 varints: seven bits a byte, lowest first, the high bit
/// set on every byte but the last (read by `ByteReader.varint`).
public enum LEB128 {
    public static func append(_ value: UInt64, to bytes: inout [UInt8]) {
        var value = value
        repeat {
            let low = UInt8(value & 0x7f)
            value >>= 7
            bytes.append(value == 0 ? low : low | 0x80)
        } while value != 0
    }
}

private enum Compact {
    static func appendBigEndian(_ value: UInt64, width: Int, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0[(8 - width)...]) }
    }
}

/// The clocks of one entity's fields as one blob, stored in the entity's row
/// beside its values: for each field in name order, the name's length (one
/// byte) and bytes, the timestamp's `compact` length (one byte) and bytes,
/// the vector's `compact` length (two bytes, big-endian) and bytes.
public enum EntityClocks {
    public typealias Clock = (timestamp: HLCTimestamp, vector: VersionVector)

    public static func encode(_ clocks: [String: Clock]) -> [UInt8] {
        encode(clocks.map { (field: $0.key, clock: $0.value) })
    }

    /// `encode` of (field, clock) pairs, one per field in any order.
    public static func encode(_ clocks: [(field: String, clock: Clock)]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(clocks.count * 64)
        for index in clocks.indices.sorted(by: { clocks[$0].field < clocks[$1].field }) {
            append(clocks[index].field, clocks[index].clock.timestamp, clocks[index].clock.vector, to: &bytes)
        }
        return bytes
    }

    /// `encode` of registers' clocks: a device writes the blob whenever it
    /// writes an entity. What is sorted by field name is the registers'
    /// indices in the dictionary, not (field, clock) pairs copied out of it:
    /// moving a pair retained and released the strings and vectors it held,
    /// and an article's clocks took twice as long to encode.
    public static func encode(_ registers: [String: Register]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(registers.count * 64)
        for index in registers.indices.sorted(by: { registers[$0].key < registers[$1].key }) {
            let (field, register) = registers[index]
            append(field, register.timestamp, register.vector, to: &bytes)
        }
        return bytes
    }

    /// Appends one field's part of the blob, each length filled in after
    /// the part it counts is written.
    private static func append(_ field: String, _ timestamp: HLCTimestamp, _ vector: VersionVector, to bytes: inout [UInt8]) {
        bytes.append(UInt8(field.utf8.count))
        bytes += field.utf8
        let stampLength = bytes.count
        bytes.append(0)
        timestamp.appendCompact(to: &bytes)
        bytes[stampLength] = UInt8(bytes.count - stampLength - 1)
        let seenLength = bytes.count
        bytes.append(0)
        bytes.append(0)
        vector.appendCompact(to: &bytes)
        let seen = bytes.count - seenLength - 2
        bytes[seenLength] = UInt8(seen >> 8)
        bytes[seenLength + 1] = UInt8(seen & 0xff)
    }

    /// Reads `encode`'s blob; nil for anything else.
    public static func decode(_ blob: some Collection<UInt8>) -> [String: Clock]? {
        guard let fields = decodeFields(blob) else { return nil }
        var clocks: [String: Clock] = [:]
        clocks.reserveCapacity(fields.count)
        for (field, clock) in fields { clocks[field] = clock }
        return clocks
    }

    /// `decode`'s fields in the blob's order (a device loads an entity's
    /// clocks every time it reads or writes the entity, and puts them
    /// straight into registers of its own).
    public static func decodeFields(_ blob: some Collection<UInt8>) -> [(field: String, clock: Clock)]? {
        ByteReader.reading(blob) { reader in
            var fields: [(field: String, clock: Clock)] = []
            // A field takes 50 bytes or more (its name, 12 + 16, 2 + 18).
            fields.reserveCapacity(reader.remaining / 50 + 1)
            while reader.remaining > 0 {
                guard let nameLength = reader.byte(), let name = reader.string(length: Int(nameLength)),
                    let stampLength = reader.byte(), let stamp = reader.timestamp(length: Int(stampLength)),
                    let high = reader.byte(), let low = reader.byte(),
                    let vector = reader.vector(length: Int(high) << 8 | Int(low))
                else { return nil }
                fields.append((name, (stamp, vector)))
            }
            return fields
        }
    }
}

/// Reads the compact forms front to back, in place: from the bytes'
/// contiguous storage, which lives as long as `reading`'s body runs.
///
/// Node ids are read once each: the fields of an entity name the same one
/// or two nodes over and over, and a 16-character id does not fit in a
/// small string, so each one read was an allocation of its own (with an
/// array copied out of the blob for every timestamp and vector, decoding
/// was a fifth of loading an entity).
public struct ByteReader {
    private let bytes: UnsafeRawBufferPointer
    private var index = 0
    /// The ids read so far, with their bytes in `bytes`.
    private var nodes: [(bytes: UnsafeRawBufferPointer, node: NodeID)] = []

    /// `body`'s result over `bytes`, nil unless it read them all.
    public static func reading<T>(_ bytes: some Collection<UInt8>, _ body: (inout ByteReader) -> T?) -> T? {
        func read(_ buffer: UnsafeRawBufferPointer) -> T? {
            var reader = ByteReader(bytes: buffer)
            guard let result = body(&reader), reader.remaining == 0 else { return nil }
            return result
        }
        if let result = bytes.withContiguousStorageIfAvailable({ read(UnsafeRawBufferPointer($0)) }) { return result }
        return Array(bytes).withUnsafeBytes(read)
    }

    private init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    public var remaining: Int { bytes.count - index }

    public mutating func byte() -> UInt8? {
        guard index < bytes.count else { return nil }
        defer { index += 1 }
        return bytes[index]
    }

    private mutating func take(_ count: Int) -> UnsafeRawBufferPointer? {
        guard count >= 0, count <= remaining else { return nil }
        defer { index += count }
        return UnsafeRawBufferPointer(rebasing: bytes[index..<index + count])
    }

    public mutating func string(length: Int) -> String? {
        take(length).map { String(decoding: $0, as: UTF8.self) }
    }

    private mutating func bigEndian(_ count: Int) -> UInt64? {
        take(count).map { $0.reduce(0) { $0 << 8 | UInt64($1) } }
    }

    public mutating func varint() -> UInt64? {
        var value: UInt64 = 0, shift: UInt64 = 0
        while shift < 64, let byte = byte() {
            value |= UInt64(byte & 0x7f) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
        }
        return nil
    }

    private mutating func node(length: Int) -> NodeID? {
        guard let id = take(length) else { return nil }
        for known in nodes where Self.equal(known.bytes, id) { return known.node }
        guard let node = NodeID(String(decoding: id, as: UTF8.self)) else { return nil }
        nodes.append((id, node))
        return node
    }

    /// Whether `a` and `b` hold the same bytes, compared eight at a time.
    private static func equal(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        guard a.count == b.count else { return false }
        var offset = 0
        while offset + 8 <= a.count {
            guard a.loadUnaligned(fromByteOffset: offset, as: UInt64.self) == b.loadUnaligned(fromByteOffset: offset, as: UInt64.self) else {
                return false
            }
            offset += 8
        }
        while offset < a.count {
            guard a[offset] == b[offset] else { return false }
            offset += 1
        }
        return true
    }

    /// `HLCTimestamp.compact` of `length` bytes.
    public mutating func timestamp(length: Int) -> HLCTimestamp? {
        guard length > 12, length <= remaining, let physical = bigEndian(8), let counter = bigEndian(4),
            Int64(bitPattern: physical) >= 0, let node = node(length: length - 12)
        else { return nil }
        return HLCTimestamp(physical: Int64(bitPattern: physical), counter: UInt32(counter), node: node)
    }

    /// `VersionVector.compact` of `length` bytes.
    public mutating func vector(length: Int) -> VersionVector? {
        guard length <= remaining else { return nil }
        let end = index + length
        var entries: [VersionVector.Entry] = []
        // An entry of a 16-character id takes 18 bytes or more.
        entries.reserveCapacity(max(1, length / 18))
        while index < end {
            // An id of at least one byte, then at least a byte of counter.
            guard let idLength = byte(), idLength > 0, index + Int(idLength) < end,
                let node = node(length: Int(idLength)), let counter = varint(), index <= end
            else { return nil }
            entries.append(VersionVector.Entry(node: node, counter: counter))
        }
        return VersionVector(firstOfEach: entries)
    }
}
