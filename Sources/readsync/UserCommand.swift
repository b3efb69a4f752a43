import ArgumentParser
import Foundation
import ReadSyncServer

/// `readsync user …`: accounts on the sync server (run beside it, on its data folder or database).
struct UserCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user",
        abstract: "Manage the sync server's users.",
        subcommands: [Add.self, List.self, Revoke.self, Token.self, Wallabag.self, Password.self, Devices.self, ForgetDevice.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add", abstract: "Create a user; prints their token as the last line.")
        @Argument(help: "1–64 letters, digits, '.', '_' or '-'.") var name: String
        @OptionGroup var data: ServerStoreOption

        func validate() throws {
            guard AccessToken.isValidUserName(name) else { throw UserError.invalidName(name) }
        }

        func run() throws {
            let token = AccessToken.generate()
            try data.withStore { try $0.addUser(name: name, tokenHash: AccessToken.hash(token)) }
            print("Created user \(name). Their token (shown only now; the server keeps only its hash):")
            print(token)
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List users.")
        @OptionGroup var data: ServerStoreOption

        func run() throws {
            let users = try data.withStore { try $0.users() }
            if users.isEmpty {
                print("No users yet; `readsync user add NAME` creates one.")
                return
            }
            for user in users {
                print("\(user.name)  \(user.active ? "active " : "revoked")  \(user.changes) changes  since \(user.createdAt)")
            }
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "revoke", abstract: "Revoke a user's token (their data stays).")
        @Argument var name: String
        @OptionGroup var data: ServerStoreOption

        func run() throws {
            try data.withStore { try $0.revoke(name: name) }
            print("Revoked \(name)'s token; `readsync user token \(name)` issues a new one.")
        }
    }

    struct Token: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "token", abstract: "Issue a new token for a user (the old one stops working); prints it as the last line.")
        @Argument var name: String
        @OptionGroup var data: ServerStoreOption

        func run() throws {
            let token = AccessToken.generate()
            try data.withStore { try $0.replaceToken(name: name, tokenHash: AccessToken.hash(token)) }
            print("New token for \(name):")
            print(token)
        }
    }

    struct Wallabag: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "wallabag",
            abstract:
                "Make a user's credentials for wallabag apps (KOReader, the Android and iOS apps, the browser extension); prints them as `key: value` lines.",
            discussion:
                "Running it again replaces them: apps signed in with the old ones must sign in again. They are shown only now; the server keeps their hashes.")
        @Argument var name: String
        @Flag(help: "Take the user's wallabag credentials away instead (every app signed in with them is signed out).") var revoke = false
        @OptionGroup var data: ServerStoreOption

        func run() throws {
            if revoke {
                try data.withStore { try $0.setWallabagCredentials(name: name, nil) }
                print("Revoked \(name)'s wallabag credentials; apps signed in with them can no longer sync.")
                return
            }
            let credentials = WallabagCredentials.generate()
            try data.withStore { try $0.setWallabagCredentials(name: name, credentials.hashes) }
            print("client_id: \(credentials.clientID)")
            print("client_secret: \(credentials.clientSecret)")
            print("username: \(name)")
            print("password: \(credentials.password)")
        }
    }

    struct Password: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "password",
            abstract: "Set the password a user signs in to the web reader with.",
            discussion: """
                Read from standard input: asked twice at a terminal, one line from a pipe. --generate makes a random one and \
                prints it as the last line. The server keeps a bcrypt hash of it.
                """)
        @Argument var name: String
        @Flag(help: "Make a random password and print it, instead of reading one.") var generate = false
        @OptionGroup var data: ServerStoreOption

        func run() throws {
            let password = generate ? WebPassword.generate() : try Self.readPassword(for: name)
            let hash: String
            do { hash = try WebPassword.hash(password) } catch { throw CommandFailure(error.description) }
            try data.withStore { try $0.setWebPassword(name: name, hash: hash) }
            if generate {
                print("Web reader password for \(name) (shown only now; the server keeps only its hash):")
                print(password)
            } else {
                print("Set \(name)'s web reader password.")
            }
        }

        /// Twice without echo at a terminal; else the first line of standard input.
        static func readPassword(for name: String) throws -> String {
            if isatty(STDIN_FILENO) != 0 {
                guard let first = getpass("New web reader password for \(name): ").map({ String(cString: $0) }),
                    let second = getpass("Again: ").map({ String(cString: $0) })
                else { throw CommandFailure("no password was read") }
                guard first == second else { throw CommandFailure("the two passwords differ; nothing was changed") }
                return first
            }
            guard let line = readLine(strippingNewline: true) else {
                throw CommandFailure("no password on standard input: pipe one line, or use --generate")
            }
            return line.hasSuffix("\r") ? String(line.dropLast()) : line
        }
    }

    struct Devices: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "devices",
            abstract: "List a user's devices: node id, name, last seen, how far each has pulled or when it was retired.")
        @Argument var name: String
        @OptionGroup var data: ServerStoreOption
        @Flag(name: .long, help: "Print JSON for scripts.") var json = false

        func run() throws {
            let devices = try data.withStore { try $0.devices(ofUserNamed: name) }
            if json { return try Terminal.printJSON(devices) }
            if devices.isEmpty {
                print("\(name) has no devices yet; a device appears at its first sync.")
                return
            }
            for device in devices {
                let name = device.name.isEmpty ? "(no name)" : device.name
                let state = device.retiredAt.map { "retired \($0) (syncs in full when it returns)" } ?? "pulled \(device.pulled) of \(device.latest)"
                print("\(device.node)  \(name)  last seen \(device.lastSeen)  \(state)")
            }
        }
    }

    struct ForgetDevice: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "forget-device",
            abstract: "Forget one of a user's devices (one given away or lost); a device still in use reappears at its next sync.")
        @Argument var name: String
        @Argument(help: "The device's node id, as `user devices` lists it.") var device: String
        @OptionGroup var data: ServerStoreOption

        func run() throws {
            guard try data.withStore({ try $0.forgetDevice(device, ofUserNamed: name) }) else {
                throw ValidationError("\(name) has no device \(device) (see `readsync user devices \(name)`)")
            }
            print("Forgot \(name)'s device \(device).")
        }
    }
}
