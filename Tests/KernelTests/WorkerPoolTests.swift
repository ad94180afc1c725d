import Dispatch
import Foundation
import Kernel
import XCTest

/// `Parallel.forEach` on the persistent worker pool: every chunk runs exactly once whatever the nesting,
/// thread count or caller, and results are bitwise those of `DispatchQueue.concurrentPerform` (the old path)
/// and of a serial run.
final class WorkerPoolTests: XCTestCase {
    private var savedThreads = 0, savedPool = true

    override func setUp() {
        savedThreads = Parallel.threads
        savedPool = Parallel.usesWorkerPool
    }

    override func tearDown() {
        Parallel.threads = savedThreads
        Parallel.usesWorkerPool = savedPool
    }

    /// How many times each chunk ran, from `chunks` calls of `body`, with counters a chunk owns.
    private func runCounts(chunks: Int, threads: Int, _ extra: (Int) -> Void = { _ in }) -> [Int] {
        let counts = UnsafeMutablePointer<Int>.allocate(capacity: chunks)
        counts.initialize(repeating: 0, count: chunks)
        defer { counts.deallocate() }
        Parallel.forEach(chunks: chunks, threads: threads) { c in
            counts[c] += 1
            extra(c)
        }
        return Array(UnsafeBufferPointer(start: counts, count: chunks))
    }

    func testEveryChunkRunsOnceForManyThreadAndChunkCounts() {
        for threads in [1, 2, 3, 5, 8] {
            for chunks in [0, 1, 2, 3, 7, 64, 1000] {
                XCTAssertEqual(
                    runCounts(chunks: chunks, threads: threads), Array(repeating: 1, count: chunks),
                    "threads \(threads), chunks \(chunks)")
            }
        }
    }

    /// Thousands of tiny back-to-back regions (the shape of a training step's element-wise passes): each
    /// writes its chunks' slots; the sums must equal a serial run's.
    func testManyTinyRegionsMatchSerial() {
        Parallel.threads = 2
        let width = 4
        let regions = 20_000
        let out = UnsafeMutablePointer<Double>.allocate(capacity: width)
        out.initialize(repeating: 0, count: width)
        defer { out.deallocate() }
        for r in 0..<regions {
            Parallel.forEach(chunks: 1 + r % width) { c in out[c] += Double(r * 7 + c) }
        }
        var expected = [Double](repeating: 0, count: width)
        for r in 0..<regions { for c in 0..<(1 + r % width) { expected[c] += Double(r * 7 + c) } }
        XCTAssertEqual(Array(UnsafeBufferPointer(start: out, count: width)), expected)
    }

    /// A region opened inside a chunk runs inline (the pool is busy) and still runs every chunk once.
    func testNestedRegionsRunEveryChunkOnce() {
        Parallel.threads = 3
        let outer = 6
        let inner = 5
        let counts = UnsafeMutablePointer<Int>.allocate(capacity: outer * inner)
        counts.initialize(repeating: 0, count: outer * inner)
        defer { counts.deallocate() }
        Parallel.forEach(chunks: outer) { o in
            Parallel.forEach(chunks: inner) { i in counts[o * inner + i] += 1 }
            Parallel.forRanges(inner) { range in for i in range { counts[o * inner + i] += 10 } }
        }
        XCTAssertEqual(
            Array(UnsafeBufferPointer(start: counts, count: outer * inner)),
            Array(repeating: 11, count: outer * inner))
    }

    /// Several threads opening regions at once: one gets the pool, the others run inline; all are right.
    func testConcurrentCallersAreAllServed() {
        Parallel.threads = 2
        let callers = 4
        let regions = 500
        let chunks = 3
        let totals = UnsafeMutablePointer<Int>.allocate(capacity: callers * chunks)
        totals.initialize(repeating: 0, count: callers * chunks)
        defer { totals.deallocate() }
        DispatchQueue.concurrentPerform(iterations: callers) { caller in
            for _ in 0..<regions {
                Parallel.forEach(chunks: chunks) { c in totals[caller * chunks + c] += 1 }
            }
        }
        XCTAssertEqual(
            Array(UnsafeBufferPointer(start: totals, count: callers * chunks)),
            Array(repeating: regions, count: callers * chunks))
    }

