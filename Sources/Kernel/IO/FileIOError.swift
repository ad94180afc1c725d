#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// An operating-system failure while reading or writing a file, naming the file, what was being done and why.
///
/// Its description reads like `results/run.json: cannot rename temporary file into place: Is a directory`.
public struct FileIOError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file the operation was about (as given by the caller).
    public let path: String
    /// What was being attempted, phrased to follow "cannot", e.g. "open for reading".
    public let operation: String
    /// The `errno` value reported by the system (0 when the failure was not a system call).
    public let code: Int32
    /// Extra explanation when the failure was not a system call.
    public let detail: String?

    public init(path: String, operation: String, code: Int32, detail: String? = nil) {
        self.path = path
        self.operation = operation
        self.code = code
        self.detail = detail
    }

    /// Captures the current `errno`.
    static func fromErrno(path: String, operation: String) -> FileIOError {
        FileIOError(path: path, operation: operation, code: errno)
    }

    public var description: String {
        let reason = detail ?? String(cString: strerror(code))
        return "\(path): cannot \(operation): \(reason)"
    }
}
