import Foundation
import ReadSyncTestSupport
import Testing

@testable import ReadSyncServer

/// `--database URL`: what is accepted, what is refused, and that the
/// password is kept for connecting only.
struct PostgresURLTests {
    @Test func aURLIsReadWithItsDefaultsAndPrintedWithoutItsPassword() throws {
        let url = try PostgresURL("postgres://alice:s3cret@db.example/readsync")
        #expect(url.user == "alice" && url.host == "db.example" && url.port == 5432 && url.database == "readsync" && url.sslMode == .prefer)
        #expect(url.description == "postgres://alice@db.example:5432/readsync")
        var dumped = ""
        dump(url, to: &dumped)
        #expect(!String(reflecting: url).contains("s3cret") && !dumped.contains("s3cret"))
        let full = try PostgresURL("postgresql://bob@10.0.0.7:6543/library?sslmode=verify-full")
        #expect(full.port == 6543 && full.sslMode == .verifyFull)
    }

    @Test(arguments: [
        ("mysql://alice@db/x", "the database must be a URL like"),
        ("postgres://db.example/x", "names no user"),
        ("postgres://alice@db.example", "names no database"),
        ("postgres://alice@db.example/x?sslmode=sometimes", "unknown sslmode 'sometimes'"),
        ("postgres://alice:pw@db.example/x?timeout=3", "unknown database URL parameter 'timeout'"),
    ])
    func aMalformedURLIsRefusedInOneLine(text: String, expected: String) {
        #expect {
            try PostgresURL(text)
        } throws: { error in
            "\(error)".contains(expected) && !"\(error)".contains("pw") && !"\(error)".contains("\n")
        }
    }

    /// The test cluster has no TLS: `require` must refuse it, not fall back
    /// to plain text; `disable` and the default `prefer` connect.
    @Test func sslmodeIsHonoured() throws {
        let base = try TestPostgres.url().description
        #expect {
            try PostgresSyncStore(url: PostgresURL(base + "?sslmode=require"))
        } throws: { error in
            (error as? DatabaseUnavailable)?.database == base
        }
        for mode in ["disable", "prefer"] {
            let store = try PostgresSyncStore(url: PostgresURL(base + "?sslmode=" + mode))
            try store.close()
        }
    }
}
