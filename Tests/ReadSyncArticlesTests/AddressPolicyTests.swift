import ReadSyncArticles
import Testing

/// Which addresses a server may fetch from: public ones only, unless allowed.
struct AddressPolicyTests {
    static let refused: [(String, IPAddressClass)] = [
        ("10.0.0.1", .private),
        ("172.16.0.1", .private),
        ("172.31.255.255", .private),
        ("192.168.1.1", .private),
        ("127.0.0.1", .loopback),
        ("127.0.0.2", .loopback),
        ("169.254.169.254", .linkLocal),
        ("100.64.0.1", .sharedAddressSpace),
        ("100.127.255.255", .sharedAddressSpace),
        ("0.0.0.0", .unspecified),
        ("0.1.2.3", .unspecified),
        ("224.0.0.1", .multicast),
        ("239.255.255.250", .multicast),
        ("255.255.255.255", .broadcast),
        ("240.0.0.1", .reserved),
        ("192.0.0.8", .reserved),
        ("198.18.0.1", .reserved),
        ("192.0.2.1", .documentation),
        ("203.0.113.7", .documentation),
        ("::", .unspecified),
        ("::1", .loopback),
        ("fe80::1", .linkLocal),
        ("fe80::1%eth0", .linkLocal),
        ("fc00::1", .private),
        ("fd12:3456:789a::1", .private),
        ("fec0::1", .private),
        ("ff02::1", .multicast),
        ("2001:db8::1", .documentation),
        ("2001::1", .reserved),  // Teredo
        ("::127.0.0.1", .reserved),  // IPv4-compatible, deprecated
        ("100::1", .reserved),
        ("4000::1", .reserved),  // outside 2000::/3
        // IPv6 addresses carrying an IPv4 one are what it is.
        ("::ffff:127.0.0.1", .loopback),
        ("::ffff:10.0.0.1", .private),
        ("::ffff:169.254.169.254", .linkLocal),
        ("::ffff:0.0.0.0", .unspecified),
        ("64:ff9b::7f00:1", .loopback),
        ("64:ff9b::a00:1", .private),
        ("64:ff9b:1::1", .private),
        ("2002:7f00:1::", .loopback),
        ("2002:c0a8:101::1", .private),
    ]

    @Test(arguments: refused)
    func nonPublicAddressesAreRefused(_ example: (address: String, expected: IPAddressClass)) throws {
        let address = try #require(IPAddress(example.address))
        #expect(address.addressClass == example.expected, "\(example.address)")
        #expect(AddressPolicy.publicOnly.refusal(of: address) == example.expected, "\(example.address)")
        #expect(AddressPolicy.any.refusal(of: address) == nil, "the client's policy refuses nothing")
    }

    @Test(arguments: [
        "93.184.216.34", "8.8.8.8", "1.1.1.1", "2606:4700::1111", "2a00:1450:4001:82b::200e", "::ffff:8.8.8.8", "64:ff9b::808:808",
        // Just outside the private blocks.
        "9.255.255.255", "11.0.0.0", "172.15.255.255", "172.32.0.0", "192.167.255.255", "192.169.0.0",
        "100.63.255.255", "100.128.0.0", "126.255.255.255", "128.0.0.0", "169.253.255.255", "169.255.0.0",
        "223.255.255.255", "1.0.0.0", "2001:200::1", "3ffe::1",
    ])
    func publicAddressesAreAllowed(_ text: String) throws {
        let address = try #require(IPAddress(text))
        #expect(address.addressClass == .public, "\(text)")
        #expect(AddressPolicy.publicOnly.refusal(of: address) == nil, "\(text)")
    }

    @Test func allowingLetsExactlyTheGivenAddressesThrough() {
        let policy = AddressPolicy.publicOnly(allowing: [ip("127.0.0.1")])
        #expect(policy.refusal(of: ip("127.0.0.1")) == nil)
        #expect(policy.refusal(of: ip("::ffff:127.0.0.1")) == nil, "a dual-stack socket's view of the same address")
        #expect(policy.refusal(of: ip("127.0.0.2")) == .loopback)
        #expect(policy.refusal(of: ip("::1")) == .loopback)
        #expect(policy.refusal(of: ip("10.0.0.1")) == .private)
        #expect(policy.refusal(of: ip("8.8.8.8")) == nil)
        #expect(AddressPolicy.publicOnly(allowing: [ip("::ffff:10.1.2.3")]).refusal(of: ip("10.1.2.3")) == nil)
    }

    @Test func onlyAddressesParse() {
        for text in ["localhost", "example.com", "", "127.1", "1.2.3.4.5", "256.0.0.1", "::g", "1.2.3.4:80", "[::1]"] {
            #expect(IPAddress(text) == nil, "\(text)")
        }
    }

    @Test func addressesPrintInCanonicalForm() {
        #expect(IPAddress("0:0:0:0:0:0:0:1")?.description == "::1")
        #expect(IPAddress("FE80::0001%eth0")?.description == "fe80::1")
        #expect(IPAddress("::ffff:7f00:1")?.description == "::ffff:127.0.0.1")
        #expect(IPAddress("169.254.169.254")?.description == "169.254.169.254")
        #expect(IPAddress("::ffff:10.0.0.1")?.unmapped == ip("10.0.0.1"))
        #expect(IPAddress("10.0.0.1")?.unmapped == ip("10.0.0.1"))
    }

    @Test func classesReadInASentence() {
        #expect("it resolves to 127.0.0.1, \(IPAddressClass.loopback)" == "it resolves to 127.0.0.1, a loopback address")
        #expect("\(IPAddressClass.private)" == "a private-network address")
    }
}

/// An address written in a test.
func ip(_ text: String) -> IPAddress { IPAddress(text)! }
