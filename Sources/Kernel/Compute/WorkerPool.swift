import Foundation
import Synchronization

/// Persistent threads that run the chunks of `Parallel`'s parallel regions.
///
/// A training step opens several hundred parallel regions (every GEMM phase, attention, element-wise pass),
/// many of them only a few tens of microseconds long. Handing each one to `DispatchQueue.concurrentPerform`
/// wakes a Dispatch thread through the kernel every time; here the workers stay: after a region they spin
/// for `spinNanoseconds` watching for the next one (so back-to-back regions start without a system call),
/// then sleep on a condition until a region wakes them. An idle pool uses no CPU.
///
/// A region is published in one 64-bit word: generation (24 bits) | chunk count (20 bits) | next chunk
/// (20 bits). Threads claim chunk `next` by compare-and-swap of that word, so a claim can only succeed while
/// its region is open: a late worker never runs a chunk twice or runs a finished region's closure. The
/// caller takes part too, then waits until every claimed chunk has finished (spinning briefly, then sleeping).
///
/// Which thread runs a chunk varies from run to run; what a chunk computes does not (callers split work by
/// chunk index only), so results stay bitwise reproducible.
///
/// One region runs at a time. A region opened while another runs (nested in a chunk, or from another
/// thread) gets `false` from `run` and its caller runs the chunks inline.
@available(macOS 15, *)
final class WorkerPool: @unchecked Sendable {
    /// The pool `Parallel` uses.
    static let shared = WorkerPool()

    /// The most workers (threads besides the caller) the pool starts.
    static let maximumWorkers = 63
    /// The most chunks one region takes (the chunk fields of the region word).
    static let maximumChunks = (1 << 20) - 1

    private static let processors = ProcessInfo.processInfo.activeProcessorCount

    /// How long an idle worker (and a caller waiting for the last chunks) spins before it sleeps.
    /// `SKILLTUNE_WORKER_SPIN_US` sets it (microseconds) for experiments.
    nonisolated(unsafe) static var spinNanoseconds: UInt64 =
        (ProcessInfo.processInfo.environment["SKILLTUNE_WORKER_SPIN_US"].flatMap { UInt64($0) } ?? 50) * 1000

    private static let generationShift: UInt64 = 40, countShift: UInt64 = 20, fieldMask: UInt64 = (1 << 20) - 1

    private let word = Atomic<UInt64>(0)
    /// Chunks of the open region not finished yet.
    private let unfinished = Atomic<Int>(0)
    /// Whether a region is open (its caller holds the pool).
    private let busy = Atomic<Bool>(false)
    /// Workers with an index below this take part in the open region; the others keep sleeping.
    private let participants = Atomic<Int>(0)
    private let sleepingWorkers = Atomic<Int>(0)
    private let callerSleeping = Atomic<Bool>(false)
    private let workerWake = NSCondition()
    private let callerWake = NSCondition()
    /// The open region's closure; read by a worker only after it claimed a chunk of that region.
    private var job: UnsafePointer<(Int) -> Void>?
    /// Workers started so far (only the caller holding `busy` starts more).
    private var started = 0

    /// Regions run on the pool and regions that found it busy (and ran inline), for tests and profiling.
    let regionsRun = Atomic<Int>(0), regionsInline = Atomic<Int>(0)

    private init() {
        if ProcessInfo.processInfo.environment["SKILLTUNE_POOL_STATS"] == "1" {
            WorkerPool.recordsStatistics = true
            atexit { WorkerPool.shared.printStatistics() }
        }
    }

    // Profiling (SKILLTUNE_POOL_STATS=1 prints them to stderr at exit): caller-side times of pool regions.
    nonisolated(unsafe) private static var recordsStatistics = false
    private var statisticsNanoseconds = (inRegions: UInt64(0), waitingAtEnd: UInt64(0))
    private var regionHistogram = [Int](repeating: 0, count: 6)  // < 5, 20, 50, 200, 1000, more microseconds
    private var gapHistogram = [Int](repeating: 0, count: 6)  // from the end of one region to the start of the next
    private var lastRegionEnd: UInt64 = 0

    private static func bucket(_ us: UInt64) -> Int {
        us < 5 ? 0 : us < 20 ? 1 : us < 50 ? 2 : us < 200 ? 3 : us < 1000 ? 4 : 5
    }

    private func printStatistics() {
        let text = String(
            format: "worker pool: %d regions (%d inline), %.1f ms in regions, %.1f ms of it waiting for other threads; "
                + "regions < 5/20/50/200/1000/more us: %@; gaps between regions: %@\n",
            regionsRun.load(ordering: .relaxed), regionsInline.load(ordering: .relaxed),
            Double(statisticsNanoseconds.inRegions) / 1e6, Double(statisticsNanoseconds.waitingAtEnd) / 1e6,
            regionHistogram.map(String.init).joined(separator: "/"),
            gapHistogram.map(String.init).joined(separator: "/"))
        FileHandle.standardError.write(text.data(using: .utf8)!)
    }

