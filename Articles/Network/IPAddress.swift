#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An IPv4 or IPv6 address: what libcurl connects to, and what
/// `AddressPolicy` decides on.
public struct IPAddress: Hashable, Sendable, CustomStringConvertible {
    /// 4 bytes for IPv4, 16 for IPv6, in network order.
    public let bytes: [UInt8]

    /// Parses the usual text forms (`127.0.0.1`, `::1`, `::ffff:10.0.0.1`);
    /// a zone (`fe80::1%eth0`) is dropped. Nil for anything else, names
    /// included: `localhost` is not an address.
    public init?(_ text: String) {
        let address = String(text.prefix(while: { $0 != "%" }))
        var buffer = [UInt8](repeating: 0, count: 16)
        if inet_pton(AF_INET, address, &buffer) == 1 {
            bytes = Array(buffer.prefix(4))
        } else if inet_pton(AF_INET6, address, &buffer) == 1 {
            bytes = buffer
        } else {
            return nil
        }
    }

    /// An address from its 4 or 16 bytes in network order.
    package init?(bytes: [UInt8]) {
        guard bytes.count == 4 || bytes.count == 16 else { return nil }
        self.bytes = bytes
    }

    public var isIPv4: Bool { bytes.count == 4 }

    /// The canonical text form (`::1`, not `0:0:0:0:0:0:0:1`).
    public var description: String {
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        _ = inet_ntop(isIPv4 ? AF_INET : AF_INET6, bytes, &text, socklen_t(text.count))
        return String(decoding: text.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The IPv4 address of an IPv4-mapped IPv6 one (`::ffff:10.0.0.1`, what
    /// a dual-stack socket reports for an IPv4 peer); else this one.
    public var unmapped: IPAddress {
        guard !isIPv4, bytes.prefix(12).elementsEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF]) else { return self }
        return IPAddress(bytes: Array(bytes.suffix(4)))!
    }

    /// What kind of address this is: public, or which reserved range it is in.
    public var addressClass: IPAddressClass {
        if !isIPv4 {
            // IPv6 addresses that carry an IPv4 one reach that one, so they
            // are what it is: IPv4-mapped, NAT64 (64:ff9b::/96) and 6to4.
            if let carried = IPv6Ranges.carriedIPv4(bytes) { return carried.addressClass }
            for range in IPv6Ranges.special where range.contains(bytes) { return range.addressClass }
            // Only 2000::/3 is handed out for global unicast; the rest is
            // reserved, or one of the ranges above.
            return bytes[0] & 0xE0 == 0x20 ? .public : .reserved
        }
        for range in IPv4Ranges.special where range.contains(bytes) { return range.addressClass }
        return .public
    }
}

/// What kind of address an IP address is (RFC 6890's special-purpose
/// registries, IANA's IPv6 allocations): `public`, or why it is not.
public enum IPAddressClass: Sendable, Hashable, CustomStringConvertible {
    /// Reachable on the internet.
    case `public`
    /// 0.0.0.0/8, `::`: "this host", which connects to the machine itself.
    case unspecified
    /// 127.0.0.0/8, `::1`: the machine itself.
    case loopback
    /// 10/8, 172.16/12, 192.168/16, fc00::/7 (unique local), fec0::/10
    /// (old site-local), 64:ff9b:1::/48 (local NAT64): a private network.
    case `private`
    /// 100.64.0.0/10: carrier-grade NAT, a provider's private network.
    case sharedAddressSpace
    /// 169.254/16 (where cloud servers keep their credentials), fe80::/10:
    /// the local link.
    case linkLocal
    /// 224.0.0.0/4, ff00::/8.
    case multicast
    /// 255.255.255.255.
    case broadcast
    /// 192.0.2/24, 198.51.100/24, 203.0.113/24, 2001:db8::/32, 3fff::/20:
    /// examples in documentation, routed nowhere.
    case documentation
    /// Set aside and not public: 240/4, 192.0.0/24, 198.18/15 (benchmarks),
    /// 192.88.99/24, 2001::/23 (protocol assignments such as Teredo),
    /// 100::/64, 5f00::/16, and IPv6 outside 2000::/3.
    case reserved

