import ReadSyncClient
import ReadSyncCore
import ReadSyncServer

/// What this command line says of a library's error. The libraries say what
/// went wrong in their own terms; which of this program's commands or flags
/// helps is this program's to say, here, for every error it prints.
enum CommandHint {
    /// `error` as this program says it: with the command that helps, where
    /// one does; else the error's own description.
    static func message(for error: any Error) -> String {
        hinted(error) ?? String(describing: error)
    }

    /// The message of an error a command helps with; nil for the others.
    static func hinted(_ error: any Error) -> String? {
        switch error {
        case LookupError.unknownArticle: return "\(error) (see `readsync client list`)"
        case LookupError.unknownNote: return "\(error) (see `readsync client show ARTICLE`)"
        case LookupError.articleDeleted(let id): return "\(error); `readsync client restore \(id)` brings it back"
        case ServerSettingsError.invalidToken: return "\(error) (as `readsync user add` prints it)"
        case ServerSettingsError.credentialsInServerURL: return "\(error); give the token with --token"
        // The flag is what the sentence is about: said in this program's words.
        case ServerSettingsError.caFileWithoutHTTPS(let url): return "--ca-file is for an https:// server, and \(url) is not one"
        case VerifyError.pendingChanges, VerifyError.behind: return "\(error); run `readsync client sync`, then verify"
        case SyncError.notConfigured: return "\(error); run `readsync client init --server URL --token TOKEN`"
        case SyncError.untrustedCertificate:
            return "\(error); if a private certificate authority signed it, give its PEM file with `readsync client init --ca-file FILE`"
        case SyncError.refused(_, _, .unauthorized, _):
            return "\(error); get a new one with `readsync user token NAME` and run `readsync client init` again"
        case UserError.exists(let name): return "\(error); `readsync user token \(name)` gives them a new token"
        case UserError.unknown: return "\(error) (see `readsync user list`)"
        case ServerBackup.Failure.noDatabase: return "\(error); --data must name the folder `readsync serve --data` uses"
        default: return nil
        }
    }
}
