import Foundation
import Testing

/// `import` and `export` through the real binary.
struct ImportExportTests {
    let device = Device()
    /// The export files live in the device's home, removed with it.
    var files: URL { URL(fileURLWithPath: device.home) }

    /// Made 0700, as readsync makes a home: a looser one would be tightened
    /// with a note on stderr, which these tests read.
    init() throws {
        try FileManager.default.createDirectory(atPath: device.home, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    }

    func write(_ name: String, _ text: String) throws -> String {
        let path = files.appendingPathComponent(name).path
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func importAPocketCSVTwiceThenExportAndImportOnAnotherDevice() throws {
        let csv = try write(
            "part_000000.csv",
            #"""
            title,url,time_added,cursor,tags,status
            "Commas, ""quotes""",https://e2e.example.com/a,1700000000,c1,news|tech,archive
            Second,https://e2e.example.com/b,1700000100,c2,,unread
            Broken,https://e2e.example.com/c

            """#)
        let first = try device.client("import", csv)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("(pocket-csv): 2 new, 0 updated, 0 unchanged, 1 skipped"))
        #expect(first.stdout.contains("  skipped \(csv):4: 2 of 6 columns"), "\(first.stdout)")
        #expect(first.stderr.isEmpty, "no progress bar when stderr is not a terminal")
        let pending = (try device.json("status") as! [String: Any])["pendingChanges"] as! Int

        let second = try device.client("import", csv)
        #expect(second.stdout.contains("0 new, 0 updated, 2 unchanged, 1 skipped"))
        #expect((try device.json("status") as! [String: Any])["pendingChanges"] as! Int == pending, "a re-import writes nothing")

        let ids = (try device.json("list") as! [[String: Any]]).map { $0["id"] as! String }
        try device.client("note", ids[0], "Written after the import")
        let export = files.appendingPathComponent("library.json").path
        let exported = try device.client("export", "--out", export)
        #expect(exported.status == 0 && exported.stderr.contains("Exported 2 articles"))

        let phone = Device()
        let imported = try ReadSyncBinary.run(["client", "--home", phone.home, "import", export])
        #expect(imported.stdout.contains("(readsync): 2 new"), "\(imported.stdout)\(imported.stderr)")
        for id in ids {
            #expect(try phone.client("show", id, "--json").stdout == device.client("show", id, "--json").stdout)
        }
        let markdown = try device.client("export", "--format", "markdown")
        #expect(markdown.stdout.contains("## [Commas, \"quotes\"](https://e2e.example.com/a)"))
    }

    @Test func anUnknownFileIsOneErrorLineAndTheOtherFilesStillImport() throws {
        let good = try write(
            "bookmarks.html",
            """
            <!DOCTYPE NETSCAPE-Bookmark-file-1>
            <DL><p>
            <DT><H3>Reading</H3>
            <DL><p><DT><A HREF="https://e2e.example.com/bm" ADD_DATE="1600000000">A bookmark</A></DL><p>
            </DL><p>
            """)
        let bad = try write("notes.txt", "just some text\n")
        let result = try device.client("import", bad, good, "/no/such/export.csv")
        #expect(result.status != 0)
        let errors = result.stderr.split(separator: "\n")
        #expect(errors.count == 2 && errors.allSatisfy { $0.hasPrefix("Error: ") }, "\(result.stderr)")
        #expect(result.stdout.contains("(netscape): 1 new"))
        #expect((try device.json("list", "--tag", "reading") as! [[String: Any]]).count == 1)
    }
}
