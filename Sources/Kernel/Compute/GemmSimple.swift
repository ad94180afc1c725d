/// The unpacked loops `Gemm.sgemm` uses where packing does not pay (see `Gemm.prefersSimple`).
/// Single-threaded; each C element's sum has a fixed order, so results are reproducible. Multiply-adds are
/// fused or not as `arithmetic` says (the process's `GemmArithmetic.active` outside tests).
enum GemmSimple {
    static func multiply(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, arithmetic: GemmArithmetic
    ) {
        switch arithmetic {
        case .fused:
            multiply(
                GemmFusedMultiplyAdd.self, transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a,
                lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
        case .separate:
            multiply(
                GemmSeparateMultiplyAdd.self, transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a,
                lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
        }
    }

    private static func multiply<M: GemmMultiplyAdd>(
        _: M.Type, transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        if isDotProducts(transA: transA, transB: transB, n: n, ldb: ldb) {
            for i in 0..<m {
                let arow = a + i * lda
                let crow = c + i * ldc
                for j in 0..<n {
                    let sum = dot(M.self, arow, b + j * ldb, count: k)
                    crow[j] = beta == 0 ? alpha * sum : beta * crow[j] + alpha * sum
                }
            }
            return
        }
        // One row of C at a time: sums[j] = madd(sums[j], opA[i, p], opB[p, j]) for p in order (vectorizes over j).
        withUnsafeTemporaryAllocation(of: Float.self, capacity: n) { buffer in
            let sums = buffer.baseAddress!
            for i in 0..<m {
                sums.update(repeating: 0, count: n)
                for p in 0..<k {
                    let aip = transA ? a[p * lda + i] : a[i * lda + p]
                    if transB {
                        var bp = b + p
                        for j in 0..<n {
                            sums[j] = M.multiplyAdd(sums[j], aip, bp.pointee)
                            bp += ldb
                        }
                    } else {
                        let brow = b + p * ldb
                        for j in 0..<n { sums[j] = M.multiplyAdd(sums[j], aip, brow[j]) }
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

    /// Whether every C element is a dot product of two contiguous runs: a row of A and a row of the
    /// stored B (transposed B, or a single column stored contiguously).
    static func isDotProducts(transA: Bool, transB: Bool, n: Int, ldb: Int) -> Bool {
        !transA && (transB || (n == 1 && ldb == 1))
    }

    /// sum_p x[p] * y[p], in 16 interleaved partial sums (partial = madd(partial, x, y)) combined in a fixed
    /// order, then the tail (sum = madd(sum, x[p], y[p])).
    @inline(__always)
    static func dot<M: GemmMultiplyAdd>(
        _: M.Type, _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>,
        count: Int
    ) -> Float {
        typealias V = SIMD16<Float>
        var partial = V()
        var p = 0
        while p + 16 <= count {
            let xv = UnsafeRawPointer(x + p).loadUnaligned(as: V.self)
            let yv = UnsafeRawPointer(y + p).loadUnaligned(as: V.self)
            partial = M.multiplyAdd(partial, xv, yv)
            p += 16
        }
        return finishDot(M.self, partial, x, y, from: p, count: count)
    }

    /// The end of `dot`: the 16 partial sums combined in its fixed order, then the tail x[p] * y[p] for p in
    /// `from..<count`. Every kernel that computes dot products (`GemmSmallRows`) ends them with this, so each
    /// gives the bits `dot` gives.
    @inline(__always)
    static func finishDot<M: GemmMultiplyAdd>(
        _: M.Type, _ partial: SIMD16<Float>, _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, from: Int,
        count: Int
    ) -> Float {
        let eight = partial.lowHalf + partial.highHalf
        let four = eight.lowHalf + eight.highHalf
        let two = four.lowHalf + four.highHalf
        var sum = two[0] + two[1]
        var p = from
        while p < count {
            sum = M.multiplyAdd(sum, x[p], y[p])
            p += 1
        }
        return sum
    }
}
