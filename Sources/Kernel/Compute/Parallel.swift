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

    /// Calls `body(chunk)` for chunk in 0..<chunks, on up to `threads` threads. Runs inline when chunks <= 1.
    @inline(__always)
    public static func forEach(chunks: Int, _ body: (Int) -> Void) {
        if chunks <= 1 || threads <= 1 {
            for c in 0..<chunks { body(c) }
        } else {
            DispatchQueue.concurrentPerform(iterations: chunks, execute: body)
        }
    }

    /// Splits `0..<count` into at most `threads` contiguous ranges of at least `minimumPerChunk` items and
    /// runs `body(range)` for each, in parallel.
    public static func forRanges(_ count: Int, minimumPerChunk: Int = 1, _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let chunks = max(1, min(threads, count / max(1, minimumPerChunk)))
        if chunks == 1 { body(0..<count); return }
        forEach(chunks: chunks) { c in
            let lo = count * c / chunks, hi = count * (c + 1) / chunks
            if lo < hi { body(lo..<hi) }
        }
    }
}
