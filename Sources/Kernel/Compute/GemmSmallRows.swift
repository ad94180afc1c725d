import Dispatch

/// `Gemm.sgemm` for a few rows of A times a transposed B (`C[m, n] = A[m, k] B[n, k]^T` with m small): the
/// shape of every linear layer while decoding (m = the batch, B = the weight [out, in]).
///
/// Packing would copy (and transpose) the whole weight for a handful of rows, which costs more than the
/// product, so each C element is a dot product of two contiguous rows instead, summed exactly as
/// `GemmSimple.dot` sums it, in the process's `GemmArithmetic` (so results do not depend on the thread count, and one row gives the bits the
/// simple path gives), computed for two weight rows and four rows of A at a time. The columns (weight rows) are split
/// among the threads; each weight row is read from memory once and used for all m rows of A, which stay in
/// cache. With one row of A (batch-1 decoding) the weights are read one row or four rows at a time, whichever
/// reads memory faster on this CPU for that row length (`GemmRowOrder`).
enum GemmSmallRows {
    /// The most rows of A this path takes.
    static let maximumRows = 16

    /// Whether `Gemm.sgemm` should use this path.
    static func applies(transA: Bool, transB: Bool, m: Int) -> Bool { !transA && transB && m <= maximumRows }

    static func multiply(
        m: Int, n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int,
        threads: Int, arithmetic: GemmArithmetic, rowOrder: GemmRowOrder? = nil
    ) {
        // One row of A: the weights' read order, chosen (and the first products of each length timed) by
        // `GemmRowOrderChoice` unless the caller forces one.
        let choice = GemmRowOrderChoice.shared
        let (order, timed) =
            m == 1 ? rowOrder.map { ($0, false) } ?? choice.order(rowLength: k, values: n * k) : (.fourRows, false)
        let start = timed ? DispatchTime.now().uptimeNanoseconds : 0
        switch arithmetic {
        case .fused:
            multiply(
                GemmFusedMultiplyAdd.self, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                beta: beta, c: c, ldc: ldc, threads: threads, order: order)
        case .separate:
            multiply(
                GemmSeparateMultiplyAdd.self, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                beta: beta, c: c, ldc: ldc, threads: threads, order: order)
        }
        if timed {
            choice.record(
                rowLength: k, order: order, values: n * k, nanoseconds: DispatchTime.now().uptimeNanoseconds - start)
        }
    }

    private static func multiply<M: GemmMultiplyAdd>(
        _: M.Type, m: Int, n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int,
        order: GemmRowOrder
    ) {
        // With few rows the product runs at memory speed (each weight is used m times), so every product
        // worth a region is split: at least 256K multiply-adds (a megabyte of weights at m = 1, some 50
        // microseconds) per chunk, and up to 4 chunks per thread, claimed as threads come free, so a thread
        // that runs slower (a shared core) does not hold the others up at the end. Starting a region costs
        // about a microsecond while the workers spin between the back-to-back products of decoding
        // (`WorkerPool`). (With 2M per chunk and one chunk per thread, batch-1 decoding ran the attention
        // projections on one thread and its MLP products as two halves.)
        let chunks = threads == 1 ? 1 : max(1, min(4 * threads, m * n * k / (1 << 18), n))
        func store(_ sum: Float, _ i: Int, _ j: Int) {
            let cij = c + i * ldc + j
            cij.pointee = beta == 0 ? alpha * sum : beta * cij.pointee + alpha * sum
        }
        func run(_ columns: Range<Int>) {
            var j = columns.lowerBound
            if m == 1 {
                // Batch-1 decoding, in `order`: one weight row after another (one stream), or four at a time
                // (four streams).
                while order == .fourRows && j + 4 <= columns.upperBound {
                    let sums = dotsOfFourRows(M.self, a, b + j * ldb, ldb: ldb, count: k)
                    for t in 0..<4 { store(sums[t], 0, j + t) }
                    j += 4
                }
                while j < columns.upperBound {
                    store(GemmSimple.dot(M.self, a, b + j * ldb, count: k), 0, j)
                    j += 1
                }
                return
            }
            // Two weight rows at a time against up to four rows of A: 8 sums in registers, 6 loads per 8
            // multiply-adds (a plain dot product needs 2 loads per multiply-add).
            while j + 2 <= columns.upperBound {
                var i = 0
                while i < m {
                    let rows = Swift.min(4, m - i)
                    if rows == 1 {  // a single row: plain dot products (the 4-row block would repeat it 4 times)
                        store(GemmSimple.dot(M.self, a + i * lda, b + j * ldb, count: k), i, j)
                        store(GemmSimple.dot(M.self, a + i * lda, b + (j + 1) * ldb, count: k), i, j + 1)
                        i += 1
                        continue
                    }
                    let sums = dots(M.self, a + i * lda, lda: lda, rows: rows, b + j * ldb, ldb: ldb, count: k)
                    for r in 0..<rows {
                        store(sums[r], i + r, j)
                        store(sums[4 + r], i + r, j + 1)
                    }
                    i += rows
                }
                j += 2
            }
            if j < columns.upperBound {
                for i in 0..<m { store(GemmSimple.dot(M.self, a + i * lda, b + j * ldb, count: k), i, j) }
            }
        }
        if chunks == 1 {
            run(0..<n)
        } else {
            Parallel.forEach(chunks: chunks, threads: threads) { chunk in
                run(n * chunk / chunks..<n * (chunk + 1) / chunks)
            }
        }
    }

