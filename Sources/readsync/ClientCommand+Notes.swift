import ArgumentParser
import ReadSyncClient

extension ClientCommand {
    struct Note: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "note", abstract: "Add a note to an article; prints the note's id.")
        @ParentCommand var client: ClientCommand
        @Argument(help: "The article's id or a unique prefix.") var id: String
        @Argument(help: "The note.") var text: String
        @Option(help: "The passage the note is about.") var quote: String?

        func run() throws {
            print(try client.openList().addNote(to: id, body: text, quote: quote))
        }
    }

    struct NoteEdit: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "note-edit", abstract: "Replace a note's text.")
        @ParentCommand var client: ClientCommand
        @Argument(help: "The note's id or a unique prefix.") var id: String
        @Argument(help: "The new text.") var text: String

        func run() throws {
            print("Edited note \(try client.openList().editNote(id, body: text)).")
        }
    }

    struct NoteDelete: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "note-delete", abstract: "Delete a note.")
        @ParentCommand var client: ClientCommand
        @Argument(help: "The note's id or a unique prefix.") var id: String

        func run() throws {
            print("Deleted note \(try client.openList().deleteNote(id)).")
        }
    }
}
