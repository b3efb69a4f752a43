import Foundation
import ReadSyncTestSupport
import Testing

/// The web reader in a real browser: headless Chromium driven by Selenium
/// (`Tests/Browser/web_reader.py`) against a real server process, with a
/// real device syncing on either side of it.
struct WebReaderTests {
    static let python = RepositoryPaths.root.appendingPathComponent(".build/python-tools/bin/python")
    static let script = RepositoryPaths.root.appendingPathComponent("Tests/Browser/web_reader.py")
    static let password = "correct horse battery staple"

    /// A server and alice's library of the three sample articles, made and
    /// synced by her laptop, with a web password set.
    struct Library {
        let server: ServerProcess
        let laptop = Device()
        var articles: [String: String] = [:]  // title → id

        init() throws {
            server = try ServerProcess()
            let token = try server.addUser("alice")
            _ = try server.addUser("bob")
            #expect(try laptop.client("init", "--server", server.url, "--token", token).status == 0)
            for seed in ["000", "001", "002"] {
                let added = try laptop.client("add", try ReadSyncBinary.seed(seed))
                try #require(added.status == 0, "\(added.stderr)")
            }
            #expect(try laptop.client("sync").status == 0)
            let set = try ReadSyncBinary.run(["user", "password", "alice"] + server.storeOptions, stdin: WebReaderTests.password + "\n")
            try #require(set.status == 0, "\(set.stderr)")
            for article in try laptop.json("list") as! [[String: Any]] {
                articles[article["title"] as! String] = (article["id"] as! String)
            }
        }

        /// Every article as the laptop shows it, body and notes included.
        func shown() throws -> [String: [String: Any]] {
            var shown: [String: [String: Any]] = [:]
            for id in articles.values { shown[id] = try laptop.json("show", id) as? [String: Any] }
            return shown
        }
    }

    /// Runs the browser script; what it found (its last line, JSON).
    static func browse(_ arguments: [String]) throws -> [String: Any] {
        let run = try Command.run(python.path, [script.path] + arguments)
        try #require(run.status == 0, "the browser script failed (run scripts/setup.sh for Chromium and Selenium):\n\(run.output)")
        let last = run.output.split(separator: "\n").last.map(String.init) ?? ""
        return try #require(try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any], "\(run.output)")
    }

    /// JSON with sorted keys: two objects are the same when these are.
    static func canonical(_ object: [String: Any]) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }

    @Test func whatIsDoneInTheBrowserReachesADeviceAndADevicesWriteShowsInTheBrowser() throws {
        let library = try Library()
        let title = "US President Barack Obama (L) and Prime Minister Benjamin Netanyahu"
        let id = try #require(library.articles[title])
        let before = try library.shown()
        let quote = "zero chance of an actual rapprochement", note = "Still true a decade on?"
        let screenshots = RepositoryPaths.root.appendingPathComponent("docs/screenshots").path
        try FileManager.default.createDirectory(atPath: screenshots, withIntermediateDirectories: true)

        let found = try Self.browse(["edit", library.server.url, "alice", Self.password, title, quote, note, "rapprochement", screenshots])

        // Without a session, a page and a post both go to sign in.
        #expect((found["list_without_session"] as? [Any])?.first as? Int == 303)
        #expect(((found["list_without_session"] as? [Any])?.last as? String)?.hasPrefix("/signin?next=") == true)
        #expect((found["post_without_session"] as? [Any])?.first as? Int == 303)
        // Signed in: the list, then the article, read as paragraphs.
        #expect(Set(found["listed"] as? [String] ?? []) == Set(library.articles.keys))
        #expect(found["article"] as? String == id)
        #expect((found["paragraphs"] as? Int ?? 0) > 5)
        #expect(found["quotes"] as? [String] == [quote])
        #expect(found["search_results"] as? [String] == [title], "only the article with the word")
        #expect(found["search_marks"] as? [String] == ["rapprochement"], "the word is marked in the snippet")
        // A form post with the session's cookie but not its token is refused.
        #expect((found["forged_without_token"] as? [Any])?.first as? Int == 403)
        #expect((found["forged_wrong_token"] as? [Any])?.first as? Int == 403)
        #expect((found["content_security_policy"] as? String)?.contains("script-src 'self'") == true)
        for name in ["web-list-desktop", "web-list-phone", "web-reader-desktop", "web-reader-phone"] {
            #expect(FileManager.default.fileExists(atPath: "\(screenshots)/\(name).png"), "\(name).png")
        }

        // The laptop syncs and has exactly those changes: read, favorite and
        // the note, on that article; nothing else anywhere (not archived:
        // the forged posts changed nothing).
        #expect(try library.laptop.client("sync").status == 0)
        let after = try library.shown()
        for (other, shown) in before where other != id {
            #expect(try Self.canonical(after[other] ?? [:]) == Self.canonical(shown), "\(other) unchanged")
        }
        var changed = try #require(after[id]), was = try #require(before[id])
        #expect(changed["status"] as? String == "read" && changed["progress"] as? Double == 1 && changed["readAt"] is String)
        #expect(changed["favorite"] as? Bool == true && changed["archived"] as? Bool == false)
        let notes = changed["notes"] as? [[String: Any]] ?? []
        #expect(notes.count == 1 && notes.first?["quote"] as? String == quote && notes.first?["body"] as? String == note)
        for key in ["status", "progress", "readAt", "favorite", "notes"] {
            changed[key] = nil
            was[key] = nil
        }
        #expect(try Self.canonical(changed) == Self.canonical(was), "nothing else of the article changed")

        // A note made on the laptop shows in the browser at the next page load.
        #expect(try library.laptop.client("note", id, "Written on the laptop").status == 0)
        #expect(try library.laptop.client("sync").status == 0)
        let shows = try Self.browse(["shows", library.server.url, "alice", Self.password, id, "Written on the laptop"])
        #expect(shows["shows"] as? Bool == true)
    }
}
