import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Test seams for faults that are hard to cause on purpose: the process being killed at a chosen point,
/// and a full disk. Both are off unless asked for, and then cost one comparison per point.
///
/// - `SKILLTUNE_FAULT_KILL=LABEL#N` sends SIGKILL to the process the N-th time (from 1) a point whose label
///   starts with LABEL is reached. Points: `write FILE` (an atomic write has its bytes in the temporary file
///   but has not renamed it), `train STAGE step K` (before a training step), `evaluate STAGE` (before a
///   benchmark is evaluated).
/// - `SKILLTUNE_FAULT_DISK_FULL_AFTER=N` (or `simulatedDiskFullAfterBytes`) makes every atomic write fail with
///   ENOSPC once it has written more than N bytes, as a full disk would.
public enum FaultInjection {
    /// Overrides `SKILLTUNE_FAULT_DISK_FULL_AFTER` (for tests in the same process); nil means no limit.
    nonisolated(unsafe) public static var simulatedDiskFullAfterBytes: Int? = ProcessInfo.processInfo.environment[
        "SKILLTUNE_FAULT_DISK_FULL_AFTER"
    ].flatMap { Int($0) }

    private static let killRule: (prefix: String, count: Int)? = {
        guard let rule = ProcessInfo.processInfo.environment["SKILLTUNE_FAULT_KILL"],
            let hash = rule.lastIndex(of: "#"),
            let n = Int(rule[rule.index(after: hash)...]), n >= 1
        else { return nil }
        return (String(rule[..<hash]), n)
    }()
    nonisolated(unsafe) private static var reached = 0
    private static let lock = NSLock()

    /// Marks a point where a kill may be injected; `label` is only evaluated when a rule is set.
    public static func point(_ label: @autoclosure () -> String) {
        guard let rule = killRule else { return }
        let text = label()
        guard text.hasPrefix(rule.prefix) else { return }
        lock.lock()
        reached += 1
        let fire = reached == rule.count
        lock.unlock()
        if fire {
            FileHandle.standardError.write(Data("fault injection: SIGKILL at '\(text)'\n".utf8))
            kill(getpid(), SIGKILL)
        }
    }
}
