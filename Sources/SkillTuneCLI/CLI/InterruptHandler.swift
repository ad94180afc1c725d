import Foundation
import Host
import Kernel

/// Ctrl-C during a long command: the first SIGINT asks the work to stop at its next check (between training
/// steps and between evaluations, see `Interruption`), so finished stages stay saved; the second quits at
/// once. Either way the user is told how to resume.
public enum InterruptHandler {
    nonisolated(unsafe) private static var source: DispatchSourceSignal?
    nonisolated(unsafe) private static var stopSources: [Int32: DispatchSourceSignal] = [:]
    nonisolated(unsafe) private static var count = 0
    private static let lock = NSLock()

    /// The command that continues the interrupted work: this process's own command line with `--resume`.
    public static var resumeCommand: String {
        var words = CommandLine.arguments
        if let program = words.first {
            words[0] = URL(fileURLWithPath: program).lastPathComponent == "skilltune" ? "skilltune" : program
        }
        if !words.contains("--resume") { words.append("--resume") }
        return ShellWords.line(words)
    }

    /// Starts handling SIGINT (idempotent), and `stopSignals` (a batch job's USR2 before its time limit, TERM
    /// on preemption), each of which asks the work to stop at its next check, as a first Ctrl-C does.
    public static func install(stopSignals: [Int32] = []) {
        lock.lock()
        defer { lock.unlock() }
        for number in stopSignals where stopSources[number] == nil {
            signal(number, SIG_IGN)
            let s = DispatchSource.makeSignalSource(signal: number, queue: .global())
            s.setEventHandler {
                Interruption.request()
                Terminal.error(
                    "\nsignal \(number) (the time limit is near, or the job is preempted): stopping after the current step and keeping every finished stage"
                )
            }
            s.resume()
            stopSources[number] = s
        }
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
