import Dispatch
import Foundation

/// One `sgemm` call's operands and the blocked loop nest that computes it.
///
/// On several threads, a product large enough is first cut into independent parts, one or two per thread,
/// each computed on one thread by the loop nest below (`runIndependently`); the rest run that loop nest with
/// its phases shared by the threads (`runShared`).
///
/// C is processed in blocks of at most `Gemm.packedRows` x `Gemm.packedColumns`. For each such block,
/// for each k block (in order), two phases run, each split over the threads:
/// 1. pack: the block's columns of opB and rows of opA for this k block go into one shared workspace, as the
///    micro-panels the microkernel reads (contiguous, so each step of the kernel reads its 6 A values through
///    one pointer: with A read in place through 6 row pointers the compiler ran out of registers and spilled
///    accumulators on AVX2; the copy costs m k values against 2 m n k operations);
/// 2. compute: the C tiles are cut along M or N into contiguous tile-aligned ranges, which the threads
///    take one at a time, running the microkernel over them `kernel.rowBlock` rows of A at a time.
/// With a single row block, opA's packed panels of every k block are kept across column blocks when they fit
/// (`Gemm.keptPackedA`), so only opB is packed again. Packing is shared, so a second thread adds no packing
/// work. The phases are separate parallel regions (`Parallel.forEach`), so no thread ever waits for another
/// inside one (no deadlock even when the chunks run one after another, as they do inline when nested in
/// another region).
///
/// Every C element is summed over the same k blocks in the same order whatever the split, so results do
/// not depend on the thread count.
struct GemmTask: @unchecked Sendable {
    let transA: Bool, transB: Bool
    let m: Int, n: Int, k: Int
    let alpha: Float
    let a: UnsafePointer<Float>, lda: Int
    let b: UnsafePointer<Float>, ldb: Int
    let beta: Float
    let c: UnsafeMutablePointer<Float>, ldc: Int
    let kernel: GemmMicrokernel
    /// Fused or separate multiply-adds (`GemmArithmetic.active` outside tests).
    let arithmetic: GemmArithmetic
    let threads: Int

    func run() {
        if threads > 1, runIndependently() { return }
        runShared()
    }

    /// Rows (columns) a part of an independent split must have at least: each part packs the whole other
    /// operand, and with fewer rows that copy would weigh against the part's multiply-adds.
    static let independentPartMinimum = 128

    /// Cuts C along M (when n <= m, so each part packs all of the smaller B) or else along N into one or two
    /// contiguous tile-aligned parts per thread, and computes each part as a product of its own on one thread
    /// (`runShared` with one thread): it packs its own rows of A (columns of B) and the whole other operand,
    /// and reads nothing another thread wrote. The shared scheme (`runShared` on several threads) packs each
    /// operand once but hands the panels one thread packed to the other, behind two barriers per k block; where
    /// the two threads' caches are far apart (325 ns for a cache line to go to the other vCPU and back on the
    /// Zen 4 VM of benchmarks/README.md, session 17), that cost more than packing the smaller operand again:
    /// the anchor's 2-thread `full` step 122.8-126.5 -> 121.2-125.4 ms, and 162-171 -> 143-148 ms in the runs
    /// where that VM's memory shared between threads was slow. Two parts per thread, so that a thread
    /// the machine slows down leaves its second part to the other. Returns false (nothing done) when the
    /// product is too small for a part per thread of `independentPartMinimum`.
    ///
    /// Each C tile is computed as in the shared scheme (same kernel, same k blocks in the same order), so
    /// the results are bitwise the same.
    private func runIndependently() -> Bool {
        let alongRows = n <= m
        let extent = alongRows ? m : n
        let partsPerThread = min(2, extent / (Self.independentPartMinimum * threads))
        guard partsPerThread > 0 else { return false }
        let parts = partsPerThread * threads
        let width = alongRows ? GemmMicrokernel.rows : kernel.width
        let panels = (extent + width - 1) / width
        forChunks(parts) { part in
            let first = panels * part / parts * width
            let last = min(extent, panels * (part + 1) / parts * width)
            guard first < last else { return }
            // Rows first..<last of opA and C, or columns first..<last of opB and C.
            let rowOffset = alongRows ? first : 0
            let columnOffset = alongRows ? 0 : first
            GemmTask(
                transA: transA, transB: transB, m: alongRows ? last - first : m, n: alongRows ? n : last - first,
                k: k, alpha: alpha, a: a + (transA ? rowOffset : rowOffset * lda), lda: lda,
                b: b + (transB ? columnOffset * ldb : columnOffset), ldb: ldb, beta: beta,
                c: c + rowOffset * ldc + columnOffset, ldc: ldc, kernel: kernel, arithmetic: arithmetic, threads: 1
            ).runShared()
        }
        return true
    }

