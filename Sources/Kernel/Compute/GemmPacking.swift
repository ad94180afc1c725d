/// Copies blocks of `opA(A)` and `opB(B)` into the contiguous, zero-padded micro-panels the
/// microkernels read (see `GemmMicrokernel`). Packing is where the transposes are handled, so the
/// microkernels only ever see one layout.
enum GemmPacking {
    /// Packs rows `rows` and columns `depth` of `opA(A)` into micro-panels of `GemmMicrokernel.rows` rows:
    /// panel `r` holds, for each step `p` in `depth`, the values of rows `rows.lowerBound + 6r ..< +6`
    /// at column `p`, contiguously. A last partial panel is padded with zeros.
    static func packA(transA: Bool, a: UnsafePointer<Float>, lda: Int, rows: Range<Int>, depth: Range<Int>,
                      into dest: UnsafeMutablePointer<Float>) {
        let mr = GemmMicrokernel.rows
        let kc = depth.count
        var out = dest
        var i0 = rows.lowerBound
        while i0 < rows.upperBound {
            let live = min(mr, rows.upperBound - i0)
            if transA {
                // opA(A)[i, p] = a[p * lda + i]: each step is a contiguous run of `live` values.
                var src = a + depth.lowerBound * lda + i0
                if live == mr {
                    for _ in 0..<kc {
                        out[0] = src[0]; out[1] = src[1]; out[2] = src[2]
                        out[3] = src[3]; out[4] = src[4]; out[5] = src[5]
                        out += mr; src += lda
                    }
                } else {
                    for _ in 0..<kc {
                        for i in 0..<mr { out[i] = i < live ? src[i] : 0 }
                        out += mr; src += lda
                    }
                }
            } else {
                // opA(A)[i, p] = a[i * lda + p]: interleave `live` rows.
                let base = a + i0 * lda + depth.lowerBound
                if live == mr {
                    let r0 = base, r1 = base + lda, r2 = base + 2 * lda
                    let r3 = base + 3 * lda, r4 = base + 4 * lda, r5 = base + 5 * lda
                    for p in 0..<kc {
                        out[0] = r0[p]; out[1] = r1[p]; out[2] = r2[p]
                        out[3] = r3[p]; out[4] = r4[p]; out[5] = r5[p]
                        out += mr
                    }
                } else {
                    for p in 0..<kc {
                        for i in 0..<mr { out[i] = i < live ? base[i * lda + p] : 0 }
                        out += mr
                    }
                }
            }
            i0 += mr
        }
    }

    /// Packs rows `depth` and columns `columns` of `opB(B)` into micro-panels `width` columns wide:
    /// panel `q` holds, for each step `p` in `depth`, the values of columns `columns.lowerBound + width*q
    /// ..< +width` at row `p`, contiguously. A last partial panel is padded with zeros.
    static func packB(transB: Bool, b: UnsafePointer<Float>, ldb: Int, depth: Range<Int>, columns: Range<Int>,
                      width: Int, into dest: UnsafeMutablePointer<Float>) {
        let kc = depth.count
        var out = dest
        var j0 = columns.lowerBound
        while j0 < columns.upperBound {
            let live = min(width, columns.upperBound - j0)
            if transB {
                // opB(B)[p, j] = b[j * ldb + p]: a transpose, done in blocks of 16 steps so the
                // written lines stay in L1 while the reads run along B's rows.
                if live < width { (out).update(repeating: 0, count: kc * width) }
                var p0 = 0
                while p0 < kc {
                    let steps = min(16, kc - p0)
                    for j in 0..<live {
                        let src = b + (j0 + j) * ldb + depth.lowerBound + p0
                        var o = out + p0 * width + j
                        for p in 0..<steps {
                            o.pointee = src[p]
                            o += width
                        }
                    }
                    p0 += 16
                }
                out += kc * width
            } else {
                // opB(B)[p, j] = b[p * ldb + j]: each step is a contiguous run of `live` values.
                var src = b + depth.lowerBound * ldb + j0
                if live == width {
                    for _ in 0..<kc {
                        for j in 0..<width { out[j] = src[j] }
                        out += width; src += ldb
                    }
                } else {
                    for _ in 0..<kc {
                        for j in 0..<live { out[j] = src[j] }
                        for j in live..<width { out[j] = 0 }
                        out += width; src += ldb
                    }
                }
            }
            j0 += width
        }
    }
}
