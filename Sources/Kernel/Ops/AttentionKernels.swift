/// The register-blocked inner loops of attention, on strided row-major blocks of at most 4 rows.
///
/// Attention needs four small products per head, all of one of two shapes:
/// - `rowsTimesPacked`: C[r, j] = sum_d A[r, d] * Bt[d, j], with B packed transposed (scores = Q K^T and
///   dP = dO V^T). Vectorized over j, so no horizontal sums.
/// - `weightedRowSum`: out[r, :] (+)= sum_j W[r, j] * R[j, :] (O = P V, dQ = dS K, and with W read
///   transposed, dK = dS^T Q and dV = P^T dO). Vectorized over the head dimension.
/// Each computes 4 rows x 32 columns in 8 vector accumulators; a block with fewer than 4 rows reuses its last
/// row for the missing ones and does not store them. Every output element has one fixed summation order.
///
/// Each step is a multiply-add in the process's `GemmArithmetic`: one FMA instruction where the build has them
/// (a multiply and an add are two instructions on the same two ports, so these loops ran at about half speed
/// before), a multiply then an add in the baseline build, whose results are unchanged by it.
enum AttentionKernels {
    typealias Vector = RowKernels.Vector
    /// Column block of `rowsTimesPacked`; packed widths are rounded up to it.
    static let columnBlock = 32

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
            var c00 = Vector.zero
            var c01 = Vector.zero
            var c10 = Vector.zero
            var c11 = Vector.zero
            var c20 = Vector.zero
            var c21 = Vector.zero
            var c30 = Vector.zero
            var c31 = Vector.zero
            var bp = bt + column
            for d in 0..<depth {
                let b0 = RowKernels.load(bp)
                let b1 = RowKernels.load(bp + 16)
                let x0 = Vector(repeating: a0[d])
                let x1 = Vector(repeating: a1[d])
                let x2 = Vector(repeating: a2[d])
                let x3 = Vector(repeating: a3[d])
                c00 = M.multiplyAdd(c00, x0, b0)
                c01 = M.multiplyAdd(c01, x0, b1)
                c10 = M.multiplyAdd(c10, x1, b0)
                c11 = M.multiplyAdd(c11, x1, b1)
                c20 = M.multiplyAdd(c20, x2, b0)
                c21 = M.multiplyAdd(c21, x2, b1)
                c30 = M.multiplyAdd(c30, x3, b0)
                c31 = M.multiplyAdd(c31, x3, b1)
                bp += ldb
            }
            let out = c + column
            RowKernels.store(c00, out)
            RowKernels.store(c01, out + 16)
            if rows > 1 {
                RowKernels.store(c10, out + ldc)
                RowKernels.store(c11, out + ldc + 16)
            }
            if rows > 2 {
                RowKernels.store(c20, out + 2 * ldc)
                RowKernels.store(c21, out + 2 * ldc + 16)
            }
            if rows > 3 {
                RowKernels.store(c30, out + 3 * ldc)
                RowKernels.store(c31, out + 3 * ldc + 16)
            }
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
        while column + 32 <= width {
            var c00 = Vector.zero
            var c01 = Vector.zero
            var c10 = Vector.zero
            var c11 = Vector.zero
            var c20 = Vector.zero
            var c21 = Vector.zero
            var c30 = Vector.zero
            var c31 = Vector.zero
            var rp = sourceStart + column
            var wo = 0
            for _ in range {
                let r0 = RowKernels.load(rp)
                let r1 = RowKernels.load(rp + 16)
                let x0 = Vector(repeating: w0[wo])
                let x1 = Vector(repeating: w1[wo])
                let x2 = Vector(repeating: w2[wo])
                let x3 = Vector(repeating: w3[wo])
                rp += lds
                wo &+= termStride
                c00 = M.multiplyAdd(c00, x0, r0)
                c01 = M.multiplyAdd(c01, x0, r1)
                c10 = M.multiplyAdd(c10, x1, r0)
                c11 = M.multiplyAdd(c11, x1, r1)
                c20 = M.multiplyAdd(c20, x2, r0)
                c21 = M.multiplyAdd(c21, x2, r1)
                c30 = M.multiplyAdd(c30, x3, r0)
                c31 = M.multiplyAdd(c31, x3, r1)
            }
            let o = out + column
            put(c00, o)
            put(c01, o + 16)
            if rows > 1 {
                put(c10, o + ldo)
                put(c11, o + ldo + 16)
            }
            if rows > 2 {
                put(c20, o + 2 * ldo)
                put(c21, o + 2 * ldo + 16)
            }
            if rows > 3 {
                put(c30, o + 3 * ldo)
                put(c31, o + 3 * ldo + 16)
            }
            column += 32
        }
        if column + 16 <= width {
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
