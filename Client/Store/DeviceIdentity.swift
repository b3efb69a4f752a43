import Foundation
import GRDB
import ReadSyncCore

#if canImport(Glibc)
import Glibc
#endif

/// Which device a library belongs to. A node id belongs to one device
/// (DESIGN.md, rule 7): a home copied to another machine, or restored from a
/// backup onto a new one, must not go on writing under the original's id,
/// or version vectors can no longer tell the two devices' writes apart.
///
/// Beside the node id, a library records which file its database is: the
/// file's inode number. A copy is a new file (`cp`, a backup restored onto a
/// new machine), and a library whose file is not the one recorded takes a
/// new node id of its own before it writes anything (a home moved to
/// another disk is a new file too, which is harmless to treat alike). Not
/// the device number or the machine id: those change at every mount of a
/// network file system, or at every boot of some read-only systems, and a
/// new node id at every start would grow every vector without end. Its earlier writes keep their stamps, so
/// whichever copy sends them, the server stores them once. (A copy this
/// cannot see, such as a cloned virtual machine, the server catches: see
/// `SyncError.nodeInUse`.)
public enum DeviceIdentity {
    /// A library that turned out to be a copy, and the id it moved to.
    public struct Fork: Sendable, Equatable {
        public let from: NodeID
        public let to: NodeID
        /// The waiting writes stamped again under the new id, before and after
        /// (none when the copy was seen on opening, before any write).
        public var restamped: [Restamp] = []

        public init(from: NodeID, to: NodeID) {
            self.from = from
            self.to = to
        }
    }

    public struct Restamp: Sendable, Equatable {
        public let key: RegisterKey
        public let before: Register
        public let after: Register
    }

    /// Which file the database at `path` is (`inode:<number>`); nil when it
    /// cannot be told.
    static func ofFile(at path: String) -> String? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return "inode:\(info.st_ino)"
    }

    /// The library's node id: the stored one, a new one when the library is
    /// new (`requested`, or random), or a new one when its file is not where
    /// the library was (`file`: `ofFile`; nil for a library in memory).
    static func resolve(requested: NodeID?, file: String?, _ db: Database) throws -> (node: NodeID, fork: Fork?) {
        var fork: Fork?
        let node: NodeID
        if let stored = try MetaKey.node.read(db).flatMap(NodeID.init) {
            if let file, let recorded = try MetaKey.fileIdentity.read(db), recorded != file {
                node = NodeID.random()
                fork = Fork(from: stored, to: node)
                try MetaKey.node.write(node.rawValue, db)
                try MetaKey.copiedFrom.write(stored.rawValue, db)
                // Its waiting writes keep the old id's stamps, and the old
                // id's chain of pushes is the original's.
                try Outbox.resetBases(db) { _ in nil }
                try MetaKey.pushToken.write(nil, db)
                try MetaKey.pendingPushToken.write(nil, db)
            } else {
                node = stored
            }
        } else {
            node = requested ?? NodeID.random()
            try MetaKey.node.write(node.rawValue, db)
        }
        if let file, try MetaKey.fileIdentity.read(db) != file { try MetaKey.fileIdentity.write(file, db) }
        return (node, fork)
    }
}
