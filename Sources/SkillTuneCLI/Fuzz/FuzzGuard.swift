import Foundation
import Host

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The fuzzer's safety net: keeps a copy of the current input where a signal handler can write it out, and
/// a watchdog thread that ends the process when an input hangs or memory grows past the limit.
///
/// The signal handler only calls async-signal-safe functions (open, write, close, signal, raise) on
/// buffers prepared in advance.
enum FuzzGuard {
    static let capacity = 1 << 20
    nonisolated(unsafe) static var buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
    nonisolated(unsafe) static var length = 0
    nonisolated(unsafe) static var index = 0
    /// Uptime in nanoseconds when the current input started; 0 between inputs.
    nonisolated(unsafe) static var startedAt: UInt64 = 0
    nonisolated(unsafe) static var crashPath: UnsafeMutablePointer<CChar>?
    nonisolated(unsafe) static var running = false
    nonisolated(unsafe) static var maximumResidentBytes: UInt64 = 0
    nonisolated(unsafe) static var targetName = ""
    nonisolated(unsafe) static var crashDirectory: URL?
    nonisolated(unsafe) static var seed: UInt64 = 0

    static func install(target: String, seed: UInt64, crashDirectory: URL?, timeLimit: Double, memoryLimit: UInt64) {
        targetName = target
        self.seed = seed
        self.crashDirectory = crashDirectory
        let directory = crashDirectory ?? URL(fileURLWithPath: ".")
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        crashPath = strdup(directory.appendingPathComponent("crash-\(target)-seed\(seed).bin").path)
        for sig in [SIGILL, SIGTRAP, SIGABRT, SIGSEGV, SIGBUS, SIGFPE] {
            signal(sig) { received in
                FuzzGuard.writeCurrentInput()
                FuzzGuard.say("\nskilltune fuzz: fatal signal while parsing input #")
                FuzzGuard.sayNumber(FuzzGuard.index)
                FuzzGuard.say("; the input is saved in ")
                if let path = FuzzGuard.crashPath { _ = write(2, path, strlen(path)) }
                FuzzGuard.say("\n")
                signal(received, SIG_DFL)
                raise(received)
            }
        }
        running = true
        let thread = Thread {
            while FuzzGuard.running {
                usleep(20_000)
                let resident = residentBytes()
                maximumResidentBytes = max(maximumResidentBytes, resident)
                let started = startedAt
                if started != 0, Double(DispatchTime.now().uptimeNanoseconds &- started) / 1e9 > timeLimit,
                    startedAt == started
                {
                    stop(kind: "timeout", message: "input #\(index) ran longer than \(timeLimit) s")
                }
                if resident > memoryLimit {
                    stop(
                        kind: "memory",
                        message:
                            "input #\(index) grew the resident memory to \(resident >> 20) MB (limit \(memoryLimit >> 20) MB)"
                    )
                }
            }
        }
        thread.stackSize = 1 << 20
        thread.start()
    }

    static func uninstall() {
        running = false
        for sig in [SIGILL, SIGTRAP, SIGABRT, SIGSEGV, SIGBUS, SIGFPE] { signal(sig, SIG_DFL) }
    }

    static func begin(_ input: [UInt8], index: Int) {
        let n = min(input.count, capacity)
        input.withUnsafeBufferPointer { buffer.update(from: $0.baseAddress!, count: n) }
        length = n
        self.index = index
        startedAt = DispatchTime.now().uptimeNanoseconds
    }

    static func end() { startedAt = 0 }

    /// Saves the input that hangs or eats memory, says so, and ends the process (exit code 3).
    static func stop(kind: String, message: String) {
        let directory = crashDirectory ?? URL(fileURLWithPath: ".")
        let file = directory.appendingPathComponent("\(kind)-\(targetName)-seed\(seed).bin")
        try? Data(bytes: buffer, count: length).write(to: file)
        Terminal.error("skilltune fuzz: \(targetName): \(message); the input is saved in \(file.path)")
        _exit(3)
    }

    static func writeCurrentInput() {
        guard let path = crashPath else { return }
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { return }
        var done = 0
        while done < length {
            let n = write(fd, buffer + done, length - done)
            if n <= 0 { break }
            done += n
        }
        close(fd)
    }

    static func say(_ text: StaticString) {
        _ = write(2, text.utf8Start, text.utf8CodeUnitCount)
    }

    static func sayNumber(_ value: Int) {
        var digits:
            (
                UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                UInt8, UInt8, UInt8, UInt8, UInt8
            ) =
                (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &digits) { raw in
            var v = max(0, value)
            var at = raw.count
            repeat {
                at -= 1
                raw[at] = UInt8(48 + v % 10)
                v /= 10
            } while v > 0 && at > 0
            _ = write(2, raw.baseAddress! + at, raw.count - at)
        }
    }

    /// Resident memory now, from /proc/self/statm (0 where that does not exist).
    static func residentBytes() -> UInt64 {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = UInt64(fields[1]) else { return 0 }
        return pages * UInt64(sysconf(Int32(_SC_PAGESIZE)))
    }

    static func residentMegabytes() -> Double { Double(residentBytes()) / 1_048_576 }

    /// The peak resident memory of the process (getrusage), or what the watchdog saw, whichever is larger.
    static func maximumResidentMegabytes() -> Double {
        var usage = rusage()
        getrusage(Int32(RUSAGE_SELF.rawValue), &usage)
        return max(Double(usage.ru_maxrss) / 1024, Double(maximumResidentBytes) / 1_048_576)
    }
}
