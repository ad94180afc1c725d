import Dispatch

/// Single-precision matrix multiply on row-major buffers, BLAS style:
///
///     C[m, n] = alpha * sum_k opA(A)[m, k] * opB(B)[k, n] + beta * C[m, n]
///
/// `opA(A)` is A (stored m x k, row stride `lda`) or, with `transA`, the transpose of A (stored k x m).
/// `opB(B)` likewise (stored k x n, or n x k with `transB`). `beta == 0` overwrites C (NaNs in C are not
/// propagated); `beta == 1` accumulates, which is how gradients are added.
///
/// Deterministic: each C element is computed by one thread with a fixed summation order over k,
/// so results do not depend on the thread count.
///
/// How it is fast (Goto/BLIS scheme): k is cut into blocks of at most `depthBlock` steps; for each block,
/// the worker packs `opB` into contiguous micro-panels (`columnBlock` columns at a time), then packs
/// `rowBlock` rows of `opA` at a time and runs a register-blocked microkernel (`GemmMicrokernel`) over
/// every 6-row x `width`-column tile. Packing handles the transposes, so all four variants run at about
/// the same speed. With several threads, the larger of M and N is split into contiguous tile-aligned
/// ranges, one per thread, each with its own packing buffers. Products below `smallProductLimit`
/// multiply-adds take a plain loop instead, where packing would not pay.
///
/// For speed build with `-Xswiftc -target-cpu -Xswiftc native`; the baseline x86-64 build is correct
/// but several times slower.
public enum Gemm {
    /// Steps of k per packed block (KC): a 6-row A micro-panel of this depth stays in L1 and the B
    /// block in L2.
    static let depthBlock = 384
    /// Rows of opA packed at a time (MC).
    static let rowBlock = 96
    /// Columns of opB packed at a time (NC).
    static let columnBlock = 2048
    /// Below this many multiply-adds (m * n * k), a simple unpacked loop is used.
    static let smallProductLimit = 32 * 1024
    /// Below this many multiply-adds, one thread is used (starting a second costs more than it saves).
    static let parallelProductLimit = 1 << 20

    public static func sgemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0,
        c: UnsafeMutablePointer<Float>, ldc: Int,
        threads: Int? = nil
    ) {
        precondition(m >= 0 && n >= 0 && k >= 0, "sgemm: negative size m=\(m) n=\(n) k=\(k)")
        guard m > 0 && n > 0 else { return }
        precondition(lda >= (transA ? m : k), "sgemm: lda=\(lda) is less than the row length \(transA ? m : k) of A (\(transA ? "k x m" : "m x k"), m=\(m) k=\(k))")
        precondition(ldb >= (transB ? k : n), "sgemm: ldb=\(ldb) is less than the row length \(transB ? k : n) of B (\(transB ? "n x k" : "k x n"), k=\(k) n=\(n))")
        precondition(ldc >= n, "sgemm: ldc=\(ldc) is less than the row length n=\(n) of C")
        precondition(threads == nil || threads! >= 1, "sgemm: threads must be at least 1, got \(threads!)")

        if k == 0 {
            scale(c: c, ldc: ldc, m: m, n: n, by: beta)
            return
        }
        let work = m * n * k
        if work < smallProductLimit {
            simpleProduct(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                          b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
            return
        }

        let kernel = GemmMicrokernel.selected
        let mr = GemmMicrokernel.rows, nr = kernel.width
        let requested = work < parallelProductLimit ? 1 : (threads ?? Parallel.threads)
        // Each thread packs the whole of the operand it does not split, so split the dimension whose
        // other operand is the cheaper one to pack twice: M when m >= n (B is then the smaller).
        let splitRows = m >= n
        let tiles = splitRows ? (m + mr - 1) / mr : (n + nr - 1) / nr
        let chunks = max(1, min(requested, tiles))
        let task = GemmTask(transA: transA, transB: transB, k: k, alpha: alpha, a: a, lda: lda,
                            b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, kernel: kernel)
        let range = { (chunk: Int) -> (rows: Range<Int>, columns: Range<Int>) in
            let lo = tiles * chunk / chunks, hi = tiles * (chunk + 1) / chunks
            return splitRows ? (lo * mr ..< min(m, hi * mr), 0..<n) : (0..<m, lo * nr ..< min(n, hi * nr))
        }
        if chunks == 1 {
            task.run(rows: 0..<m, columns: 0..<n)
        } else {
            // Called directly rather than through `Parallel.forEach` so an explicit `threads:` is honoured
            // even when it differs from `Parallel.threads`.
            DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                let r = range(chunk)
                task.run(rows: r.rows, columns: r.columns)
            }
        }
    }

    /// C = beta * C (beta == 0 writes zeros).
    static func scale(c: UnsafeMutablePointer<Float>, ldc: Int, m: Int, n: Int, by beta: Float) {
        guard beta != 1 else { return }
        for i in 0..<m {
            let row = c + i * ldc
            if beta == 0 {
                row.update(repeating: 0, count: n)
            } else {
                for j in 0..<n { row[j] = beta * row[j] }
            }
        }
    }

    /// The unpacked product for small sizes: one row of sums at a time, each over k in order.
    static func simpleProduct(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                              a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                              beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        withUnsafeTemporaryAllocation(of: Float.self, capacity: n) { buffer in
            let sums = buffer.baseAddress!
            for i in 0..<m {
                sums.update(repeating: 0, count: n)
                for p in 0..<k {
                    let aip = transA ? a[p * lda + i] : a[i * lda + p]
                    if transB {
                        var bp = b + p
                        for j in 0..<n { sums[j] = sums[j] + aip * bp.pointee; bp += ldb }
                    } else {
                        let brow = b + p * ldb
                        for j in 0..<n { sums[j] = sums[j] + aip * brow[j] }
                    }
                }
                let crow = c + i * ldc
                if beta == 0 {
                    for j in 0..<n { crow[j] = alpha * sums[j] }
                } else {
                    for j in 0..<n { crow[j] = beta * crow[j] + alpha * sums[j] }
                }
            }
        }
    }
}

