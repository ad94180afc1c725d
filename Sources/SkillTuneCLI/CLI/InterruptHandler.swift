import Foundation
import Host
import Kernel

/// Ctrl-C during a long command: the first SIGINT asks the work to stop at its next check (between training
/// steps and between evaluations, see `Interruption`), so finished stages stay saved; the second quits at
/// once. Either way the user is told how to resume.
public enum InterruptHandler {
    nonisolated(unsafe) private static var source: DispatchSourceSignal?
    nonisolated(unsafe) private static var count = 0
    private static let lock = NSLock()

    /// The command that continues the interrupted work: this process's own command line with `--resume`.
    public static var resumeCommand: String {
        var words = CommandLine.arguments
        if let program = words.first {
            words[0] = URL(fileURLWithPath: program).lastPathComponent == "skilltune" ? "skilltune" : program
        }
        if !words.contains("--resume") { words.append("--resume") }
        return words.map(shellQuoted).joined(separator: " ")
    }

    /// `word` as a shell would need it typed.
    static func shellQuoted(_ word: String) -> String {
        let safe = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=,:+@%")
        if !word.isEmpty && word.allSatisfy({ safe.contains($0) }) { return word }
        return "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// Starts handling SIGINT (idempotent).
    public static func install() {
        lock.lock()
        defer { lock.unlock() }
        guard source == nil else { return }
        signal(SIGINT, SIG_IGN)
        let s = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        s.setEventHandler {
            lock.lock()
            count += 1
            let n = count
            lock.unlock()
            if n == 1 {
                Interruption.request()
                Terminal.error(
                    "\nCtrl-C: stopping after the current step and keeping every finished stage (press Ctrl-C again to quit at once)"
                )
            } else {
                Terminal.error("\nInterrupted. Finished stages are saved. Resume with: \(resumeCommand)")
                _exit(130)
            }
        }
        s.resume()
        source = s
    }
}
