import Dispatch
import Foundation

/// How many threads kernels use, and a deterministic way to split work among them.
///
/// Work is always split into chunks whose boundaries depend only on the problem size and `threads`,
/// and every output element is written by exactly one chunk, so results are bitwise reproducible
/// for a given thread count (and, for most kernels, independent of it).
public enum Parallel {
    /// Threads kernels may use. Defaults to `SKILLTUNE_THREADS` if set, else the active processor count.
    nonisolated(unsafe) public static var threads: Int = {
        if let s = ProcessInfo.processInfo.environment["SKILLTUNE_THREADS"], let n = Int(s), n > 0 { return n }
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
    }()

    /// Whether parallel regions run on SkillTune's persistent worker threads (`WorkerPool`: no system call
    /// to start a region that follows shortly after another) rather than `DispatchQueue.concurrentPerform`.
    /// Both give the same results (the chunks are the same); the switch exists to compare them.
    /// Defaults to true unless `SKILLTUNE_WORKER_POOL=0`; ignored on macOS before 15 (no `Synchronization`
    /// atomics there).
    nonisolated(unsafe) public static var usesWorkerPool: Bool =
        ProcessInfo.processInfo.environment["SKILLTUNE_WORKER_POOL"] != "0"

    /// How long an idle worker thread spins waiting for the next parallel region before it sleeps,
    /// in microseconds (a region that comes within this time starts without waking a thread).
    public static var workerSpinMicroseconds: Int {
        get {
            if #available(macOS 15, *) { return Int(WorkerPool.spinNanoseconds / 1000) }
            return 0
        }
        set {
            if #available(macOS 15, *) { WorkerPool.spinNanoseconds = UInt64(max(0, newValue)) * 1000 }
        }
    }

    /// Calls `body(chunk)` for chunk in 0..<chunks, on up to `threads` threads. Runs inline when chunks <= 1.
    @inline(__always)
    public static func forEach(chunks: Int, _ body: (Int) -> Void) {
        forEach(chunks: chunks, threads: threads, body)
    }

    /// Calls `body(chunk)` for chunk in 0..<chunks, on up to `threads` threads (the calling one and
    /// `threads - 1` others). Runs inline when chunks <= 1 or threads <= 1, and when called inside another
    /// parallel region (nested) or while another thread's region runs.
    public static func forEach(chunks: Int, threads: Int, _ body: (Int) -> Void) {
        if chunks <= 1 || threads <= 1 {
            for c in 0..<chunks { body(c) }
            return
        }
        if usesWorkerPool, #available(macOS 15, *) {
            if !WorkerPool.shared.run(chunks: chunks, workers: threads - 1, body) {
                for c in 0..<chunks { body(c) }
            }
        } else {
            DispatchQueue.concurrentPerform(iterations: chunks, execute: body)
        }
    }

    /// Splits `0..<count` into at most `threads` contiguous ranges of at least `minimumPerChunk` items and
    /// runs `body(range)` for each, in parallel.
    public static func forRanges(_ count: Int, minimumPerChunk: Int = 1, _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let chunks = max(1, min(threads, count / max(1, minimumPerChunk)))
        if chunks == 1 {
            body(0..<count)
            return
        }
        forEach(chunks: chunks) { c in
            let lo = count * c / chunks
            let hi = count * (c + 1) / chunks
            if lo < hi { body(lo..<hi) }
        }
    }
}
