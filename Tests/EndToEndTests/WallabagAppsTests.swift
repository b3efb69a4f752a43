import Foundation
import ReadSyncCore
import ReadSyncTestSupport
import Testing

/// wallabag apps reading a readsync library through a real server process:
/// the `wallabag-client` CLI from PyPI, unchanged, and KOReader's request
/// sequence (`shared/WALLABAG-API.md`) replayed with Python's urllib.
struct WallabagAppsTests {
    static let python = RepositoryPaths.root.appendingPathComponent(".build/python-tools/bin/python")
    static let wallabag = RepositoryPaths.root.appendingPathComponent(".build/python-tools/bin/wallabag")

    /// A server, alice's library made and synced by a real device, and her wallabag credentials.
    struct Library {
        let server: ServerProcess
        let laptop = Device()
        let credentials: [String: String]
        var read = "", favorite = "", plain = ""

        /// `serverOptions`: what `readsync serve` is given besides its port and data.
        init(serverOptions: [String] = []) throws {
            server = try ServerProcess(options: serverOptions)
            let token = try server.addUser("alice")
            _ = try server.addUser("bob")
            #expect(try laptop.client("init", "--server", server.url, "--token", token).status == 0)
            let laptop = self.laptop
            func add(_ seed: String, tag: String? = nil) throws -> String {
                let added = try laptop.client("add", try ReadSyncBinary.seed(seed))
                if let tag { #expect(try laptop.client("tag", added.lastLine, "+" + tag).status == 0) }
                return added.lastLine
            }
            read = try add("000", tag: "news")
            favorite = try add("001", tag: "news")
            plain = try add("002")
            #expect(try laptop.client("read", read).status == 0)
            #expect(try laptop.client("archive", read).status == 0)
            #expect(try laptop.client("favorite", favorite).status == 0)
            #expect(try laptop.client("note", favorite, "Keep this", "--quote", "enhanced bilateral cooperation").status == 0)
            #expect(try laptop.client("sync").status == 0)
            let made = try ReadSyncBinary.run(["user", "wallabag", "alice"] + server.storeOptions)
            credentials = WallabagCredentialsTests.credentials(made.stdout)
        }

        func title(_ id: String) throws -> String { try #require((try laptop.json("show", id) as? [String: Any])?["title"] as? String) }
    }

    /// Runs the wallabag CLI with a configuration made by its own code (it
    /// encrypts the password and secret in its file).
    static func wallabagCLI(_ library: Library, _ arguments: String...) throws -> (status: Int32, output: String) {
        try wallabagCLI(library, arguments)
    }

    /// `input` answers its questions ("Continue? [y/N]").
    static func wallabagCLI(_ library: Library, _ arguments: [String], input: String? = nil) throws -> (status: Int32, output: String) {
        let config = URL(fileURLWithPath: library.laptop.home).appendingPathComponent("wallabag.ini").path
        if !FileManager.default.fileExists(atPath: config) {
            let setup = #"""
                import sys
                from wallabag.config import Configs, Sections, Options
                path, url, client, secret, user, password = sys.argv[1:7]
                config = Configs(path)
                config.set(Sections.API, Options.SERVERURL, url)
                config.set(Sections.API, Options.USERNAME, user)
                config.set(Sections.API, Options.PASSWORD, password)
                config.set(Sections.OAUTH2, Options.CLIENT, client)
                config.set(Sections.OAUTH2, Options.SECRET, secret)
                config.save(path)
                """#
            let c = library.credentials
            let made = try Command.run(
                python.path,
                [
                    "-c", setup, config, library.server.url, c["client_id"] ?? "", c["client_secret"] ?? "",
                    c["username"] ?? "", c["password"] ?? "",
                ])
            try #require(made.status == 0, "wallabag-client is not installed (run scripts/setup.sh): \(made.output)")
        }
        return try Command.run(wallabag.path, ["--no-spinner", "--config", config] + arguments, input: input)
    }

    /// One request to the wallabag API as an app makes it (signed in with
    /// the password grant), by Python's urllib; the status and the body.
    static func api(_ library: Library, _ method: String, _ path: String, json body: String? = nil) throws -> (status: Int, body: String) {
        let script = #"""
            import json, sys, urllib.error, urllib.request
            base, client, secret, user, password, method, path, body = sys.argv[1:9]
            grant = json.dumps({"grant_type": "password", "client_id": client, "client_secret": secret, "username": user, "password": password})
            token = json.load(urllib.request.urlopen(urllib.request.Request(base + "/oauth/v2/token", data=grant.encode(),
                                                                            headers={"Content-Type": "application/json"})))["access_token"]
            headers = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
            request = urllib.request.Request(base + path, data=body.encode() if body else None, headers=headers, method=method)
            try:
                with urllib.request.urlopen(request) as answer:
                    print(answer.status); print(answer.read().decode())
            except urllib.error.HTTPError as refusal:
                print(refusal.code); print(refusal.read().decode())
            """#
        let c = library.credentials
        let run = try Command.run(
            python.path,
            [
                "-c", script, library.server.url, c["client_id"] ?? "", c["client_secret"] ?? "", c["username"] ?? "",
                c["password"] ?? "", method, path, body ?? "",
            ])
        let lines = run.output.split(separator: "\n", maxSplits: 1)
        guard run.status == 0, let first = lines.first, let status = Int(first) else { throw Command.Failure(output: run.output) }
        return (status, lines.count > 1 ? String(lines[1]) : "")
    }

    /// The integer id the wallabag CLI lists an article under (found by its title).
    static func entryID(of articleID: String, in library: Library) throws -> String {
        let listing = try wallabagCLI(library, "list", "-a").output, title = try library.title(articleID)
        return try #require(
            listing.split(separator: "\n").first { $0.contains(title.prefix(30)) }?.split(separator: " ").first.map(String.init),
            "\(listing)")
    }

    /// The entry ids `wallabag list` printed, in its order.
    static func ids(_ listing: String) -> [String] {
        listing.split(separator: "\n").compactMap { line in line.split(separator: " ").first.map(String.init) }.filter { $0.allSatisfy(\.isNumber) }
    }

    @Test func theWallabagCLIListsShowsAndExportsWhatTheDevicesSynced() throws {
        let library = try Library()
        defer {
            library.server.terminate()
            library.server.removeData()
        }
        let check = try Self.wallabagCLI(library, "config", "--check")
        #expect(check.output.contains("The config is suitable"), "\(check.output)")

        let all = try Self.wallabagCLI(library, "list", "-a")
        #expect(all.status == 0 && Self.ids(all.output).count == 3, "\(all.output)")
        for id in [library.read, library.favorite, library.plain] { #expect(all.output.contains(try library.title(id).prefix(30))) }
        let archived = try Self.wallabagCLI(library, "list", "-r")
        let readTitle = try library.title(library.read), favoriteTitle = try library.title(library.favorite)
        #expect(Self.ids(archived.output).count == 1 && archived.output.contains(readTitle.prefix(30)))
        let starred = try Self.wallabagCLI(library, "list", "-s")
        #expect(Self.ids(starred.output).count == 1 && starred.output.contains(favoriteTitle.prefix(30)))
        let tagged = try Self.wallabagCLI(library, "list", "-a", "-g", "news", "-c")
        #expect(tagged.output.trimmingCharacters(in: .whitespacesAndNewlines) == "2", "\(tagged.output)")
        let tags = try Self.wallabagCLI(library, "tags")
        #expect(tags.output.contains("news"))

        let favoriteID = try #require(Self.ids(starred.output).first)
        let info = try Self.wallabagCLI(library, "info", favoriteID)
        #expect(info.output.contains("Is starred: True") && info.output.contains("Annotations: 1") && info.output.contains("Tags: news"), "\(info.output)")
        let shown = try Self.wallabagCLI(library, "show", favoriteID)
        #expect(shown.status == 0 && shown.output.contains("bilateral cooperation"), "\(shown.output.prefix(500))")

        let exports = URL(fileURLWithPath: library.laptop.home).appendingPathComponent("exports")
        try FileManager.default.createDirectory(at: exports, withIntermediateDirectories: true)
        let exported = try Self.wallabagCLI(library, "export", "-f", "epub", "-o", exports.path + "/", favoriteID)
        #expect(exported.status == 0, "\(exported.output)")
        let book = try #require(try FileManager.default.contentsOfDirectory(at: exports, includingPropertiesForKeys: nil).first)
        try EPUBCheck.passes(book)

        // A device's edit shows in the app at its next request.
        #expect(try library.laptop.client("favorite", library.plain).status == 0)
        #expect(try library.laptop.client("sync").status == 0)
        #expect(Self.ids(try Self.wallabagCLI(library, "list", "-s").output).count == 2)
    }

    /// Changes made in the app reach a device at its next sync, as the
    /// server's own writes, and nothing else changes.
    @Test func changesMadeWithTheWallabagCLIReachTheDevice() throws {
        // The page saved in the app is served on this machine: the server
        // fetches it only when told it may reach private addresses.
        let library = try Library(serverOptions: ["--fetch-private"])
        defer {
            library.server.terminate()
            library.server.removeData()
        }
        let site = try TestHTTPServer(routes: ["/saved-in-the-app": .html(Self.page)])
        defer { site.stop() }
        let before = try library.laptop.library()
        let listing = try Self.wallabagCLI(library, "list", "-a")
        let ids = Self.ids(listing.output)
        func entryID(_ articleID: String) throws -> String {
            let title = try library.title(articleID)
            return try #require(listing.output.split(separator: "\n").first { $0.contains(title.prefix(30)) }?.split(separator: " ").first.map(String.init))
        }
        let plain = try entryID(library.plain), favorite = try entryID(library.favorite), read = try entryID(library.read)
        #expect(Set(ids) == [plain, favorite, read])

        for arguments in [
            ["read", plain], ["star", plain], ["update", "-t", "Renamed in the app", favorite],
            ["tags", "-c", "add", "-e", plain, "-t", "later,ideas"], ["delete", "-f", read],
        ] {
            let run = try Self.wallabagCLI(library, arguments)
            #expect(run.status == 0 && !run.output.lowercased().contains("error"), "\(arguments): \(run.output)")
        }
        // The CLI's `tags -c remove` asks for a confirmation and, given one
        // without a terminal, never ends (its spinner); the request it makes
        // is sent as the browser extension sends it.
        let tagList = try Self.wallabagCLI(library, "tags").output
        let newsID = try #require(tagList.split(separator: "\n").first { $0.hasSuffix(". news") }?.split(separator: ".").first.map(String.init))
        let removal = try Self.api(library, "DELETE", "/api/entries/\(favorite)/tags/\(newsID).json")
        #expect(removal.status == 200, "\(removal.body)")
        let added = try Self.wallabagCLI(library, "add", "-a", "saved", site.url("/saved-in-the-app"))
        #expect(added.status == 0 && !added.output.lowercased().contains("error"), "\(added.output)")
        #expect(site.requests.count == 2, "the app looks at the page (HEAD), then the server fetches it: \(site.requests)")
        let annotations = try Self.wallabagCLI(library, "anno", "-e", favorite)
        let annotation = try #require(annotations.output.split(separator: ".").first.map(String.init), "\(annotations.output)")
        #expect(try Self.wallabagCLI(library, "anno", "-c", "remove", "-a", annotation).status == 0)
        // The app sees its own changes at once.
        let listed = try Self.wallabagCLI(library, "list", "-a").output
        #expect(Self.ids(listed).count == 3 && listed.contains("A page saved in the app"), "\(listed)")
        #expect(Self.ids(try Self.wallabagCLI(library, "list", "-r").output) == [plain])

        #expect(try library.laptop.client("sync").status == 0)
        // What a person sees of each article, before and after, but the text (unchanged, compared apart).
        func seen(_ library: [[String: String]]) -> [String: [String: String]] {
            Dictionary(uniqueKeysWithValues: library.map { ($0["id"]!, $0.filter { $0.key != "content" && $0.key != "id" }) })
        }
        // The saved page is one more article, with the text the server
        // fetched: the very article this device makes of that page.
        let saved = try #require((try library.laptop.json("list") as? [[String: Any]])?.first { $0["title"] as? String == "A page saved in the app" })
        let savedID = try #require(saved["id"] as? String)
        let savedHere = try library.laptop.client("add", site.url("/saved-in-the-app"))
        #expect(savedHere.lastLine == savedID && savedHere.stdout.contains("unchanged"), "\(savedHere.stdout)")
        let shownSaved = try #require(try library.laptop.json("show", savedID) as? [String: Any])
        #expect((shownSaved["content"] as? String)?.contains("Offline-first reading") == true && "\(shownSaved["tags"]!)" == #"["saved"]"#)

        var expected = seen(before)
        expected[library.read] = nil
        expected[savedID] = seen(try library.laptop.library())[savedID]
        expected[library.plain]!.merge([
            "status": "read", "progress": "1", "archived": "1", "favorite": "1",
            "tags": #"["ideas", "later"]"#,
        ]) { $1 }
        expected[library.favorite]!.merge(["title": "Renamed in the app", "tags": "[]", "notes": ""]) { $1 }
        let after = try library.laptop.library()
        #expect(seen(after) == expected)
        #expect(after.filter { $0["id"] != savedID }.map { $0["content"] } == before.filter { $0["id"] != library.read }.map { $0["content"] })
        #expect((try library.laptop.json("trash") as? [[String: Any]])?.map { $0["id"] as? String } == [library.read])
        #expect((try library.laptop.json("conflicts") as? [Any])?.isEmpty == true)
    }

    /// An app's change and a device's offline change to the same field are
    /// concurrent: they merge by the rules every replica follows, and the
    /// device lists the conflict rather than losing one without a trace.
    @Test func anAppsChangeConcurrentWithADevicesIsAListedConflict() throws {
        let library = try Library()
        defer {
            library.server.terminate()
            library.server.removeData()
        }
        let entry = try Self.entryID(of: library.plain, in: library)
        #expect(try library.laptop.client("progress", library.plain, "50").status == 0, "offline, not synced yet")
        #expect(try Self.api(library, "PATCH", "/api/entries/\(entry).json", json: #"{"archive": 1}"#).status == 200)

        #expect(try library.laptop.client("sync").status == 0)
        let conflicts = try #require(try library.laptop.json("conflicts") as? [[String: Any]])
        #expect(!conflicts.isEmpty && conflicts.allSatisfy { "\($0)".contains(library.plain) }, "\(conflicts)")
        // Both sides settle on one state.
        let status = try #require((try library.laptop.json("show", library.plain) as? [String: Any])?["status"] as? String)
        let shown = try Self.api(library, "GET", "/api/entries/\(entry).json")
        let archived = try #require((try JSONSerialization.jsonObject(with: Data(shown.body.utf8)) as? [String: Any])?["is_archived"] as? Int)
        #expect(["read", "reading"].contains(status) && (status == "read") == (archived == 1), "device: \(status), app: \(archived)")
    }

    /// A highlight made in an app (a quote, no comment) is a note on every device.
    @Test func aHighlightWithoutACommentIsANoteOnTheDevice() throws {
        let library = try Library()
        defer {
            library.server.terminate()
            library.server.removeData()
        }
        let entry = try Self.entryID(of: library.plain, in: library)
        let body = try #require((try library.laptop.json("show", library.plain) as? [String: Any])?["content"] as? String)
        let quote = String(try #require(body.split(separator: "\n").first { $0.count > 40 }).prefix(40))
        let made = try Self.api(
            library, "POST", "/api/annotations/\(entry).json",
            json: #"{"text": "", "quote": "\#(quote)", "ranges": [{"start": "/p[1]", "end": "/p[1]", "startOffset": 0, "endOffset": 40}]}"#)
        #expect(made.status == 200 && made.body.contains(#""quote""#), "\(made)")
        #expect(try library.laptop.client("sync").status == 0)
        let notes = try #require((try library.laptop.json("show", library.plain) as? [String: Any])?["notes"] as? [[String: Any]])
        #expect(notes.count == 1 && notes.first?["quote"] as? String == quote, "\(notes)")
    }

    /// Behind a TLS proxy on the same machine every request comes from
    /// 127.0.0.1: failed sign-ins are counted by the address the proxy
    /// forwards, so one client's wrong passwords do not lock out the others.
    @Test func failedSignInsBehindAProxyAreCountedByTheForwardedAddress() throws {
        let library = try Library()
        defer {
            library.server.terminate()
            library.server.removeData()
        }
        let script = #"""
            import json, sys, urllib.error, urllib.request
            base, client, secret, user, password = sys.argv[1:6]
            def grant(name, word, forwarded):
                body = json.dumps({"grant_type": "password", "client_id": client, "client_secret": secret, "username": name, "password": word})
                request = urllib.request.Request(base + "/oauth/v2/token", data=body.encode(),
                                                 headers={"Content-Type": "application/json", "X-Forwarded-For": forwarded})
                try:
                    return urllib.request.urlopen(request).status
                except urllib.error.HTTPError as refusal:
                    return refusal.code
            guesses = [grant("mallory", "guess", "198.51.100.7, 203.0.113.7") for _ in range(10)]
            print(json.dumps({"guesses": guesses, "other": grant(user, password, "198.51.100.7, 198.51.100.9"),
                              "same": grant(user, password, "203.0.113.7")}))
            """#
        let c = library.credentials
        let run = try Command.run(
            Self.python.path,
            [
                "-c", script, library.server.url, c["client_id"] ?? "", c["client_secret"] ?? "",
                c["username"] ?? "", c["password"] ?? "",
            ])
        let result = try #require(try JSONSerialization.jsonObject(with: Data(run.output.split(separator: "\n").last!.utf8)) as? [String: Any], "\(run.output)")
        #expect((result["guesses"] as? [Int])?.allSatisfy { $0 == 400 } == true, "invalid_grant: \(result)")
        #expect(result["other"] as? Int == 200, "another address behind the proxy signs in")
        #expect(result["same"] as? Int == 429, "the guessing address is refused for a while")
    }

    /// The page the app saves.
    static let page = """
        <html><head><title>A page saved in the app</title></head><body><article>
        <h1>A page saved in the app</h1>
        <p>Offline-first reading means the library lives on every device, and the server is one more replica of it.</p>
        <p>A second paragraph, so that the extractor has a body to keep.</p>
        </article></body></html>
        """

    /// A server asked to save a page at a private address saves the link
    /// without fetching it (unless `--fetch-private`): nobody can make it
    /// reach inside its own network.
    @Test func aPageAtAPrivateAddressIsSavedButNotFetched() throws {
        let library = try Library()
        defer {
            library.server.terminate()
            library.server.removeData()
        }
        let site = try TestHTTPServer(routes: ["/internal": .html(Self.page)])
        defer { site.stop() }
        for url in [site.url("/internal"), "http://localhost:\(site.port)/internal"] {
            let answer = try Self.api(library, "POST", "/api/entries.json", json: #"{"url": "\#(url)", "tags": ""}"#)
            let entry = try #require(try JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any])
            #expect(answer.status == 200 && entry["title"] as? String == CanonicalURL(url)?.string && entry["content"] as? String == "", "\(answer)")
        }
        #expect(site.requests.isEmpty, "the server never connected")
        // The Android app asks for many at once, its keys percent-encoded.
        let url = CanonicalURL(site.url("/internal"))!.string
        let many = try Self.api(library, "GET", "/api/entries/exists?urls%5B%5D=\(url)&urls%5B%5D=https://nowhere.example/&return_id=1")
        let found = try #require(try JSONSerialization.jsonObject(with: Data(many.body.utf8)) as? [String: Any], "\(many)")
        #expect(found[url] as? Int != nil && found["https://nowhere.example/"] is NSNull, "\(found)")
        let bad = try Self.api(library, "POST", "/api/entries.json", json: #"{"url": "file:///etc/passwd"}"#)
        #expect(bad.status == 400 && bad.body.contains("http(s) URL"), "\(bad)")
    }

    /// KOReader's plugin, step by step: token (JSON body), the unarchived
    /// entries page by page, each one's EPUB. It takes only 200 as success
    /// and needs a JSON object body.
    static let koreaderScript = #"""
        import json, sys, urllib.error, urllib.request
        base, client, secret, user, password, out = sys.argv[1:7]
        def call(method, path, body=None, token=None):
            headers = {"Content-Type": "application/json", "Accept": "*/*"}
            if token:
                headers["Authorization"] = "Bearer " + token
            data = json.dumps(body).encode() if body is not None else None
            try:
                with urllib.request.urlopen(urllib.request.Request(base + path, data=data, headers=headers, method=method)) as answer:
                    return answer.status, answer.read()
            except urllib.error.HTTPError as refusal:
                return refusal.code, refusal.read()
        log = {}
        status, body = call("POST", "/oauth/v2/token", {"grant_type": "password", "client_id": client, "client_secret": secret,
                                                        "username": user, "password": password})
        assert status == 200 and body.startswith(b"{"), (status, body)
        token = json.loads(body)["access_token"]
        log["expires_in"] = json.loads(body)["expires_in"]
        entries, page, pages = [], 1, 1
        while page <= pages:
            status, body = call("GET", f"/api/entries.json?archive=0&page={page}&perPage=1", token=token)
            assert status == 200 and body.startswith(b"{"), (status, body)
            listing = json.loads(body)
            pages = listing["pages"]
            entries += listing["_embedded"]["items"]
            page += 1
        log["pages"] = pages
        log["entries"] = [{"id": e["id"], "title": e["title"], "mimetype": e["mimetype"], "updated_at": e["updated_at"],
                           "tags": [t["label"] for t in e["tags"]]} for e in entries]
        log["books"] = []
        for entry in entries:
            status, book = call("GET", f"/api/entries/{entry['id']}/export.epub", token=token)
            assert status == 200, status
            path = f"{out}/koreader-{entry['id']}.epub"
            open(path, "wb").write(book)
            log["books"].append(path)
        # Finished on the e-reader: archived. Saved on the e-reader: a new URL.
        status, body = call("PATCH", f"/api/entries/{entries[0]['id']}.json", {"archive": 1}, token=token)
        assert status == 200 and body.startswith(b"{") and json.loads(body)["is_archived"] == 1, (status, body)
        status, body = call("POST", "/api/entries.json", {"url": "http://127.0.0.1:9/saved-on-the-e-reader", "tags": ""}, token=token)
        assert status == 200 and body.startswith(b"{"), (status, body)
        log["saved"] = json.loads(body)["id"]
        status, body = call("GET", "/api/entries.json?archive=0&page=1&perPage=30", token=token)
        log["unreadAfter"] = [e["id"] for e in json.loads(body)["_embedded"]["items"]]
        log["archived"] = entries[0]["id"]
        status, body = call("GET", "/api/entries.json", token="readsync_nothing.access.1.2.3")
        log["badToken"] = [status, json.loads(body)]
        status, body = call("POST", "/oauth/v2/token", {"grant_type": "password", "client_id": client, "client_secret": secret,
                                                        "username": user, "password": "wrong"})
        log["badPassword"] = [status, json.loads(body)]
        print(json.dumps(log))
        """#

    @Test func koreadersSequenceGetsTheUnreadEntriesAndTheirEPUBs() throws {
        let library = try Library()
        defer {
            library.server.terminate()
            library.server.removeData()
        }
        let folder = URL(fileURLWithPath: library.laptop.home).appendingPathComponent("koreader")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let c = library.credentials
        let run = try Command.run(
            Self.python.path,
            [
                "-c", Self.koreaderScript, library.server.url, c["client_id"] ?? "", c["client_secret"] ?? "",
                c["username"] ?? "", c["password"] ?? "", folder.path,
            ])
        try #require(run.status == 0, "\(run.output)")
        let log = try #require(try JSONSerialization.jsonObject(with: Data(run.output.split(separator: "\n").last!.utf8)) as? [String: Any])
        #expect(log["expires_in"] as? Int == 3600)
        #expect(log["pages"] as? Int == 2, "one entry a page, two unarchived entries")
        let entries = try #require(log["entries"] as? [[String: Any]])
        #expect(
            Set(entries.compactMap { $0["title"] as? String }) == [try library.title(library.favorite), try library.title(library.plain)],
            "an archived article drops out of archive=0")
        #expect(entries.allSatisfy { ($0["id"] as? Int ?? 0) > 0 && $0["mimetype"] as? String == "text/html" }, "integer ids")
        for book in try #require(log["books"] as? [String]) { try EPUBCheck.passes(URL(fileURLWithPath: book)) }
        let unreadAfter = try #require(log["unreadAfter"] as? [Int]), saved = try #require(log["saved"] as? Int)
        let archived = try #require(log["archived"] as? Int)
        #expect(
            unreadAfter.count == 2 && unreadAfter.contains(saved) && !unreadAfter.contains(archived),
            "the archived entry drops out, the saved one comes in")
        let badToken = try #require(log["badToken"] as? [Any])
        #expect(badToken.first as? Int == 401 && (badToken.last as? [String: Any])?["error"] as? String == "invalid_grant")
        let badPassword = try #require(log["badPassword"] as? [Any])
        #expect(badPassword.first as? Int == 400 && (badPassword.last as? [String: Any])?["error"] as? String == "invalid_grant")

        // Users are apart: bob, signed in, gets a 404 for alice's integer id.
        let bobs = WallabagCredentialsTests.credentials(try ReadSyncBinary.run(["user", "wallabag", "bob"] + library.server.storeOptions).stdout)
        let alicesID = try #require(entries.first?["id"] as? Int)
        let probe = #"""
            import json, sys, urllib.error, urllib.request
            base, client, secret, user, password, entry = sys.argv[1:7]
            body = json.dumps({"grant_type": "password", "client_id": client, "client_secret": secret, "username": user, "password": password}).encode()
            token = json.load(urllib.request.urlopen(urllib.request.Request(base + "/oauth/v2/token", data=body, headers={"Content-Type": "application/json"})))["access_token"]
            try:
                urllib.request.urlopen(urllib.request.Request(f"{base}/api/entries/{entry}.json", headers={"Authorization": "Bearer " + token}))
                print(json.dumps([200, {}]))
            except urllib.error.HTTPError as refusal:
                print(json.dumps([refusal.code, json.loads(refusal.read())]))
            """#
        let answer = try Command.run(
            Self.python.path,
            [
                "-c", probe, library.server.url, bobs["client_id"] ?? "", bobs["client_secret"] ?? "",
                "bob", bobs["password"] ?? "", String(alicesID),
            ])
        #expect(answer.output.contains(#"[404, {"code": 404, "message": "Entry not found"}]"#), "\(answer.output)")
    }
}
