/// The register-blocked inner loops of attention, on strided row-major blocks of at most 4 rows.
///
/// Attention needs four small products per head, all of one of two shapes:
/// - `rowsTimesPacked`: C[r, j] = sum_d A[r, d] * Bt[d, j], with B packed transposed (scores = Q K^T and
///   dP = dO V^T). Vectorized over j, so no horizontal sums.
/// - `weightedRowSum`: out[r, :] (+)= sum_j W[r, j] * R[j, :] (O = P V, dQ = dS K, and with W read
///   transposed, dK = dS^T Q and dV = P^T dO). Vectorized over the head dimension.
/// Each computes 4 rows x 16 columns in 4 vector accumulators (8 ymm registers on AVX2, 4 zmm on AVX-512): with
/// 32 columns in 8 accumulators, AVX2's 16 registers could not also hold the loads and broadcasts and both loops
/// spilled accumulators to the stack at every step (`perf annotate`, haswell build). A block with fewer than 4
/// rows reuses its last row for the missing ones and does not store them. Every output element has one fixed
/// summation order, whatever the block width.
///
/// Each step is a multiply-add in the process's `GemmArithmetic`: one FMA instruction where the build has them
/// (a multiply and an add are two instructions on the same two ports, so these loops ran at about half speed
/// before), a multiply then an add in the baseline build, whose results are unchanged by it.
enum AttentionKernels {
    typealias Vector = RowKernels.Vector
    /// Column block of `rowsTimesPacked`; packed widths are rounded up to it.
    static let columnBlock = 16

    static func roundedUp(_ n: Int) -> Int { (n + columnBlock - 1) / columnBlock * columnBlock }

    /// Writes rows 0..<n of `src` (row stride `ld`, `depth` floats used per row) transposed into
    /// dst[depth, ldDst], with zeros in columns n..<ldDst.
    static func packTransposed(
        _ src: UnsafePointer<Float>, ld: Int, rows n: Int, depth: Int,
        into dst: UnsafeMutablePointer<Float>, ldDst: Int
    ) {
        // 16 source rows at a time, so each destination cache line is written whole while the 16 source
        // rows stay in L1 (a plain column-by-column transpose stalls on 4K-aliased strided stores).
        var j0 = 0
        while j0 < n {
            let count = Swift.min(16, n - j0)
            var to = dst + j0
            var from = src + j0 * ld
            for _ in 0..<depth {
                if count == 16 {
                    let f = from
                    RowKernels.store(
                        RowKernels.Vector(
                            f[0], f[ld], f[2 * ld], f[3 * ld], f[4 * ld], f[5 * ld], f[6 * ld], f[7 * ld],
                            f[8 * ld], f[9 * ld], f[10 * ld], f[11 * ld], f[12 * ld], f[13 * ld], f[14 * ld], f[15 * ld]
                        ), to)
                } else {
                    for jj in 0..<count { to[jj] = from[jj * ld] }
                }
                to += ldDst
                from += 1
            }
            j0 += 16
        }
        if ldDst > n {
            for d in 0..<depth { (dst + d * ldDst + n).update(repeating: 0, count: ldDst - n) }
        }
    }

    /// C[r, 0..<columns] = sum_{d < depth} A[r, d] * Bt[d, 0..<columns] for r < rows (1...4).
    /// `columns` must be a multiple of `columnBlock` and fit in Bt's row stride `ldb`.
    static func rowsTimesPacked(
        _ a: UnsafePointer<Float>, lda: Int, rows: Int, depth: Int,
        _ bt: UnsafePointer<Float>, ldb: Int, columns: Int,
        _ c: UnsafeMutablePointer<Float>, ldc: Int, arithmetic: GemmArithmetic = .active
    ) {
        switch arithmetic {
        case .fused:
            rowsTimesPacked(
                GemmFusedMultiplyAdd.self, a, lda: lda, rows: rows, depth: depth, bt, ldb: ldb, columns: columns, c,
                ldc: ldc)
        case .separate:
            rowsTimesPacked(
                GemmSeparateMultiplyAdd.self, a, lda: lda, rows: rows, depth: depth, bt, ldb: ldb, columns: columns,
                c, ldc: ldc)
        }
    }