    /// Runs `body(chunk)` for every chunk in 0..<chunks on the calling thread and up to `workers` pool
    /// threads, and returns when all have finished. Returns false, having run nothing, when the pool is busy
    /// with another region or `chunks` is out of range; the caller then runs the chunks itself.
    func run(chunks: Int, workers: Int, _ body: (Int) -> Void) -> Bool {
        guard chunks >= 1, chunks <= WorkerPool.maximumChunks,
            busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged
        else {
            regionsInline.add(1, ordering: .relaxed)
            return false
        }
        defer { busy.store(false, ordering: .releasing) }
        regionsRun.add(1, ordering: .relaxed)
        let helpers = min(workers, WorkerPool.maximumWorkers, chunks - 1)
        while started < helpers {
            startWorker(index: started)
            started += 1
        }
        withoutActuallyEscaping(body) { escapable in
            withUnsafePointer(to: escapable) { pointer in
                job = pointer
                participants.store(helpers, ordering: .relaxed)
                unfinished.store(chunks, ordering: .relaxed)
                let generation = (word.load(ordering: .relaxed) >> WorkerPool.generationShift) &+ 1
                let region = (generation << WorkerPool.generationShift) | (UInt64(chunks) << WorkerPool.countShift)
                word.store(region, ordering: .sequentiallyConsistent)
                if helpers > 0 && sleepingWorkers.load(ordering: .sequentiallyConsistent) > 0 {
                    workerWake.lock()
                    workerWake.broadcast()
                    workerWake.unlock()
                }
                let start = WorkerPool.recordsStatistics ? DispatchTime.now().uptimeNanoseconds : 0
                var current = region
                while let chunk = claim(&current, generation: generation & 0xFF_FFFF) {
                    body(chunk)
                    unfinished.subtract(1, ordering: .releasing)
                }
                if WorkerPool.recordsStatistics {
                    let ownDone = DispatchTime.now().uptimeNanoseconds
                    waitUntilFinished()
                    let end = DispatchTime.now().uptimeNanoseconds
                    statisticsNanoseconds.inRegions += end - start
                    statisticsNanoseconds.waitingAtEnd += end - ownDone
                    let us = (end - start) / 1000
                    regionHistogram[WorkerPool.bucket(us)] += 1
                    if lastRegionEnd > 0 { gapHistogram[WorkerPool.bucket((start - lastRegionEnd) / 1000)] += 1 }
                    lastRegionEnd = end
                } else {
                    waitUntilFinished()
                }
                job = nil
            }
        }
        return true
    }

    /// Claims the next chunk of the region `generation` (given `current`, the word last seen), or nil when
    /// that region has no unclaimed chunk left (or is over).
    @inline(__always)
    private func claim(_ current: inout UInt64, generation: UInt64) -> Int? {
        while true {
            guard current >> WorkerPool.generationShift == generation else { return nil }
            let count = (current >> WorkerPool.countShift) & WorkerPool.fieldMask
            let next = current & WorkerPool.fieldMask
            guard next < count else { return nil }
            let (exchanged, seen) = word.compareExchange(
                expected: current, desired: current + 1,
                ordering: .acquiringAndReleasing)
            if exchanged {
                current += 1
                return Int(next)
            }
            current = seen
        }
    }

    private func waitUntilFinished() {
        if unfinished.load(ordering: .acquiring) == 0 { return }
        var spins = 0
        let start = DispatchTime.now().uptimeNanoseconds
        while unfinished.load(ordering: .acquiring) != 0 {
            spins += 1
            if spins & 63 == 0 && DispatchTime.now().uptimeNanoseconds - start > WorkerPool.spinNanoseconds {
                callerWake.lock()
                callerSleeping.store(true, ordering: .sequentiallyConsistent)
                while unfinished.load(ordering: .sequentiallyConsistent) != 0 { callerWake.wait() }
                callerSleeping.store(false, ordering: .relaxed)
                callerWake.unlock()
                return
            }
        }
    }

    private func startWorker(index: Int) {
        let thread = Thread { self.workerLoop(index: index) }
        thread.name = "skilltune-worker-\(index)"
        thread.start()
    }

    private func workerLoop(index: Int) {
        var seen = word.load(ordering: .acquiring) >> WorkerPool.generationShift
        while true {
            var current = waitForRegion(after: seen, index: index)
            seen = current >> WorkerPool.generationShift
            guard index < participants.load(ordering: .relaxed) else { continue }
            while let chunk = claim(&current, generation: seen) {
                runChunk(chunk)
                if unfinished.subtract(1, ordering: .sequentiallyConsistent).newValue == 0
                    && callerSleeping.load(ordering: .sequentiallyConsistent)
                {
                    callerWake.lock()
                    callerWake.signal()
                    callerWake.unlock()
                }
            }
        }
    }

    /// Calls the open region's closure; separate so that the closure's copy is released before the chunk
    /// counts as finished (the caller's `withoutActuallyEscaping` checks that nobody still holds it).
    @inline(never)
    private func runChunk(_ chunk: Int) {
        job.unsafelyUnwrapped.pointee(chunk)
    }

    /// The region word once its generation differs from `seen`: spins for `spinNanoseconds` (only while this
    /// worker takes part in regions), then sleeps.
    private func waitForRegion(after seen: UInt64, index: Int) -> UInt64 {
        var current = word.load(ordering: .acquiring)
        if current >> WorkerPool.generationShift != seen { return current }
        // Spinning only pays while every taking part thread has a core; beyond that it takes cores from them.
        if index < participants.load(ordering: .relaxed) && index + 2 <= WorkerPool.processors {
            let start = DispatchTime.now().uptimeNanoseconds
            var spins = 0
            while true {
                current = word.load(ordering: .acquiring)
                if current >> WorkerPool.generationShift != seen { return current }
                spins += 1
                if spins & 63 == 0 && DispatchTime.now().uptimeNanoseconds - start > WorkerPool.spinNanoseconds {
                    break
                }
            }
        }
        workerWake.lock()
        sleepingWorkers.add(1, ordering: .sequentiallyConsistent)
        while true {
            current = word.load(ordering: .sequentiallyConsistent)
            if current >> WorkerPool.generationShift != seen { break }
            workerWake.wait()
        }
        sleepingWorkers.subtract(1, ordering: .relaxed)
        workerWake.unlock()
        return current
    }
}