    /// The blocked loop nest (see the type's comment), its phases split over `threads`.
    private func runShared() {
        let mr = GemmMicrokernel.rows
        let nr = kernel.width
        let depthBlocks = GemmMicrokernel.depthBlockCount(k)
        let maxDepth = (k + depthBlocks - 1) / depthBlocks
        let maxRows = min(m, Gemm.packedRows)
        let maxColumns = min(n, Gemm.packedColumns)
        let paddedRows = (maxRows + mr - 1) / mr * mr
        // With one row block and several column blocks, opA is packed once for all of them (every k block
        // kept, side by side) instead of again for each column block: the Qwen2 head's logits repacked the
        // hidden states 75 times per call.
        let keepA = m <= Gemm.packedRows && n > Gemm.packedColumns && paddedRows * k <= Gemm.keptPackedA
        GemmWorkspace.withWorkspace { workspace in
            workspace.reserve(
                a: paddedRows * (keepA ? k : maxDepth), b: (maxColumns + nr - 1) / nr * nr * maxDepth)
            for j0 in stride(from: 0, to: n, by: Gemm.packedColumns) {
                let columns = j0..<min(n, j0 + Gemm.packedColumns)
                for i0 in stride(from: 0, to: m, by: Gemm.packedRows) {
                    let rows = i0..<min(m, i0 + Gemm.packedRows)
                    for block in 0..<depthBlocks {
                        let depth = GemmMicrokernel.depthRange(block, of: depthBlocks, k: k)
                        let packedA = workspace.packedA + (keepA ? paddedRows * depth.lowerBound : 0)
                        pack(
                            rows: rows, columns: columns, depth: depth, packingA: !keepA || j0 == 0,
                            packedA: packedA, packedB: workspace.packedB)
                        // The first k block applies beta; later ones add to what it wrote.
                        compute(
                            rows: rows, columns: columns, depth: depth, beta: block == 0 ? beta : 1,
                            packedA: packedA, packedB: workspace.packedB)
                    }
                }
            }
        }
    }

    /// Runs `body(chunk)` for every chunk, on several threads when there are several chunks.
    @inline(__always)
    private func forChunks(_ chunks: Int, _ body: (Int) -> Void) {
        if chunks <= 1 {
            body(0)
        } else {
            // With this call's own thread count, so that an explicit `threads:` argument of `sgemm` is
            // honoured even when it differs from `Parallel.threads`.
            Parallel.forEach(chunks: chunks, threads: threads, body)
        }
    }

    /// Phase 1: packs opB[depth, columns] and, if `packingA`, opA[rows, depth] into the workspace.
    private func pack(
        rows: Range<Int>, columns: Range<Int>, depth: Range<Int>, packingA: Bool,
        packedA: UnsafeMutablePointer<Float>, packedB: UnsafeMutablePointer<Float>
    ) {
        let mr = GemmMicrokernel.rows
        let nr = kernel.width
        let kc = depth.count
        let panelsB = (columns.count + nr - 1) / nr
        let panelsA = packingA ? (rows.count + mr - 1) / mr : 0
        // Split only when each thread gets a few microseconds of copying (a plain copy runs at about 12 G
        // values/s, a transposing one at about 3.5): starting a region on the waiting workers costs about a
        // microsecond (`WorkerPool`).
        let copyCost = (panelsA * mr * 2 + columns.count * (transB ? 4 : 1)) * kc
        let chunks = max(1, min(threads, copyCost / (32 * 1024)))
        forChunks(chunks) { chunk in
            let a0 = panelsA * chunk / chunks
            let a1 = panelsA * (chunk + 1) / chunks
            if a0 < a1 {
                GemmPacking.packA(
                    transA: transA, a: a, lda: lda,
                    rows: rows.lowerBound + a0 * mr..<min(rows.upperBound, rows.lowerBound + a1 * mr),
                    depth: depth, into: packedA + a0 * mr * kc)
            }
            let b0 = panelsB * chunk / chunks
            let b1 = panelsB * (chunk + 1) / chunks
            if b0 < b1 {
                GemmPacking.packB(
                    transB: transB, b: b, ldb: ldb, depth: depth,
                    columns: columns.lowerBound + b0 * nr..<min(columns.upperBound, columns.lowerBound + b1 * nr),
                    width: nr, into: packedB + b0 * nr * kc)
            }
        }
    }

