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
        var server: ServerProcess
        /// In front of the server when asked for: the browser and the laptop
        /// keep its address while the server comes back on another port.
        let relay: TCPRelay?
        let laptop = Device()
        var articles: [String: String] = [:]  // title → id

        /// The address the browser and the laptop use.
        var url: String { relay?.url ?? server.url }

        init(throughRelay: Bool = false) throws {
            server = try ServerProcess()
            relay = throughRelay ? try TCPRelay(to: server.port) : nil
            let token = try server.addUser("alice")
            _ = try server.addUser("bob")
            #expect(try laptop.client("init", "--server", relay?.url ?? server.url, "--token", token).status == 0)
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

    /// On a phone with no network: the list was loaded, the server goes
    /// away, a kept article opens and is marked read; the server comes
    /// back, the next page load sends the mark, and it reaches a device.
    @Test func anArticleReadOfflineInTheBrowserReachesADeviceOnceOnline() throws {
        var library = try Library(throughRelay: true)
        let relay = try #require(library.relay)
        defer { relay.stop() }
        let title = "Netanyahu: US-Israel alliance ‘has become even stronger’"
        let id = try #require(library.articles[title])
        let handshakes = FileManager.default.temporaryDirectory.appendingPathComponent("readsync-web-offline-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: handshakes, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: handshakes) }
        func awaitFile(_ name: String) throws {
            let deadline = Date().addingTimeInterval(120)
            while !FileManager.default.fileExists(atPath: handshakes.appendingPathComponent(name).path) {
                try #require(Date() < deadline, "the browser did not get to '\(name)'")
                usleep(50_000)
            }
        }
        func signal(_ name: String) { FileManager.default.createFile(atPath: handshakes.appendingPathComponent(name).path, contents: nil) }

        let output = FileManager.default.temporaryDirectory.appendingPathComponent("readsync-web-offline-\(UUID().uuidString).log")
        FileManager.default.createFile(atPath: output.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: output) }
        let browser = Process()
        browser.executableURL = Self.python
        browser.arguments = [Self.script.path, "offline", relay.url, "alice", Self.password, id, handshakes.path]
        let log = try FileHandle(forWritingTo: output)
        browser.standardOutput = log
        browser.standardError = log
        try browser.run()
        defer { if browser.isRunning { browser.terminate() } }

        try awaitFile("ready")
        library.server.terminate()
        signal("offline")
        try awaitFile("queued")
        #expect(try library.laptop.client("sync").status != 0, "the server is away")
        library.server = try ServerProcess(data: library.server.data)
        relay.retarget(to: library.server.port)
        signal("online")
        browser.waitUntilExit()
        try log.close()
        let printed = try String(contentsOf: output, encoding: .utf8)
        try #require(browser.terminationStatus == 0, "\(printed)")
        let found = try #require(try JSONSerialization.jsonObject(with: Data((printed.split(separator: "\n").last ?? "").utf8)) as? [String: Any])
        #expect(found["kept"] as? Int == 3, "the three unread articles kept for reading offline")
        #expect(found["offline_title"] as? String == title)
        #expect(found["queue_shown"] as? String == "1 change made offline waits to be sent.")
        #expect(found["read_after"] as? Bool == true)
        #expect((found["kept_before_signout"] as? Int ?? 0) >= 3)
        #expect(found["kept_after_signout"] as? Int == 0, "signing out leaves no article in the browser")

        #expect(try library.laptop.client("sync").status == 0)
        let shown = try #require(try library.laptop.json("show", id) as? [String: Any])
        #expect(shown["status"] as? String == "read", "the mark made offline reached the laptop")
    }
}