    /// Changing `Parallel.threads` between regions (up, down, to 1 and back) keeps every region correct.
    func testThreadCountChangesAtRunTime() {
        for threads in [4, 2, 1, 3, 2, 6, 1, 2] {
            Parallel.threads = threads
            for chunks in [2, 5, 16] {
                XCTAssertEqual(runCounts(chunks: chunks, threads: Parallel.threads), Array(repeating: 1, count: chunks))
            }
            let n = 10_000
            let partial = UnsafeMutablePointer<Int>.allocate(capacity: threads)
            partial.initialize(repeating: 0, count: threads)
            defer { partial.deallocate() }
            Parallel.forRanges(n) { range in
                let chunk = (range.lowerBound * threads + n - 1) / n  // the chunk forRanges cut this range as
                for i in range { partial[chunk] += i }
            }
            let sum = (0..<threads).reduce(0) { $0 + partial[$1] }
            XCTAssertEqual(sum, n * (n - 1) / 2, "threads \(threads)")
        }
    }

    /// A small training step (linear layers through the GEMM, attention, RMSNorm, SwiGLU, cross-entropy,
    /// AdamW) on 2 and 3 threads: loss, gradients and updated weights are bitwise those of the Dispatch path.
    func testTrainingStepMatchesDispatchBitwise() {
        for threads in [2, 3] {
            Parallel.threads = threads
            Parallel.usesWorkerPool = false
            let dispatch = trainingStep()
            Parallel.usesWorkerPool = true
            let pool = trainingStep()
            XCTAssertEqual(dispatch.count, pool.count)
            for (i, (a, b)) in zip(dispatch, pool).enumerated() {
                XCTAssertEqual(a, b, "value \(i) differs between the worker pool and Dispatch at \(threads) threads")
            }
        }
    }

    /// Loss, every gradient and every weight after two AdamW steps of a one-layer decoder-like model.
    private func trainingStep() -> [[Float]] {
        var rng = TestRandom(5)
        let (batch, time, heads, headSize, vocabulary) = (8, 32, 2, 32, 96)
        let d = heads * headSize
        let hidden = 3 * d
        let embed = rng.tensor([vocabulary, d], scale: 0.5)
        let norm = rng.tensor([d])
        let wq = rng.tensor([d, d], scale: 0.1)
        let wk = rng.tensor([d, d], scale: 0.1)
        let wv = rng.tensor([d, d], scale: 0.1)
        let gate = rng.tensor([hidden, d], scale: 0.1)
        let up = rng.tensor([hidden, d], scale: 0.1)
        let down = rng.tensor([d, hidden], scale: 0.1)
        let head = rng.tensor([vocabulary, d], scale: 0.1)
        let parameters = [
            ("embed", embed), ("norm", norm), ("wq", wq), ("wk", wk), ("wv", wv), ("gate", gate),
            ("up", up), ("down", down), ("head", head),
        ]
        let optimizer = AdamW(parameters: parameters, weightDecay: 0.01)
        var generator = RandomGenerator(seed: 3)
        let ids = (0..<(batch * time)).map { _ in Int32(generator.int(below: vocabulary)) }
        let targets = (0..<(batch * time)).map { _ in Int32(generator.int(below: vocabulary)) }
        var losses: [Float] = []
        for _ in 0..<2 {
            optimizer.zeroGrad()
            let x = embedding(embed, ids: ids)  // [B*T, d]
            let h = rmsNorm(x, weight: norm)
            let shape = [batch, time, heads, headSize]
            let q = linear(h, wq).reshaped(shape)
            let k = linear(h, wk).reshaped(shape)
            let v = linear(h, wv).reshaped(shape)
            let attended = attention(q, k, v, causal: true).reshaped([batch * time, d]) + x
            let mlp = linear(swiglu(linear(attended, gate), linear(attended, up)), down) + attended
            let loss = crossEntropy(linear(mlp, head), targets: targets)
            loss.backward()
            losses.append(loss.array[0])
            optimizer.step(learningRate: 1e-2)
        }
        return [losses] + parameters.flatMap { [$0.1.array, $0.1.grad?.array ?? []] }
    }
}
