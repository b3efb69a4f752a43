import Foundation
import Testing

/// The offline reading list through the real binary: what a user types and
/// what a script reads.
struct LocalLibraryTests {
    let device = Device()

    @Test func addListShowSearchNoteAndReadTheSeeds() throws {
        var ids: [String] = []
        for prefix in ["000", "001", "002"] {
            let added = try device.client("add", try ReadSyncBinary.seed(prefix))
            #expect(added.status == 0, "add failed: \(added.stderr)")
            #expect(added.lastLine.count == 16, "the id is stdout's last line")
            ids.append(added.lastLine)
        }

        let list = try device.json("list") as! [[String: Any]]
        #expect(list.count == 3)
        #expect(list.map { $0["id"] as! String } == ids.reversed(), "newest first")
        #expect(list.allSatisfy { !($0["title"] as! String).isEmpty && $0["status"] as? String == "unread" })

        let note = try device.client("note", String(ids[1].prefix(6)), "Compare with the 2015 speech", "--quote", "a new day")
        #expect(note.status == 0)
        #expect(try device.client("read", ids[1]).status == 0)
        #expect(try device.client("tag", ids[1], "+israel", "+us").status == 0)

        let shown = try device.json("show", ids[1]) as! [String: Any]
        #expect(shown["status"] as? String == "read")
        #expect(shown["progress"] as? Double == 1)
        #expect(shown["tags"] as? [String] == ["israel", "us"])
        #expect((shown["content"] as! String).contains("Sean Hannity"))
        let notes = shown["notes"] as! [[String: Any]]
        #expect(notes.count == 1)
        #expect(notes[0]["id"] as? String == note.lastLine)
        #expect(notes[0]["body"] as? String == "Compare with the 2015 speech")
        #expect(notes[0]["quote"] as? String == "a new day")

        let cnn = try device.json("show", ids[2]) as! [String: Any]
        #expect(cnn["url"] as? String == "https://amp.cnn.com/cnn/2023/12/12/politics/biden-israel-losing-support-netanyahu/index.html")

        let hits = try device.json("search", "speech") as! [[String: Any]]
        #expect(hits.first?["id"] as? String == ids[1], "the note's word is found")
        let text = try device.client("search", "Hannity")
        #expect(text.stdout.contains("[Hannity]"))

        let status = try device.json("status") as! [String: Any]
        #expect(status["articles"] as? Int == 3)
        #expect(status["unread"] as? Int == 2)
        #expect((status["pendingChanges"] as! Int) > 20)
    }

    @Test func addFromStandardInputAndREADSYNC_HOME() throws {
        let added = try ReadSyncBinary.run(
            ["client", "add", "-", "--title", "Piped in", "--tag", "stdin"],
            environment: ["READSYNC_HOME": device.home], stdin: "Some words typed into a pipe.\n")
        #expect(added.status == 0, "\(added.stderr)")
        let list = try device.json("list", "--tag", "stdin") as! [[String: Any]]
        #expect(list.map { $0["title"] as? String } == ["Piped in"])
        #expect(list.first?["id"] as? String == added.lastLine)
    }

    @Test func badInputIsOneLineOnStderrANonZeroExitAndLosesNothing() throws {
        let id = try device.client("add", try ReadSyncBinary.seed("001")).lastLine
        try device.client("note", id, "keep me")
        let before = try device.client("show", id, "--json").stdout

        let attempts: [[String]] = [
            ["add", "/no/such/file.txt"],
            ["add", "/bin/sh"],
            ["progress", id, "150"],
            ["read", "ffff0000"],
            ["note", "nope", "text"],
            ["tag", id, "oops"],
            ["search", "\"\""],
            ["init", "--server", "ftp://example.org", "--token", "x"],
        ]
        for attempt in attempts {
            let result = try device.client(attempt[0], arguments: Array(attempt.dropFirst()))
            #expect(result.status != 0, "\(attempt) succeeded")
            let lines = result.stderr.split(separator: "\n")
            #expect(lines.count == 1 && lines[0].hasPrefix("Error: "), "\(attempt) printed: \(result.stderr)")
        }
        #expect(try device.client("show", id, "--json").stdout == before)
        #expect((try device.json("list") as! [[String: Any]]).count == 1)
    }

    @Test func deleteTrashAndRestore() throws {
        let id = try device.client("add", try ReadSyncBinary.seed("000")).lastLine
        #expect(try device.client("delete", id).status == 0)
        #expect((try device.json("list") as! [[String: Any]]).isEmpty)
        #expect((try device.json("trash") as! [[String: Any]]).map { $0["id"] as? String } == [id])
        #expect(try device.client("restore", String(id.prefix(5))).status == 0)
        #expect((try device.json("list") as! [[String: Any]]).count == 1)
    }
}

extension Device {
    func client(_ command: String, arguments: [String]) throws -> ReadSyncBinary.Result {
        try ReadSyncBinary.run(["client", "--home", home, command] + arguments)
    }
}
