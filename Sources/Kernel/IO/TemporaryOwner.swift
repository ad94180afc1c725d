import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Who wrote a temporary file or directory: the host and process named in its name, as `<host>-<pid>`.
///
/// Temporary names carry the host because a process id means nothing on another machine: on a shared
/// filesystem (a cluster's home or scratch), `kill(pid, 0)` on this node says nothing about a writer on another
/// node, and judging its file abandoned would delete a live writer's work. So a leftover counts as abandoned only
/// when it was written on this host by a process that is gone. Names written before hosts were recorded
/// (`<pid>` alone) are judged as this host's, as they always were.
public struct TemporaryOwner: Equatable, Sendable {
    /// The writer's host (`hostTag` of its machine), or nil for a name without one.
    public let host: String?
    public let pid: Int32

    public init(host: String?, pid: Int32) {
        self.host = host
        self.pid = pid
    }

    /// This machine's host name as it appears in temporary names: letters, digits, `.` and `_` kept, anything
    /// else (including `-`, which separates the fields) as `_`, at most 64 characters; "localhost" when the
    /// name cannot be read.
    public static let hostTag: String = {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        let raw = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let tag = String(
            raw.unicodeScalars.prefix(64).map { scalar -> Character in
                let c = Character(scalar)
                return (c.isASCII && (c.isLetter || c.isNumber)) || c == "." || c == "_" ? c : "_"
            })
        return tag.isEmpty ? "localhost" : tag
    }()

    /// This process, as written into temporary names: `<host>-<pid>`.
    public static var current: String { "\(hostTag)-\(getpid())" }

    /// Reads `<host>-<pid>` (or a bare `<pid>`, the older form) from the start of `fields`, the `-`-separated
    /// parts that follow a temporary name's marker; nil when they do not have that form.
    public static func parse<S: StringProtocol>(_ fields: [S]) -> TemporaryOwner? {
        switch fields.count {
        case 1:
            guard let pid = Int32(fields[0]), pid > 0 else { return nil }
            return TemporaryOwner(host: nil, pid: pid)
        case 2:
            guard !fields[0].isEmpty, let pid = Int32(fields[1]), pid > 0 else { return nil }
            return TemporaryOwner(host: String(fields[0]), pid: pid)
        default:
            return nil
        }
    }

    /// Whether this owner's file may be deleted as a leftover: written on this host (or before hosts were
    /// recorded) by another process that no longer exists.
    public var isAbandoned: Bool {
        guard host == nil || host == TemporaryOwner.hostTag, pid != getpid() else { return false }
        return kill(pid, 0) != 0 && errno == ESRCH
    }
}
