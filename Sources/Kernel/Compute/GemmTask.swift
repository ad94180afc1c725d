import Dispatch

/// One `sgemm` call's operands and the blocked loop nest that computes it.
///
/// C is processed in blocks of at most `Gemm.packedRows` x `Gemm.packedColumns`. For each such block,
/// for each k block (in order), two phases run, each split over the threads:
/// 1. pack: the block's rows of opA and columns of opB for this k block go into one shared workspace;
/// 2. compute: the C tiles are split along M or N into contiguous tile-aligned ranges, one per thread,
///    and each thread runs the microkernel over its tiles, `Gemm.rowBlock` rows of A at a time.
/// Packing is shared, so a second thread adds no packing work. The phases are separate
/// `concurrentPerform` calls, so no thread ever waits for another inside one (no deadlock even when
/// Dispatch runs the iterations one after another).
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
    let threads: Int

    func run() {
        let mr = GemmMicrokernel.rows, nr = kernel.width
        // k blocks of (nearly) equal size, at most `depthBlock` each: no tiny last block.
        let depthBlocks = (k + Gemm.depthBlock - 1) / Gemm.depthBlock
        let maxDepth = (k + depthBlocks - 1) / depthBlocks
        let maxRows = min(m, Gemm.packedRows), maxColumns = min(n, Gemm.packedColumns)
        GemmWorkspace.withWorkspace { workspace in
            workspace.reserve(a: (maxRows + mr - 1) / mr * mr * maxDepth, b: (maxColumns + nr - 1) / nr * nr * maxDepth)
            for j0 in stride(from: 0, to: n, by: Gemm.packedColumns) {
                let columns = j0 ..< min(n, j0 + Gemm.packedColumns)
                for i0 in stride(from: 0, to: m, by: Gemm.packedRows) {
                    let rows = i0 ..< min(m, i0 + Gemm.packedRows)
                    for block in 0..<depthBlocks {
                        let depth = k * block / depthBlocks ..< k * (block + 1) / depthBlocks
                        pack(rows: rows, columns: columns, depth: depth, workspace: workspace)
                        // The first k block applies beta; later ones add to what it wrote.
                        compute(rows: rows, columns: columns, depth: depth.count, beta: block == 0 ? beta : 1,
                                workspace: workspace)
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
            // Directly rather than through `Parallel.forEach`, so that an explicit `threads:` argument of
            // `sgemm` is honoured even when it differs from `Parallel.threads`.
            DispatchQueue.concurrentPerform(iterations: chunks, execute: body)
        }
    }

    /// Phase 1: packs opA[rows, depth] and opB[depth, columns] into the workspace.
    private func pack(rows: Range<Int>, columns: Range<Int>, depth: Range<Int>, workspace: GemmWorkspace) {
        let mr = GemmMicrokernel.rows, nr = kernel.width, kc = depth.count
        let panelsA = (rows.count + mr - 1) / mr, panelsB = (columns.count + nr - 1) / nr
        let packedA = workspace.packedA, packedB = workspace.packedB
        // Enough values per chunk that a thread is worth waking.
        let chunks = max(1, min(threads, (rows.count + columns.count) * kc / (64 * 1024)))
        forChunks(chunks) { chunk in
            let a0 = panelsA * chunk / chunks, a1 = panelsA * (chunk + 1) / chunks
            if a0 < a1 {
                GemmPacking.packA(transA: transA, a: a, lda: lda,
                                  rows: rows.lowerBound + a0 * mr ..< min(rows.upperBound, rows.lowerBound + a1 * mr),
                                  depth: depth, into: packedA + a0 * mr * kc)
            }
            let b0 = panelsB * chunk / chunks, b1 = panelsB * (chunk + 1) / chunks
            if b0 < b1 {
                GemmPacking.packB(transB: transB, b: b, ldb: ldb, depth: depth,
                                  columns: columns.lowerBound + b0 * nr ..< min(columns.upperBound, columns.lowerBound + b1 * nr),
                                  width: nr, into: packedB + b0 * nr * kc)
            }
        }
    }

    /// Phase 2: C[rows, columns] = alpha * (packed A x packed B) + beta * C, split over the threads along
    /// whichever of M and N divides more evenly into tile-aligned ranges.
    private func compute(rows: Range<Int>, columns: Range<Int>, depth kc: Int, beta: Float, workspace: GemmWorkspace) {
        let mr = GemmMicrokernel.rows, nr = kernel.width
        let panelsA = (rows.count + mr - 1) / mr, panelsB = (columns.count + nr - 1) / nr
        let chunks = max(1, min(threads, panelsA + panelsB))
        // The largest share of rows (columns) one chunk gets when splitting M (N).
        let rowShare = min(rows.count, (panelsA + chunks - 1) / chunks * mr)
        let columnShare = min(columns.count, (panelsB + chunks - 1) / chunks * nr)
        let splitRows = rowShare * columns.count <= columnShare * rows.count
        let chunkCount = min(chunks, splitRows ? panelsA : panelsB)
        let packedA = UnsafePointer(workspace.packedA), packedB = UnsafePointer(workspace.packedB)
        forChunks(chunkCount) { chunk in
            let panels = splitRows ? panelsA : panelsB
            let p0 = panels * chunk / chunkCount, p1 = panels * (chunk + 1) / chunkCount
            if splitRows {
                computeTiles(panelsA: p0..<p1, panelsB: 0..<panelsB, rows: rows, columns: columns, kc: kc,
                             beta: beta, packedA: packedA, packedB: packedB)
            } else {
                computeTiles(panelsA: 0..<panelsA, panelsB: p0..<p1, rows: rows, columns: columns, kc: kc,
                             beta: beta, packedA: packedA, packedB: packedB)
            }
        }
    }

    /// Runs the microkernel over the tiles of the given packed panels, `Gemm.rowBlock` rows of A at a time
    /// so that they stay in L2 while every B panel passes over them.
    private func computeTiles(panelsA: Range<Int>, panelsB: Range<Int>, rows: Range<Int>, columns: Range<Int>,
                              kc: Int, beta: Float, packedA: UnsafePointer<Float>, packedB: UnsafePointer<Float>) {
        let mr = GemmMicrokernel.rows, nr = kernel.width
        let panelsPerRowBlock = max(1, Gemm.rowBlock / mr)
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
                        kernel.run(kc: kc, a: panelA, b: panelB, c: tile, ldc: ldc, alpha: alpha, beta: beta)
                    } else {
                        kernel.runPartial(kc: kc, a: panelA, b: panelB, mr: liveRows, nr: liveColumns,
                                          c: tile, ldc: ldc, alpha: alpha, beta: beta)
                    }
                }
            }
        }
    }
}
