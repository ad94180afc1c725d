import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The bytes of a file, mapped read-only into memory so that a large file is paged in on demand instead of
/// being copied. Falls back to reading the file into memory when the file system cannot map it.
///
/// The mapping lives as long as this object. (If another process truncates the file while it is mapped,
/// touching the lost pages raises SIGBUS; do not rewrite a file in place while reading it. `AtomicFile`
/// replaces files by rename, which leaves existing mappings intact.)
public final class MappedFile {
    /// The first byte; `nil` for an empty file.
    public let bytes: UnsafeRawPointer?
    /// The file size in bytes.
    public let count: Int
    private let isMapped: Bool

    /// Maps the file at `path`. Throws `FileIOError` when it cannot be opened, is not a regular file or
    /// cannot be read.
    public init(path: String) throws {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw FileIOError.fromErrno(path: path, operation: "open for reading") }
        defer { _ = close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            throw FileIOError.fromErrno(path: path, operation: "read file size")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw FileIOError(path: path, operation: "read", code: 0, detail: "not a regular file")
        }
        let size = Int(info.st_size)
        count = size
        if size == 0 {
            bytes = nil
            isMapped = false
            return
        }
        if let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0),
            address != UnsafeMutableRawPointer(bitPattern: -1)
        {
            bytes = UnsafeRawPointer(address)
            isMapped = true
            return
        }
        // Some file systems refuse mmap; read the whole file instead.
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64)
        var done = 0
        while done < size {
            let n = read(descriptor, buffer + done, size - done)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 {
                let error =
                    n < 0
                    ? FileIOError.fromErrno(path: path, operation: "read")
                    : FileIOError(path: path, operation: "read", code: 0, detail: "file shrank while reading")
                buffer.deallocate()
                throw error
            }
            done += n
        }
        bytes = UnsafeRawPointer(buffer)
        isMapped = false
    }

    /// A private copy of `data`, for parsing bytes that are already in memory with the same code as a file.
    public init(copying data: Data) {
        let size = data.count
        count = size
        isMapped = false
        guard size > 0 else {
            bytes = nil
            return
        }
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64)
        data.withUnsafeBytes { buffer.copyMemory(from: $0.baseAddress!, byteCount: size) }
        bytes = UnsafeRawPointer(buffer)
    }

    deinit {
        guard let bytes else { return }
        if isMapped {
            _ = munmap(UnsafeMutableRawPointer(mutating: bytes), count)
        } else {
            UnsafeMutableRawPointer(mutating: bytes).deallocate()
        }
    }
}