/// One `sgemm` call's operands, and the blocked loop nest one worker runs over its part of C.
struct GemmTask: @unchecked Sendable {
    let transA: Bool, transB: Bool, k: Int, alpha: Float
    let a: UnsafePointer<Float>, lda: Int
    let b: UnsafePointer<Float>, ldb: Int
    let beta: Float
    let c: UnsafeMutablePointer<Float>, ldc: Int
    let kernel: GemmMicrokernel

    /// Computes C[rows, columns] completely. Every element's sum runs over the same k blocks in the same
    /// order whatever the ranges, which keeps results independent of how C is split between threads.
    func run(rows: Range<Int>, columns: Range<Int>) {
        guard !rows.isEmpty && !columns.isEmpty else { return }
        let mr = GemmMicrokernel.rows, nr = kernel.width
        // k blocks of (nearly) equal size, at most `depthBlock` each: no tiny last block.
        let depthBlocks = (k + Gemm.depthBlock - 1) / Gemm.depthBlock
        let maxDepth = (k + depthBlocks - 1) / depthBlocks
        let maxRows = min(Gemm.rowBlock, rows.count), maxColumns = min(Gemm.columnBlock, columns.count)
        GemmWorkspace.withWorkspace { workspace in
            workspace.reserve(a: (maxRows + mr - 1) / mr * mr * maxDepth,
                              b: (maxColumns + nr - 1) / nr * nr * maxDepth)
            let packedA = workspace.packedA, packedB = workspace.packedB
            for jc in stride(from: columns.lowerBound, to: columns.upperBound, by: Gemm.columnBlock) {
                let columnRange = jc ..< min(columns.upperBound, jc + Gemm.columnBlock)
                for block in 0..<depthBlocks {
                    let depth = k * block / depthBlocks ..< k * (block + 1) / depthBlocks
                    let kc = depth.count
                    // The first k block applies beta; later ones add to what it wrote.
                    let blockBeta: Float = block == 0 ? beta : 1
                    GemmPacking.packB(transB: transB, b: b, ldb: ldb, depth: depth, columns: columnRange,
                                      width: nr, into: packedB)
                    for ic in stride(from: rows.lowerBound, to: rows.upperBound, by: Gemm.rowBlock) {
                        let rowRange = ic ..< min(rows.upperBound, ic + Gemm.rowBlock)
                        GemmPacking.packA(transA: transA, a: a, lda: lda, rows: rowRange, depth: depth,
                                          into: packedA)
                        var jr = columnRange.lowerBound
                        var panelB = UnsafePointer(packedB)
                        while jr < columnRange.upperBound {
                            let liveColumns = min(nr, columnRange.upperBound - jr)
                            var ir = rowRange.lowerBound
                            var panelA = UnsafePointer(packedA)
                            while ir < rowRange.upperBound {
                                let liveRows = min(mr, rowRange.upperBound - ir)
                                let tile = c + ir * ldc + jr
                                if liveRows == mr && liveColumns == nr {
                                    kernel.run(kc: kc, a: panelA, b: panelB, c: tile, ldc: ldc,
                                               alpha: alpha, beta: blockBeta)
                                } else {
                                    kernel.runPartial(kc: kc, a: panelA, b: panelB, mr: liveRows, nr: liveColumns,
                                                      c: tile, ldc: ldc, alpha: alpha, beta: blockBeta)
                                }
                                ir += mr; panelA += mr * kc
                            }
                            jr += nr; panelB += nr * kc
                        }
                    }
                }
            }
        }
    }
}
