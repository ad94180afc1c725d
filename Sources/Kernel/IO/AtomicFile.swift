import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writes files all-or-nothing: a reader sees either the previous file or the complete new one, never a
/// half-written file, even if the writer throws, the process dies or the machine loses power midway.
///
/// The content goes to a temporary file in the same directory (so the final step never crosses a file
/// system), which is flushed to disk and then renamed over the target in one atomic step. On any failure
/// the temporary file is removed and the target is left as it was. The new file gets the default
/// permissions (0666 minus the umask), not those of the file it replaces.
///
/// ```swift
/// try AtomicFile.write(Data(json.utf8), to: resultsURL)
/// try AtomicFile.write(to: url) { out in
///     try out.write(headerBytes)
///     for chunk in chunks { try out.write(chunk) }
/// }
/// ```
public enum AtomicFile {
    /// Replaces the file at `url` with `data`, atomically.
    public static func write(_ data: Data, to url: URL) throws {
        try write(to: url) { out in try out.write(data) }
    }

    /// Replaces the file at `url` with the UTF-8 bytes of `text`, atomically.
    public static func write(_ text: String, to url: URL) throws {
        try write(Data(text.utf8), to: url)
    }

    /// Replaces the file at `url` with whatever `body` writes to its `Output`, atomically.
    ///
    /// If `body` throws, the error is rethrown after the temporary file is removed; the previous content
    /// of `url` (if any) is untouched. Errors of the file system itself are `FileIOError`s.
    public static func write(to url: URL, _ body: (Output) throws -> Void) throws {
        _ = try write(to: url, exclusive: false, body)
    }

    /// Creates the file at `url` with `data`, atomically, unless a file is already there: returns false, and
    /// leaves that file alone, when one exists (also when another process, on this host or another one sharing
    /// the filesystem, created it a moment earlier). The complete file is linked into place (`link`, which
    /// fails when the name exists), so whichever writer comes first wins whole and the others learn it. (On a
    /// filesystem without hard links the check and a rename are two steps, so a race there is not excluded.)
    public static func create(_ data: Data, at url: URL) throws -> Bool {
        try write(to: url, exclusive: true) { out in try out.write(data) }
    }

    /// Writes the temporary file, then renames it over `url` or, `exclusive`, links it to `url` unless that
    /// exists. Returns whether the file at `url` is now this one.
    private static func write(to url: URL, exclusive: Bool, _ body: (Output) throws -> Void) throws -> Bool {
        let target = url.path
        let directory = url.deletingLastPathComponent().path
        let (descriptor, temporaryPath) = try createTemporaryFile(besides: url)
        let output = Output(descriptor: descriptor, path: target)
        var renamed = false
        defer {
            if !output.isClosed { _ = close(descriptor) }
            if !renamed { _ = unlink(temporaryPath) }
        }
        try body(output)
        try output.flush()
        FaultInjection.point("write \(url.lastPathComponent)")
        if fsync(descriptor) != 0 {
            throw FileIOError.fromErrno(path: target, operation: "flush temporary file to disk")
        }
        output.isClosed = true
        if close(descriptor) != 0 {
            throw FileIOError.fromErrno(path: target, operation: "close temporary file")
        }
        func renameIntoPlace() throws {
            if rename(temporaryPath, target) != 0 {
                throw FileIOError.fromErrno(path: target, operation: "rename temporary file into place")
            }
            renamed = true
        }
        if !exclusive {
            try renameIntoPlace()
        } else if link(temporaryPath, target) != 0 {
            // Taken (EEXIST), or, on a filesystem without hard links, taken by the time we look.
            if errno == EEXIST || access(target, F_OK) == 0 { return false }
            // No hard links here: check and rename are two steps, so two racing writers both rename.
            try renameIntoPlace()
        }
        // (After a link, the deferred cleanup unlinks the temporary name; the file lives on under `target`.)
        syncDirectory(directory)
        return true
    }

    /// The sink handed to the body of `write(to:_:)`, valid only while the body runs. Small writes are
    /// gathered in a buffer; large ones go straight to the file.
    public final class Output {
        fileprivate let descriptor: Int32
        fileprivate let path: String
        fileprivate var isClosed = false
        private var buffer: [UInt8] = []
        private static let bufferCapacity = 1 << 20

        /// The number of bytes accepted so far.
        public private(set) var bytesWritten = 0

        fileprivate init(descriptor: Int32, path: String) {
            self.descriptor = descriptor
            self.path = path
            buffer.reserveCapacity(Output.bufferCapacity)
        }