    @inline(__always)
    private static func rowsTimesPacked<M: GemmMultiplyAdd>(
        _: M.Type, _ a: UnsafePointer<Float>, lda: Int, rows: Int, depth: Int,
        _ bt: UnsafePointer<Float>, ldb: Int, columns: Int,
        _ c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        let a0 = a
        let a1 = a + Swift.min(1, rows - 1) * lda
        let a2 = a + Swift.min(2, rows - 1) * lda
        let a3 = a + Swift.min(3, rows - 1) * lda
        var column = 0
        while column < columns {
            var c0 = Vector.zero
            var c1 = Vector.zero
            var c2 = Vector.zero
            var c3 = Vector.zero
            var bp = bt + column
            for d in 0..<depth {
                let b0 = RowKernels.load(bp)
                c0 = M.multiplyAdd(c0, Vector(repeating: a0[d]), b0)
                c1 = M.multiplyAdd(c1, Vector(repeating: a1[d]), b0)
                c2 = M.multiplyAdd(c2, Vector(repeating: a2[d]), b0)
                c3 = M.multiplyAdd(c3, Vector(repeating: a3[d]), b0)
                bp += ldb
            }
            let out = c + column
            RowKernels.store(c0, out)
            if rows > 1 { RowKernels.store(c1, out + ldc) }
            if rows > 2 { RowKernels.store(c2, out + 2 * ldc) }
            if rows > 3 { RowKernels.store(c3, out + 3 * ldc) }
            column += columnBlock
        }
    }

    /// out[r, 0..<width] = (or += with `accumulate`) sum_{j in range} W(r, j) * R[j, 0..<width] for r < rows (1...4),
    /// with W(r, j) = w[r * rowStride + j * termStride]: a row-major W has termStride 1, and a transposed one
    /// (W(r, j) = M[j, r], e.g. dV = P^T dO read straight from P) has rowStride 1.
    static func weightedRowSum(
        _ w: UnsafePointer<Float>, rowStride: Int, termStride: Int, rows: Int, range: Range<Int>,
        _ src: UnsafePointer<Float>, lds: Int, width: Int,
        _ out: UnsafeMutablePointer<Float>, ldo: Int, accumulate: Bool, arithmetic: GemmArithmetic = .active
    ) {
        switch arithmetic {
        case .fused:
            weightedRowSum(
                GemmFusedMultiplyAdd.self, w, rowStride: rowStride, termStride: termStride, rows: rows, range: range,
                src, lds: lds, width: width, out, ldo: ldo, accumulate: accumulate)
        case .separate:
            weightedRowSum(
                GemmSeparateMultiplyAdd.self, w, rowStride: rowStride, termStride: termStride, rows: rows,
                range: range, src, lds: lds, width: width, out, ldo: ldo, accumulate: accumulate)
        }
    }

    @inline(__always)
    private static func weightedRowSum<M: GemmMultiplyAdd>(
        _: M.Type, _ w: UnsafePointer<Float>, rowStride: Int, termStride: Int, rows: Int, range: Range<Int>,
        _ src: UnsafePointer<Float>, lds: Int, width: Int,
        _ out: UnsafeMutablePointer<Float>, ldo: Int, accumulate: Bool
    ) {
        let first = w + range.lowerBound * termStride
        let sourceStart = src + range.lowerBound * lds
        let w0 = first
        let w1 = first + Swift.min(1, rows - 1) * rowStride
        let w2 = first + Swift.min(2, rows - 1) * rowStride
        let w3 = first + Swift.min(3, rows - 1) * rowStride
        @inline(__always) func put(_ v: Vector, _ p: UnsafeMutablePointer<Float>) {
            RowKernels.store(accumulate ? RowKernels.load(p) + v : v, p)
        }
        var column = 0
        while column + 16 <= width {
            var c0 = Vector.zero
            var c1 = Vector.zero
            var c2 = Vector.zero
            var c3 = Vector.zero
            var rp = sourceStart + column
            var wo = 0
            for _ in range {
                let r0 = RowKernels.load(rp)
                c0 = M.multiplyAdd(c0, Vector(repeating: w0[wo]), r0)
                c1 = M.multiplyAdd(c1, Vector(repeating: w1[wo]), r0)
                c2 = M.multiplyAdd(c2, Vector(repeating: w2[wo]), r0)
                c3 = M.multiplyAdd(c3, Vector(repeating: w3[wo]), r0)
                rp += lds
                wo &+= termStride
            }
            let o = out + column
            put(c0, o)
            if rows > 1 { put(c1, o + ldo) }
            if rows > 2 { put(c2, o + 2 * ldo) }
            if rows > 3 { put(c3, o + 3 * ldo) }
            column += 16
        }
        if column < width {  // fewer than 16 columns left: plain loops
            for r in 0..<rows {
                let wr = first + r * rowStride
                let o = out + r * ldo
                for col in column..<width {
                    var s: Float = 0
                    var rp = sourceStart + col
                    var wo = 0
                    for _ in range {
                        s = M.multiplyAdd(s, wr[wo], rp.pointee)
                        rp += lds
                        wo &+= termStride
                    }
                    o[col] = accumulate ? o[col] + s : s
                }
            }
        }
    }
}
