import ArgumentParser
import Foundation
import ReadSyncArticles
import ReadSyncClient

extension ImportFormat: ExpressibleByArgument {}
extension ExportFormat: ExpressibleByArgument {}

extension ClientCommand {
    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import",
            abstract: "Import exports from Pocket, Instapaper, browsers, wallabag, Omnivore, Readwise or readsync.",
            discussion: """
                The format is recognised from each file's content (a Pocket or Omnivore zip is read as the files \
                inside it). Offline and metadata-only unless --fetch is given. Importing again, or an overlapping \
                file, changes nothing: import only fills in what the library does not have yet.
                """)
        @ParentCommand var client: ClientCommand
        @Argument(help: "Export files (CSV, HTML, JSON, or zip).") var files: [String]
        @Option(help: "The format of every file: \(ImportFormat.allCases.map(\.rawValue).joined(separator: ", ")).") var format: ImportFormat?
        @Flag(help: "Afterwards, fetch the pages of imported articles that have no body.") var fetch = false

        func validate() throws {
            if files.isEmpty { throw ValidationError("give at least one export file") }
        }

        func run() throws {
            let list = try client.openList()
            var total = ImportSummary()
            var unreadable = 0
            for path in files {
                do {
                    for source in try ImportSource.read(path) {
                        if format == nil, source.isArchiveMember, ImportFormat.detect(source.data) == nil {
                            print("\(source.name): not an export, left out")
                            continue
                        }
                        let bar = ProgressBar(label: "Importing \((source.name as NSString).lastPathComponent)")
                        let (format, summary) = try list.importSource(source, format: format) { bar.update($0, of: $1) }
                        bar.finish()
                        print("\(source.name) (\(format.rawValue)): \(Self.counts(summary))")
                        total.add(summary)
                    }
                } catch {
                    unreadable += 1
                    Terminal.error(error)
                }
            }
            if files.count > 1 { print("Total: \(Self.counts(total))") }
            for problem in total.skipped { print("  skipped \(problem)") }
            for problem in total.warnings { print("  warning \(problem)") }
            if fetch { try fetchBodies(total.withoutBody, into: list) }
            if unreadable > 0 { throw ExitCode.failure }
        }

        static func counts(_ summary: ImportSummary) -> String {
            "\(summary.new) new, \(summary.updated) updated, \(summary.unchanged) unchanged, \(summary.skipped.count) skipped"
                + (summary.warnings.isEmpty ? "" : ", \(summary.warnings.count) warnings")
        }

        private func fetchBodies(_ requests: [BodyRequest], into list: ReadingList) throws {
            guard !requests.isEmpty else {
                print("Nothing to fetch: every imported article has its body.")
                return
            }
            let bar = ProgressBar(label: "Fetching")
            var fetched = 0, done = 0
            var failures: [(BodyRequest, FetchError)] = []
            var storeError: (any Error)?
            BodyFetcher().fetch(requests) { request, result in
                done += 1
                bar.update(done, of: requests.count)
                switch result {
                case .success(let draft):
                    do {
                        if try list.fillBody(request.articleID, from: draft) { fetched += 1 }
                    } catch { storeError = storeError ?? error }
                case .failure(let error): failures.append((request, error))
                }
            }
            bar.finish()
            if let storeError { throw storeError }
            print("Fetched \(fetched) of \(requests.count) bodies; \(failures.count) failed.")
            for (_, error) in failures { print("  failed \(error)") }
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "export",
            abstract: "Export the library (JSON re-imports losslessly).",
            discussion: "epub makes one book for an e-reader, a chapter per article with its notes: `export --format epub --unread --out unread.epub`.")
        @ParentCommand var client: ClientCommand
        @Option(help: "json (every field, note and tag), netscape (bookmarks HTML), markdown, csv or epub (a book for e-readers).")
        var format: ExportFormat = .json
        @Option(help: "Write to this file instead of standard output.") var out: String?
        @Flag(help: "Only articles not read yet.") var unread = false
        @Option(help: "Only articles with this tag.") var tag: String?

        func validate() throws {
            if !format.isText, out == nil, isatty(STDOUT_FILENO) == 1 {
                throw ValidationError("an \(format.rawValue) file is not for a terminal: give --out FILE.\(format.rawValue) (or redirect standard output)")
            }
        }

        func run() throws {
            let list = try client.openList()
            let articles = try list.exportArticles(ListFilter(unread: unread, tag: tag))
            if format == .epub, articles.isEmpty {
                throw CommandFailure("there are no \(chosen) to put in an EPUB; nothing was written")
            }
            let title = "readsync: " + (unread || tag != nil ? chosen : "every article")
            let bytes = try LibraryExporter.render(articles, as: format, exportedAt: Date(), title: title)
            guard let out else { return FileHandle.standardOutput.write(bytes) }
            do {
                try bytes.write(to: URL(fileURLWithPath: out), options: .atomic)
            } catch {
                throw CommandFailure("cannot write \(out): \((error as NSError).localizedDescription)")
            }
            FileHandle.standardError.write(Data("Exported \(articles.count) articles to \(out) (\(format.rawValue)).\n".utf8))
        }

        /// Which articles, in words: "articles", "unread articles tagged news".
        var chosen: String {
            switch (unread, tag) {
            case (false, nil): return "articles"
            case (true, nil): return "unread articles"
            case (false, let tag?): return "articles tagged \(tag)"
            case (true, let tag?): return "unread articles tagged \(tag)"
            }
        }
    }
}