    /// With an article, for a sentence: "127.0.0.1, a loopback address".
    public var description: String {
        switch self {
        case .public: return "a public address"
        case .unspecified: return "an unspecified address"
        case .loopback: return "a loopback address"
        case .private: return "a private-network address"
        case .sharedAddressSpace: return "a carrier-grade NAT address (a provider's private network)"
        case .linkLocal: return "a link-local address"
        case .multicast: return "a multicast address"
        case .broadcast: return "the broadcast address"
        case .documentation: return "a documentation address"
        case .reserved: return "a reserved address"
        }
    }
}

/// A block of addresses (`10.0.0.0/8`) and the class of its addresses.
private struct AddressRange {
    let prefix: [UInt8]
    let bits: Int
    let addressClass: IPAddressClass

    init(_ prefix: String, _ bits: Int, _ addressClass: IPAddressClass) {
        self.prefix = IPAddress(prefix)!.bytes
        self.bits = bits
        self.addressClass = addressClass
    }

    func contains(_ bytes: [UInt8]) -> Bool {
        guard bytes.count == prefix.count else { return false }
        let whole = bits / 8, rest = bits % 8
        guard bytes.prefix(whole).elementsEqual(prefix.prefix(whole)) else { return false }
        guard rest > 0 else { return true }
        let mask = UInt8(0xFF) << (8 - rest)
        return bytes[whole] & mask == prefix[whole] & mask
    }
}

private enum IPv4Ranges {
    /// First match wins: 255.255.255.255 before 240/4.
    static let special: [AddressRange] = [
        AddressRange("0.0.0.0", 8, .unspecified),
        AddressRange("10.0.0.0", 8, .private),
        AddressRange("100.64.0.0", 10, .sharedAddressSpace),
        AddressRange("127.0.0.0", 8, .loopback),
        AddressRange("169.254.0.0", 16, .linkLocal),
        AddressRange("172.16.0.0", 12, .private),
        AddressRange("192.0.0.0", 24, .reserved),
        AddressRange("192.0.2.0", 24, .documentation),
        AddressRange("192.88.99.0", 24, .reserved),
        AddressRange("192.168.0.0", 16, .private),
        AddressRange("198.18.0.0", 15, .reserved),
        AddressRange("198.51.100.0", 24, .documentation),
        AddressRange("203.0.113.0", 24, .documentation),
        AddressRange("224.0.0.0", 4, .multicast),
        AddressRange("255.255.255.255", 32, .broadcast),
        AddressRange("240.0.0.0", 4, .reserved),
    ]
}

private enum IPv6Ranges {
    static let special: [AddressRange] = [
        AddressRange("::", 128, .unspecified),
        AddressRange("::1", 128, .loopback),
        AddressRange("::", 96, .reserved),  // IPv4-compatible, deprecated
        AddressRange("64:ff9b:1::", 48, .private),
        AddressRange("100::", 64, .reserved),
        AddressRange("2001::", 23, .reserved),
        AddressRange("2001:db8::", 32, .documentation),
        AddressRange("3fff::", 20, .documentation),
        AddressRange("5f00::", 16, .reserved),
        AddressRange("fc00::", 7, .private),
        AddressRange("fe80::", 10, .linkLocal),
        AddressRange("fec0::", 10, .private),
        AddressRange("ff00::", 8, .multicast),
    ]

    private static let mapped = AddressRange("::ffff:0:0", 96, .reserved)
    private static let nat64 = AddressRange("64:ff9b::", 96, .reserved)
    private static let sixToFour = AddressRange("2002::", 16, .reserved)

    /// The IPv4 address an IPv6 one carries and reaches, if any.
    static func carriedIPv4(_ bytes: [UInt8]) -> IPAddress? {
        if mapped.contains(bytes) || nat64.contains(bytes) { return IPAddress(bytes: Array(bytes[12..<16])) }
        if sixToFour.contains(bytes) { return IPAddress(bytes: Array(bytes[2..<6])) }
        return nil
    }
}
