import Foundation
import GRDB
import ReadSyncClient

/// What issue 12 measures beside the sync: the disk each database takes, the
/// CLI's `add` of a folder of files, and a Pocket import.
enum StorageMeasures {
    /// Bytes of a SQLite database once its write-ahead log is checkpointed
    /// into it and truncated (a WAL file keeps its largest size otherwise:
    /// one big transaction leaves a log as large as what it wrote).
    static func databaseBytes(_ path: URL) throws -> Int {
        let database = try DatabaseQueue(path: path.path)
        try database.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
        try database.close()
        return ["", "-wal"].reduce(0) { total, suffix in
            let size = (try? FileManager.default.attributesOfItem(atPath: path.path + suffix)[.size] as? Int) ?? nil
            return total + (size ?? 0)
        }
    }

    /// Writes each article as a text file (title line, blank line, URL as
    /// front matter, body) and adds them with the `readsync` binary, `perCommand`
    /// files to a command, as a person adding a folder would; returns the seconds.
    static func addFiles(_ library: Library, binary: URL, in directory: URL, perCommand: Int) throws -> Double {
        let files = directory.appendingPathComponent("files")
        try FileManager.default.createDirectory(at: files, withIntermediateDirectories: true)
        var paths: [String] = []
        for (index, article) in library.articles.enumerated() {
            let path = files.appendingPathComponent(String(format: "%06d.md", index)).path
            try Data("---\nurl: \(article.url)\ntitle: \(article.title)\n---\n\n\(article.content)\n".utf8).write(to: URL(fileURLWithPath: path))
            paths.append(path)
        }
        let home = directory.appendingPathComponent("home").path
        let start = Date()
        for first in stride(from: 0, to: paths.count, by: perCommand) {
            let process = Process()
            process.executableURL = binary
            process.arguments = ["client", "--home", home, "add"] + paths[first..<min(first + perCommand, paths.count)]
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else { throw BenchError.mismatch("readsync client add exited with \(process.terminationStatus)") }
        }
        return Date().timeIntervalSince(start)
    }

    /// A 2025-style Pocket CSV export of `rows` distinct articles (as
    /// `scripts/make-pocket-csv.py` writes it), imported into a fresh home;
    /// returns the seconds of the import.
    static func pocketImport(rows: Int, in directory: URL) throws -> Double {
        var csv = "title,url,time_added,cursor,tags,status\r\n"
        for index in 0..<rows {
            let title = index % 1000 == 0 ? "\"Story \(index), \"\"quoted\"\"\nsecond line\"" : "Story number \(index) about things"
            let tags = index % 3 == 0 ? "news|tech" : index % 3 == 1 ? "long read" : ""
            csv +=
                "\(title),https://site\(index % 50).example.com/articles/\(index),\(1_600_000_000 + index),c\(index),\(tags),\(index % 4 == 0 ? "archive" : "unread")\r\n"
        }
        let list = try ReadingList(home: ClientHome(directory: directory.appendingPathComponent("pocket-home")))
        let source = ImportSource(name: "pocket.csv", data: Data(csv.utf8))
        let (seconds, result) = try Measure.time {
            defer { list.store.finishCopyingLog() }
            return try list.importSource(source)
        }
        guard result.summary.new == rows else { throw BenchError.mismatch("the Pocket import added \(result.summary.new) of \(rows)") }
        return seconds
    }
}
