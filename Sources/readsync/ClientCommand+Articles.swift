import ArgumentParser
import Foundation
import ReadSyncArticles
import ReadSyncClient

extension ClientCommand {
    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "init", abstract: "Set the sync server and this device's token.")
        @ParentCommand var client: ClientCommand
        @Option(help: "The sync server, e.g. http://127.0.0.1:8080.") var server: String
        @Option(
            help: "The token `readsync user add` printed, or - to read it from standard input (an argument shows in the process list, to every local account).")
        var token: String
        @Option(help: "What `readsync user devices` calls this device (default: the host name).") var name: String?
        @Option(
            name: .customLong("ca-file"),
            help: ArgumentHelp(
                "The PEM file of the private certificate authority that signed an https server's certificate (default: the system's authorities).",
                valueName: "pem"))
        var caFile: String?

        func validate() throws {
            if let name, name.isEmpty || name.count > 100 || name.unicodeScalars.contains(where: { $0.value < 32 || $0.value == 127 }) {
                throw ValidationError("--name must be 1–100 characters without control characters")
            }
            // Before the home is opened (and perhaps created) for nothing.
            // (ArgumentParser says an error of `validate` by its description:
            // this program's wording goes in first.)
            do {
                if let caFile { _ = try ReadingList.checkedCAFile(caFile, serverURL: server) }
            } catch {
                throw CommandFailure(CommandHint.message(for: error))
            }
        }

        func run() throws {
            let list = try client.openList()
            let deviceName = name ?? String(ProcessInfo.processInfo.hostName.prefix(100))
            let token = self.token == "-" ? (readLine(strippingNewline: true) ?? "").trimmingCharacters(in: .whitespaces) : self.token
            try list.configureServer(url: server, token: token, deviceName: deviceName, caFile: caFile)
            print("This device (\(deviceName), node \(list.store.node)) will sync with \(server). Its library is in \(list.home.directory.path).")
            if let caFile {
                print("It trusts the certificate authority in \(try ReadingList.checkedCAFile(caFile, serverURL: server)) for the server's certificate.")
            }
        }
    }

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add",
            abstract: "Save articles from files, http(s) URLs or - (standard input).",
            discussion: "Prints each article's id as the last line of its output.")
        @ParentCommand var client: ClientCommand
        @Argument(help: "Text, Markdown or HTML files, URLs, or - for standard input.") var inputs: [String]
        @Option(help: "Use this title instead of the one found.") var title: String?
        @Option(name: .customLong("tag"), help: "Tag the article (repeatable).") var tags: [String] = []

        func validate() throws {
            if inputs.isEmpty { throw ValidationError("give at least one file, URL or -") }
            if let title, title.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("--title must not be empty") }
        }

        /// The most text one chunk holds before it is written: a chunk is
        /// read whole before its transaction, and 1,000 large pages at once
        /// would take gigabytes.
        static let chunkBytes = 32 * 1_048_576

        func run() throws {
            let list = try client.openList()
            let ingestor = ArticleIngestor()
            var failures = 0
            // Read (or fetched) a chunk at a time, then written in one
            // transaction: no write transaction waits on the network, and
            // many files commit once per chunk rather than once each.
            var chunk: [Result<ArticleDraft, any Error>] = []
            var bytes = 0
            func write() throws {
                defer { (chunk, bytes) = ([], 0) }
                let readable = chunk.compactMap { try? $0.get() }
                var added: IndexingIterator<[Result<(id: String, outcome: AddOutcome), any Error>]>
                do {
                    added = try (readable.isEmpty ? [] : list.add(readable, tags: tags)).makeIterator()
                } catch {
                    // Nothing of this chunk was written: say what could not be read first.
                    for case .failure(let unreadable) in chunk { Terminal.error(unreadable) }
                    throw error
                }
                for draft in chunk {
                    do {
                        let draft = try draft.get()
                        let (id, outcome) = try added.next()!.get()
                        let words = draft.wordCount
                        print("\(outcome.rawValue): \(draft.title) — \(words) words, \(TextStatistics.readingMinutes(words: words)) min")
                        print(id)
                    } catch {
                        failures += 1
                        Terminal.error(error)
                    }
                }
            }
            for input in inputs {
                let draft = Result {
                    var draft = try ingestor.draft(from: input)
                    if let title { draft.title = title.trimmingCharacters(in: .whitespaces) }
                    return draft
                }
                chunk.append(draft)
                bytes += (try? draft.get())?.content.utf8.count ?? 0
                if chunk.count == ReadingList.importBatchSize || bytes >= Self.chunkBytes { try write() }
            }
            if !chunk.isEmpty { try write() }
            if failures > 0 { throw ExitCode.failure }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List saved articles, newest first.")
        @ParentCommand var client: ClientCommand
        @Flag(help: "Only articles not read yet.") var unread = false
        @Flag(help: "Only articles read.") var read = false
        @Flag(help: "Only archived articles.") var archived = false
        @Flag(help: "Only favorites.") var favorite = false
        @Option(help: "Only articles with this tag.") var tag: String?
        @OptionGroup var output: JSONFlag

        func run() throws {
            let articles = try client.openList().list(ListFilter(unread: unread, read: read, archived: archived, favorite: favorite, tag: tag))
            if output.json { return try Terminal.printJSON(articles) }
            if articles.isEmpty {
                print("No articles match.")
                return
            }
            for article in articles { print(Terminal.line(for: article)) }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show an article with its notes.")
        @ParentCommand var client: ClientCommand
        @Argument(help: "The article's id or a unique prefix.") var id: String
        @OptionGroup var output: JSONFlag

        func run() throws {
            let article = try client.openList().show(id)
            if output.json { return try Terminal.printJSON(article) }
            Terminal.printDetail(article)
        }
    }

    struct Search: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "search", abstract: "Search titles, bodies and notes; best match first.")
        @ParentCommand var client: ClientCommand
        @Argument(help: "Words that must all occur; word* matches a prefix.") var query: [String]
        @Option(help: "At most this many results.") var limit = 20
        @OptionGroup var output: JSONFlag

        func validate() throws {
            if limit < 1 { throw ValidationError("--limit must be at least 1") }
        }

        func run() throws {
            let hits = try client.openList().search(query.joined(separator: " "), limit: limit)
            if output.json { return try Terminal.printJSON(hits) }
            if hits.isEmpty {
                print("Nothing found.")
                return
            }
            for hit in hits {
                print("\(Terminal.shortID(hit.id))  \(hit.title)")
                print("          \(hit.snippet)")
            }
        }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "status", abstract: "Show the library's counts and pending changes.")
        @ParentCommand var client: ClientCommand
        @OptionGroup var output: JSONFlag

        func run() throws {
            let status = try client.openList().status()
            if output.json { return try Terminal.printJSON(status) }
            print("library:  \(status.home)")
            print("device:   \(status.node)")
            print("articles: \(status.articles) (\(status.unread) unread, \(status.deleted) in trash), \(status.notes) notes")
            print("pending:  \(status.pendingChanges) changes not yet synced")
            print("server:   \(status.server ?? "none (local only; `readsync client init` sets one)")")
            if status.server != nil { print("synced:   \(status.lastSync ?? "never")") }
            if status.conflicts > 0 { print("conflicts: \(status.conflicts) (see `readsync client conflicts`)") }
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "delete", abstract: "Move an article to the trash (its notes and tags go with it).")
        @ParentCommand var client: ClientCommand
        @Argument(help: "The article's id or a unique prefix.") var id: String

        func run() throws {
            let id = try client.openList().delete(id)
            print("Moved \(id) to the trash; `readsync client restore \(Terminal.shortID(id))` brings it back.")
        }
    }

    struct Trash: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "trash", abstract: "List deleted articles.")
        @ParentCommand var client: ClientCommand
        @OptionGroup var output: JSONFlag

        func run() throws {
            let articles = try client.openList().trash()
            if output.json { return try Terminal.printJSON(articles) }
            if articles.isEmpty {
                print("The trash is empty.")
                return
            }
            for article in articles { print(Terminal.line(for: article)) }
        }
    }

    struct Restore: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "restore", abstract: "Bring a deleted article back, with its notes and tags.")
        @ParentCommand var client: ClientCommand
        @Argument(help: "The article's id or a unique prefix.") var id: String

        func run() throws {
            let id = try client.openList().restore(id)
            print("Restored \(id).")
        }
    }
}
