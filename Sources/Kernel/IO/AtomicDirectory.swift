import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writes a whole directory all-or-nothing: the files go into a temporary sibling
/// (`.<name>.tmp-<host>-<pid>-<hex>`), which is renamed to the target only when every file is written. A reader never
/// sees a half-written directory at the target; a failure or a kill leaves at most the temporary sibling.
public enum AtomicDirectory {
    /// Fails when the target exists and replacing was not asked for.
    public struct ExistsError: Error, CustomStringConvertible {
        public let path: String
        public var description: String {
            "\(path) already exists; choose another output or pass --force to replace it"
        }
    }

    /// Builds the directory `url` with `body`, which fills the (empty, temporary) directory it is given.
    ///
    /// When `url` exists: without `replacing` an `ExistsError` is thrown before `body` runs; with it, the old
    /// directory is moved aside, the new one renamed into place, and only then the old one deleted (it is put
    /// back if the rename fails).
    public static func write(to url: URL, replacing: Bool = false, _ body: (URL) throws -> Void) throws {
        let fm = FileManager.default
        let target = url.standardizedFileURL
        if fm.fileExists(atPath: target.path) && !replacing { throw ExistsError(path: target.path) }
        let parent = target.deletingLastPathComponent()
        do {
            try fm.createDirectory(at: parent, withIntermediateDirectories: true)
        } catch {
            throw FileIOError(
                path: parent.path, operation: "create the directory", code: 0, detail: error.localizedDescription)
        }
        let temporary = sibling(of: target, tag: "tmp")
        do {
            try fm.createDirectory(at: temporary, withIntermediateDirectories: false)
        } catch {
            throw FileIOError(
                path: temporary.path, operation: "create a temporary directory", code: 0,
                detail: error.localizedDescription)
        }
        var done = false
        defer { if !done { try? fm.removeItem(at: temporary) } }
        try body(temporary)
        FaultInjection.point("rename directory \(target.lastPathComponent)")
        if fm.fileExists(atPath: target.path) {
            let old = sibling(of: target, tag: "old")
            guard rename(target.path, old.path) == 0 else {
                throw FileIOError.fromErrno(path: target.path, operation: "move the old directory aside")
            }
            guard rename(temporary.path, target.path) == 0 else {
                let error = FileIOError.fromErrno(path: target.path, operation: "rename the new directory into place")
                _ = rename(old.path, target.path)
                throw error
            }
            done = true
            try? fm.removeItem(at: old)
        } else {
            guard rename(temporary.path, target.path) == 0 else {
                throw FileIOError.fromErrno(path: target.path, operation: "rename the new directory into place")
            }
            done = true
        }
        syncDirectory(parent.path)
    }

    /// `.<name>.<tag>-<pid>-<hex>` beside `url`.
    static func sibling(of url: URL, tag: String) -> URL {
        var generator = SystemRandomNumberGenerator()
        let suffix = String(generator.next() as UInt32, radix: 16)
        return url.deletingLastPathComponent().appendingPathComponent(
            ".\(url.lastPathComponent).\(tag)-\(TemporaryOwner.current)-\(suffix)")
    }

    private static func syncDirectory(_ path: String) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        if descriptor >= 0 {
            _ = fsync(descriptor)
            _ = close(descriptor)
        }
    }
}
