import CLibCrypto

/// SHA-256 (FIPS 180-4) for content-derived ids (articles, imported notes,
/// digests), which are names and not secrets: OpenSSL's libcrypto, which
/// uses the CPU's SHA extensions where it has them. `client add` names an
/// article saved from a file without a URL by its text: a 6 KB text hashes in
/// about 5 µs, against 40 µs by the pure Swift code this replaced (scalar
/// SHA-256 is bound by its 64 rounds a block; BENCHMARKS.md, fourteenth pass).
///
/// A system library, as libdeflate is, and not swift-crypto: the core takes
/// no package (`scripts/fuzz.sh` compiles it with swiftc alone). Checked
/// against published vectors (`SHA256Tests`) and against swift-crypto on
/// random input (`AccessTokenTests`): ids made before must not change. What
/// guards a secret (tokens, passwords, sessions, on the server) uses
/// swift-crypto.
public enum SHA256 {
    /// The 32-byte digest of `bytes`.
    public static func digest(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: 32) { digest, count in
            var length: UInt32 = 0
            // Fails only when memory or OpenSSL's configuration does.
            precondition(
                EVP_Digest(bytes.baseAddress, bytes.count, digest.baseAddress, &length, method, nil) == 1 && length == 32,
                "OpenSSL's libcrypto could not compute a SHA-256 digest")
            count = 32
        }
    }

    /// The 32-byte digest of `bytes`.
    public static func digest(_ bytes: some Collection<UInt8>) -> [UInt8] {
        bytes.withContiguousStorageIfAvailable { digest(UnsafeRawBufferPointer($0)) } ?? Array(bytes).withUnsafeBytes { digest($0) }
    }

    /// The digest of a string's UTF-8 bytes, as lowercase hex.
    public static func hex(_ text: String) -> String {
        var text = text
        return Hex.string(text.withUTF8 { digest(UnsafeRawBufferPointer($0)) })
    }

    /// The algorithm, fetched from OpenSSL's default provider once: a digest
    /// given only its name (`SHA256()`) looks it up at every call. Immutable
    /// once fetched, so any thread may use it.
    nonisolated(unsafe) private static let method: OpaquePointer = {
        guard let method = EVP_MD_fetch(nil, "SHA256", nil) else {
            preconditionFailure("OpenSSL's libcrypto has no SHA-256 (is its default provider available?)")
        }
        return method
    }()
}
