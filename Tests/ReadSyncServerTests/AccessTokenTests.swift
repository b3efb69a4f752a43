import ReadSyncCore
import Testing

@testable import ReadSyncServer

struct AccessTokenTests {
    @Test func tokensAreRandomHexAndNamesAreChecked() {
        let token = AccessToken.generate()
        #expect(token.count == 64 && token.allSatisfy(\.isHexDigit) && token != AccessToken.generate())
        #expect(AccessToken.hash(token) != token && AccessToken.hash(token) == AccessToken.hash(token))
        #expect(AccessToken.isValidUserName("alice.b-1") && !AccessToken.isValidUserName("a b") && !AccessToken.isValidUserName(""))
    }

    /// The stored form is the digest as 64 lowercase hex digits (FIPS 180-4's
    /// vector for "abc"): a server database made before keeps matching.
    @Test func aTokensHashIsItsSHA256InLowercaseHex() {
        #expect(AccessToken.hash("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    /// What an `Authorization` header must say for its token to be looked up.
    @Test func theBearerTokenIsReadFromTheHeader() {
        let token = AccessToken.generate()
        #expect(AccessToken.fromAuthorization("Bearer \(token)") == token)
        #expect(AccessToken.fromAuthorization("Bearer \t \(token.uppercased())  ") == token)
        for refused in [
            "", "Bearer", "Bearer ", token, "bearer \(token)", "Basic \(token)", "Bearer \(token.dropLast())",
            "Bearer \(token)0", "Bearer \(token.dropLast())g", "Bearer \(token.dropLast(2))é", "Bearer \(token.dropLast())\u{FF10}",
            "Bearer \(token.prefix(32)) \(token.suffix(32))",
        ] {
            #expect(AccessToken.fromAuthorization(refused) == nil, "\(refused)")
        }
    }

    /// A token's stored hash is swift-crypto's SHA-256; the core's own SHA-256
    /// (for content ids) must agree with it on any input, or hashes stored
    /// before the switch would stop matching.
    @Test func theCoresSHA256AgreesWithSwiftCrypto() {
        var generator = SystemRandomNumberGenerator()
        for length in [0, 1, 55, 56, 63, 64, 65, 119, 120, 1_000] + (0..<200).map({ _ in Int.random(in: 0...300, using: &generator) }) {
            let text = String((0..<length).map { _ in Character(Unicode.Scalar(UInt8.random(in: 0x20...0x7e, using: &generator))) }) + "é🙂"
            #expect(SHA256.hex(text) == AccessToken.hash(text), "\(length) characters")
        }
    }
}