    /// Phase 2: C[rows, columns] = alpha * (packed A x packed B) + beta * C. The tiles are cut along M or N
    /// (whichever divides more evenly) into a few contiguous tile-aligned ranges per thread, which the
    /// threads take one at a time: a thread that runs slower (the machine is shared) just takes fewer.
    /// Which thread computes a range never changes a value: each tile is computed whole by one thread.
    private func compute(
        rows: Range<Int>, columns: Range<Int>, depth: Range<Int>, beta: Float,
        packedA: UnsafeMutablePointer<Float>, packedB: UnsafeMutablePointer<Float>
    ) {
        let mr = GemmMicrokernel.rows
        let nr = kernel.width
        let panelsA = (rows.count + mr - 1) / mr
        let panelsB = (columns.count + nr - 1) / nr
        let packedA = UnsafePointer(packedA)
        let packedB = UnsafePointer(packedB)
        if threads == 1 {
            computeTiles(
                panelsA: 0..<panelsA, panelsB: 0..<panelsB, rows: rows, columns: columns, depth: depth,
                beta: beta, packedA: packedA, packedB: packedB)
            return
        }
        let rangesPerThread = 4
        // The largest share of rows (columns) one range gets when cutting M (N).
        func share(panels: Int, width: Int, total: Int) -> Int {
            let ranges = min(panels, threads * rangesPerThread)
            return min(total, (panels + ranges - 1) / ranges * width)
        }
        let splitRows =
            share(panels: panelsA, width: mr, total: rows.count) * columns.count
            <= share(panels: panelsB, width: nr, total: columns.count) * rows.count
        let panels = splitRows ? panelsA : panelsB
        let ranges = min(panels, threads * rangesPerThread)
        let queue = GemmWorkQueue(count: ranges)
        forChunks(min(threads, ranges)) { _ in
            while let range = queue.take() {
                let p0 = panels * range / ranges
                let p1 = panels * (range + 1) / ranges
                computeTiles(
                    panelsA: splitRows ? p0..<p1 : 0..<panelsA, panelsB: splitRows ? 0..<panelsB : p0..<p1,
                    rows: rows, columns: columns, depth: depth, beta: beta, packedA: packedA,
                    packedB: packedB)
            }
        }
    }

    /// Runs the microkernel over the tiles of the given packed panels, `kernel.rowBlock` rows of A at a time
    /// so that they stay in L2 while every B panel passes over them.
    private func computeTiles(
        panelsA: Range<Int>, panelsB: Range<Int>, rows: Range<Int>, columns: Range<Int>,
        depth: Range<Int>, beta: Float, packedA: UnsafePointer<Float>,
        packedB: UnsafePointer<Float>
    ) {
        let mr = GemmMicrokernel.rows
        let nr = kernel.width
        let kc = depth.count
        let panelsPerRowBlock = max(1, kernel.rowBlock / mr)
        for blockStart in stride(from: panelsA.lowerBound, to: panelsA.upperBound, by: panelsPerRowBlock) {
            let blockEnd = min(panelsA.upperBound, blockStart + panelsPerRowBlock)
            for q in panelsB {
                let j = columns.lowerBound + q * nr
                let liveColumns = min(nr, columns.upperBound - j)
                let panelB = packedB + q * nr * kc
                for r in blockStart..<blockEnd {
                    let i = rows.lowerBound + r * mr
                    let liveRows = min(mr, rows.upperBound - i)
                    let panelA = packedA + r * mr * kc
                    let tile = c + i * ldc + j
                    if liveRows == mr && liveColumns == nr {
                        kernel.run(
                            kc: kc, a: panelA, b: panelB, c: tile, ldc: ldc, alpha: alpha, beta: beta,
                            arithmetic: arithmetic)
                    } else {
                        kernel.runPartial(
                            kc: kc, a: panelA, b: panelB, mr: liveRows, nr: liveColumns,
                            c: tile, ldc: ldc, alpha: alpha, beta: beta, arithmetic: arithmetic)
                    }
                }
            }
        }
    }
}

/// Hands out the work items 0..<count, each once, to whichever thread asks first.
final class GemmWorkQueue: @unchecked Sendable {
    private let lock = NSLock()
    private var next = 0
    private let count: Int

    init(count: Int) { self.count = count }

    func take() -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard next < count else { return nil }
        next += 1
        return next - 1
    }
}
