/// An error that refuses what was asked and wrote nothing: an import skips
/// the item it meets and goes on. (A storage fault, `HomeError`, is not one:
/// it stops the import.)
public protocol LibraryRefusal: Error, CustomStringConvertible {}