    /// The dot products of one row of A with four rows of B, each summed exactly as `GemmSimple.dot` sums it.
    @inline(__always)
    static func dotsOfFourRows<M: GemmMultiplyAdd>(
        _: M.Type, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, ldb: Int, count: Int
    ) -> SIMD4<Float> {
        typealias V = SIMD16<Float>
        let b0 = b
        let b1 = b + ldb
        let b2 = b1 + ldb
        let b3 = b2 + ldb
        var s0 = V()
        var s1 = V()
        var s2 = V()
        var s3 = V()
        @inline(__always) func load(_ p: UnsafePointer<Float>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }
        var p = 0
        while p + 16 <= count {
            let x = load(a + p)
            s0 = M.multiplyAdd(s0, x, load(b0 + p))
            s1 = M.multiplyAdd(s1, x, load(b1 + p))
            s2 = M.multiplyAdd(s2, x, load(b2 + p))
            s3 = M.multiplyAdd(s3, x, load(b3 + p))
            p += 16
        }
        @inline(__always) func finish(_ partial: V, _ y: UnsafePointer<Float>) -> Float {
            GemmSimple.finishDot(M.self, partial, a, y, from: p, count: count)
        }
        return SIMD4(finish(s0, b0), finish(s1, b1), finish(s2, b2), finish(s3, b3))
    }

    /// The dot products of `rows` (1...4) rows of A with two rows of B, each summed exactly as
    /// `GemmSimple.dot` sums one (16 lanes, the same reduction tree, then the tail in order), so every element
    /// has the bits the simple path gives it. Result: [A row r with B row 0 at r, with B row 1 at 4 + r].
    @inline(__always)
    static func dots<M: GemmMultiplyAdd>(
        _: M.Type, _ a: UnsafePointer<Float>, lda: Int, rows: Int, _ b: UnsafePointer<Float>, ldb: Int,
        count: Int
    ) -> SIMD8<Float> {
        typealias V = SIMD16<Float>
        let a0 = a
        let a1 = a + Swift.min(1, rows - 1) * lda
        let a2 = a + Swift.min(2, rows - 1) * lda
        let a3 = a + Swift.min(3, rows - 1) * lda
        let b0 = b
        let b1 = b + ldb
        var s00 = V()
        var s10 = V()
        var s20 = V()
        var s30 = V()
        var s01 = V()
        var s11 = V()
        var s21 = V()
        var s31 = V()
        @inline(__always) func load(_ p: UnsafePointer<Float>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }
        var p = 0
        while p + 16 <= count {
            let x0 = load(a0 + p)
            let x1 = load(a1 + p)
            let x2 = load(a2 + p)
            let x3 = load(a3 + p)
            let y0 = load(b0 + p)
            let y1 = load(b1 + p)
            s00 = M.multiplyAdd(s00, x0, y0)
            s10 = M.multiplyAdd(s10, x1, y0)
            s20 = M.multiplyAdd(s20, x2, y0)
            s30 = M.multiplyAdd(s30, x3, y0)
            s01 = M.multiplyAdd(s01, x0, y1)
            s11 = M.multiplyAdd(s11, x1, y1)
            s21 = M.multiplyAdd(s21, x2, y1)
            s31 = M.multiplyAdd(s31, x3, y1)
            p += 16
        }
        @inline(__always) func finish(_ partial: V, _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>) -> Float {
            GemmSimple.finishDot(M.self, partial, x, y, from: p, count: count)
        }
        return SIMD8(
            finish(s00, a0, b0), finish(s10, a1, b0), finish(s20, a2, b0), finish(s30, a3, b0),
            finish(s01, a0, b1), finish(s11, a1, b1), finish(s21, a2, b1), finish(s31, a3, b1))
    }
}
