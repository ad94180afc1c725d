import Foundation

/// A request to stop long work cleanly (Ctrl-C): whoever handles the signal calls `request()`, and the
/// training loop and the study check it between steps and between evaluations, throwing `Interrupted` so
/// that what is finished stays saved and what is half done is dropped.
public enum Interruption {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var requested = false

    /// Whether a stop was requested.
    public static var isRequested: Bool {
        lock.lock()
        defer { lock.unlock() }
        return requested
    }

    /// Asks running work to stop at its next check (thread safe; call from a signal source).
    public static func request() {
        lock.lock()
        requested = true
        lock.unlock()
    }

    /// Clears a request (tests, or a host that runs several jobs).
    public static func reset() {
        lock.lock()
        requested = false
        lock.unlock()
    }

    /// Throws `Interrupted` if a stop was requested; `place` says where the work stood.
    public static func check(_ place: @autoclosure () -> String) throws {
        if isRequested { throw Interrupted(place: place()) }
    }
}

/// Work stopped at the user's request, at `place` (e.g. "stage 'count', step 12").
public struct Interrupted: Error, CustomStringConvertible {
    public var place: String
    public init(place: String) { self.place = place }
    public var description: String { "interrupted at \(place)" }
}
