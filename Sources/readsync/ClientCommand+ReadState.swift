import ArgumentParser
import ReadSyncClient

/// The read-state commands differ only in what they set.
protocol ArticleFlagCommand: ParsableCommand {
    var client: ClientCommand { get }
    var id: String { get }
    static var pastTense: String { get }
    static func apply(_ list: ReadingList, _ id: String) throws -> String
}

extension ArticleFlagCommand {
    func run() throws {
        let id = try Self.apply(client.openList(), id)
        print("\(Self.pastTense) \(id).")
    }
}

extension ClientCommand {
    struct Read: ArticleFlagCommand {
        static let configuration = CommandConfiguration(commandName: "read", abstract: "Mark an article read.")
        @ParentCommand var client: ClientCommand
        @Argument(help: "The article's id or a unique prefix.") var id: String
        static let pastTense = "Marked read:"
        static func apply(_ list: ReadingList, _ id: String) throws -> String { try list.setRead(id, true) }
    }

    struct Unread: ArticleFlagCommand {
        static let configuration = CommandConfiguration(commandName: "unread", abstract: "Mark an article unread.")
        @ParentCommand var client: ClientCommand
        @Argument(help: "The article's id or a unique prefix.") var id: String
        static let pastTense = "Marked unread:"
        static func apply(_ list: ReadingList, _ id: String) throws -> String { try list.setRead(id, false) }
    }

    struct Archive: ArticleFlagCommand {
        static let configuration = CommandConfiguration(commandName: "archive", abstract: "Archive an article.")
        @ParentCommand var client: ClientCommand
        @Argument(help: "The article's id or a unique prefix.") var id: String
        static let pastTense = "Archived"
        static func apply(_ list: ReadingList, _ id: String) throws -> String { try list.setArchived(id, true) }
    }

    struct Unarchive: ArticleFlagCommand {
        static let configuration = CommandConfiguration(commandName: "unarchive", abstract: "Take an article out of the archive.")
        @ParentCommand var client: ClientCommand
        @Argument(help: "The article's id or a unique prefix.") var id: String
        static let pastTense = "Unarchived"
        static func apply(_ list: ReadingList, _ id: String) throws -> String { try list.setArchived(id, false) }
    }

    struct Favorite: ArticleFlagCommand {
        static let configuration = CommandConfiguration(commandName: "favorite", abstract: "Mark an article as a favorite.")
        @ParentCommand var client: ClientCommand
        @Argument(help: "The article's id or a unique prefix.") var id: String
        static let pastTense = "Favorited"
        static func apply(_ list: ReadingList, _ id: String) throws -> String { try list.setFavorite(id, true) }
    }

    struct Unfavorite: ArticleFlagCommand {
        static let configuration = CommandConfiguration(commandName: "unfavorite", abstract: "Remove an article from the favorites.")
        @ParentCommand var client: ClientCommand
        @Argument(help: "The article's id or a unique prefix.") var id: String
        static let pastTense = "Unfavorited"
        static func apply(_ list: ReadingList, _ id: String) throws -> String { try list.setFavorite(id, false) }
    }

    struct Progress: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "progress", abstract: "Record how far you have read, in percent (0–100).")
        @ParentCommand var client: ClientCommand
        @Argument(help: "The article's id or a unique prefix.") var id: String
        @Argument(help: "Percent read, 0 to 100 (a trailing % is fine).") var percent: String

        func run() throws {
            let text = percent.hasSuffix("%") ? String(percent.dropLast()) : percent
            guard let value = Double(text), value.isFinite, (0...100).contains(value) else {
                throw EditError.invalidProgress(percent)
            }
            let id = try client.openList().setProgress(id, percent: value)
            print("Progress of \(id): \(Terminal.percent(value / 100)).")
        }
    }

    struct Tag: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "tag", abstract: "Add (+name) and remove (-name) tags.")
        @ParentCommand var client: ClientCommand
        @Argument(help: "The article's id or a unique prefix.") var id: String
        @Argument(parsing: .allUnrecognized, help: "+name adds a tag, -name removes one.") var changes: [String] = []

        func run() throws {
            guard !changes.isEmpty else { throw ValidationError("give at least one +name or -name") }
            var add: [String] = [], remove: [String] = []
            for change in changes {
                switch change.first {
                case "+": add.append(String(change.dropFirst()))
                case "-": remove.append(String(change.dropFirst()))
                default: throw EditError.invalidTag(change)
                }
            }
            let list = try client.openList()
            let id = try list.tag(id, add: add, remove: remove)
            let tags = try list.show(id).tags
            print("Tags of \(id): \(tags.isEmpty ? "none" : tags.joined(separator: ", ")).")
        }
    }
}
