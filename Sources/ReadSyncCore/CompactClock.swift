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
        let bytes = Array(bytes)
        guard bytes.count > 12, let node = NodeID(String(decoding: bytes[12...], as: UTF8.self)) else { return nil }
        let physical = Int64(bitPattern: Compact.readBigEndian(bytes[0..<8]))
        guard physical >= 0 else { return nil }
        self.init(physical: physical, counter: UInt32(Compact.readBigEndian(bytes[8..<12])), node: node)
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
        let bytes = Array(bytes)
        var entries: [Entry] = []
        var index = 0
        while index < bytes.count {
            let length = Int(bytes[index])
            index += 1
            guard length > 0, index + length < bytes.count,
                let node = NodeID(String(decoding: bytes[index..<index + length], as: UTF8.self))
            else { return nil }
            index += length
            guard let counter = LEB128.read(bytes, at: &index) else { return nil }
            entries.append(Entry(node: node, counter: counter))
        }
        self.init(firstOfEach: entries)
    }
}

/// Unsigned LEB128 varints: seven bits a byte, lowest first, the high bit
/// set on every byte but the last.
public enum LEB128 {
    public static func append(_ value: UInt64, to bytes: inout [UInt8]) {
        var value = value
        repeat {
            let low = UInt8(value & 0x7f)
            value >>= 7
            bytes.append(value == 0 ? low : low | 0x80)
        } while value != 0
    }

    /// The varint at `index`, which moves past it; nil when it is cut short
    /// or longer than 64 bits.
    public static func read(_ bytes: [UInt8], at index: inout Int) -> UInt64? {
        var value: UInt64 = 0, shift: UInt64 = 0
        while index < bytes.count, shift < 64 {
            let byte = bytes[index]
            index += 1
            value |= UInt64(byte & 0x7f) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
        }
        return nil
    }
}

/// Reads bytes front to back for the compact decoders; nil past the end.
public struct ByteReader {
    private let bytes: [UInt8]
    private var index = 0

    public init(_ bytes: some Collection<UInt8>) { self.bytes = Array(bytes) }

    public var isAtEnd: Bool { index >= bytes.count }

    /// The next `count` bytes; nil (and nothing read) when fewer are left.
    public mutating func take(_ count: Int) -> ArraySlice<UInt8>? {
        guard count >= 0, index + count <= bytes.count else { return nil }
        defer { index += count }
        return bytes[index..<index + count]
    }

    public mutating func byte() -> UInt8? { take(1)?.first }

    /// A `LEB128` varint.
    public mutating func varint() -> UInt64? { LEB128.read(bytes, at: &index) }
}

private enum Compact {
    static func appendBigEndian(_ value: UInt64, width: Int, to bytes: inout [UInt8]) {
        for shift in stride(from: (width - 1) * 8, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }

    static func readBigEndian(_ bytes: ArraySlice<UInt8>) -> UInt64 {
        bytes.reduce(0) { $0 << 8 | UInt64($1) }
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

    /// `encode` of (field, clock) pairs, one per field in any order. Each
    /// part is written straight into the blob, its length filled in after:
    /// a device writes the blob whenever it writes an entity.
    public static func encode(_ clocks: [(field: String, clock: Clock)]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(clocks.count * 64)
        for (field, (timestamp, vector)) in clocks.sorted(by: { $0.field < $1.field }) {
            bytes.append(UInt8(field.utf8.count))
            bytes += field.utf8
            let stampLength = bytes.count
            bytes.append(0)
            timestamp.appendCompact(to: &bytes)
            bytes[stampLength] = UInt8(bytes.count - stampLength - 1)
            let seenLength = bytes.count
            bytes += [0, 0]
            vector.appendCompact(to: &bytes)
            let seen = bytes.count - seenLength - 2
            bytes[seenLength] = UInt8(seen >> 8)
            bytes[seenLength + 1] = UInt8(seen & 0xff)
        }
        return bytes
    }

    /// Reads `encode`'s blob; nil for anything else.
    public static func decode(_ blob: some Collection<UInt8>) -> [String: Clock]? {
        var reader = ByteReader(blob)
        var clocks: [String: Clock] = [:]
        while !reader.isAtEnd {
            guard let nameLength = reader.byte(), let name = reader.take(Int(nameLength)),
                let stampLength = reader.byte(), let stamp = reader.take(Int(stampLength)).flatMap({ HLCTimestamp(compact: $0) }),
                let seenLength = reader.take(2), case let length = Int(seenLength.first!) << 8 | Int(seenLength.last!),
                let vector = reader.take(length).flatMap({ VersionVector(compact: $0) })
            else { return nil }
            clocks[String(decoding: name, as: UTF8.self)] = (stamp, vector)
        }
        return clocks
    }
}