        /// Appends raw bytes.
        public func write(_ bytes: UnsafeRawBufferPointer) throws {
            guard let base = bytes.baseAddress, bytes.count > 0 else { return }
            if let capacity = FaultInjection.simulatedDiskFullAfterBytes, bytesWritten + bytes.count > capacity {
                throw FileIOError(path: path, operation: "write temporary file", code: ENOSPC)
            }
            bytesWritten += bytes.count
            if buffer.count + bytes.count <= Output.bufferCapacity {
                buffer.append(contentsOf: bytes)
                return
            }
            try flush()
            if bytes.count < Output.bufferCapacity {
                buffer.append(contentsOf: bytes)
            } else {
                try writeFully(base, count: bytes.count)
            }
        }

        /// Appends the bytes of `data`.
        public func write(_ data: Data) throws {
            try data.withUnsafeBytes { try write($0) }
        }

        /// Appends `bytes`.
        public func write(_ bytes: [UInt8]) throws {
            try bytes.withUnsafeBytes { try write($0) }
        }

        /// Appends the UTF-8 bytes of `text`.
        public func write(_ text: String) throws {
            try write(Array(text.utf8))
        }

        /// Hands buffered bytes to the operating system.
        fileprivate func flush() throws {
            guard !buffer.isEmpty else { return }
            try buffer.withUnsafeBytes { raw in
                if let base = raw.baseAddress { try writeFully(base, count: raw.count) }
            }
            buffer.removeAll(keepingCapacity: true)
        }

        private func writeFully(_ start: UnsafeRawPointer, count: Int) throws {
            var done = 0
            while done < count {
                let n = posixWrite(descriptor, start + done, count - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw FileIOError.fromErrno(path: path, operation: "write temporary file")
                }
                done += n
            }
        }
    }

    /// Whether `name` is the temporary name of an atomic write (`.<name>.tmp-<host>-<pid>-<hex>`, or the older
    /// `.<name>.tmp-<pid>-<hex>`), and who wrote it.
    public static func temporaryFileOwner(_ name: String) -> TemporaryOwner? {
        guard name.hasPrefix("."), let range = name.range(of: ".tmp-", options: .backwards) else { return nil }
        let parts = name[range.upperBound...].split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 2, UInt32(parts[parts.count - 1], radix: 16) != nil else { return nil }
        return TemporaryOwner.parse(Array(parts.dropLast()))
    }

    /// Deletes the temporary files of atomic writes under `directory` (recursively) that their writer left:
    /// written on this host by a process that is gone (`TemporaryOwner.isAbandoned`; another host's files, on a
    /// shared filesystem, are never touched). Returns how many were removed.
    @discardableResult
    public static func removeLeftovers(under directory: URL) -> Int {
        guard let walker = FileManager.default.enumerator(atPath: directory.path) else { return 0 }
        var removed = 0
        while let relative = walker.nextObject() as? String {
            let name = (relative as NSString).lastPathComponent
            guard let owner = temporaryFileOwner(name), owner.isAbandoned else { continue }
            if unlink((directory.path as NSString).appendingPathComponent(relative)) == 0 { removed += 1 }
        }
        return removed
    }

    /// Creates `.<name>.tmp-<host>-<pid>-<random>` next to `url`, exclusively, for writing.
    private static func createTemporaryFile(besides url: URL) throws -> (Int32, String) {
        let directory = url.deletingLastPathComponent().path
        let name = url.lastPathComponent
        var generator = SystemRandomNumberGenerator()
        var attempt = 0
        while true {
            let suffix = String(generator.next() as UInt32, radix: 16)
            let path = (directory as NSString).appendingPathComponent(
                ".\(name).tmp-\(TemporaryOwner.current)-\(suffix)")
            let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
            if descriptor >= 0 { return (descriptor, path) }
            attempt += 1
            if errno != EEXIST || attempt >= 16 {
                throw FileIOError.fromErrno(path: url.path, operation: "create a temporary file in \(directory)")
            }
        }
    }

    /// Makes the rename itself durable. Failure here is harmless for correctness, so it is ignored.
    private static func syncDirectory(_ directory: String) {
        let descriptor = open(directory, O_RDONLY | O_CLOEXEC)
        if descriptor >= 0 {
            _ = fsync(descriptor)
            _ = close(descriptor)
        }
    }
}

/// The system `write(2)` (inside `Output` the name `write` means its own methods).
private func posixWrite(_ descriptor: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
    write(descriptor, bytes, count)
}
