/// Copies blocks of `opA(A)` and `opB(B)` into the contiguous, zero-padded micro-panels the
/// microkernels read (see `GemmMicrokernel`). Packing handles `transA` and `transB`, so the microkernels
/// see one layout whatever the transposes.
enum GemmPacking {
    /// Packs rows `rows` and columns `depth` of `opA(A)` into micro-panels of `GemmMicrokernel.rows` rows:
    /// panel `r` holds, for each step `p` in `depth`, the values of rows `rows.lowerBound + 6r ..< +6`
    /// at column `p`, contiguously. A last partial panel is padded with zeros.
    static func packA(
        transA: Bool, a: UnsafePointer<Float>, lda: Int, rows: Range<Int>, depth: Range<Int>,
        into dest: UnsafeMutablePointer<Float>
    ) {
        let mr = GemmMicrokernel.rows
        if transA {
            // opA[i, p] = a[p * lda + i]: a panel's step is six contiguous values of A's row p, the layout
            // `packRows` makes of B's rows.
            packRows(b: a, ldb: lda, depth: depth, columns: rows, width: mr, into: dest)
            return
        }
        var out = dest
        for i0 in stride(from: rows.lowerBound, to: rows.upperBound, by: mr) {
            let live = min(mr, rows.upperBound - i0)
            if live == mr {
                out = interleaveSixRows(a + i0 * lda + depth.lowerBound, lda: lda, steps: depth.count, into: out)
                continue
            }
            for p in depth {
                for t in 0..<mr { out[t] = t >= live ? 0 : a[(i0 + t) * lda + p] }
                out += mr
            }
        }
    }

    /// Writes `steps` steps of six rows (`rows`, `lda` apart) side by side: out[6p + t] = row t's value p.
    /// Four steps at a time: rows 0-3 as a 4 x 4 transpose in registers, rows 4 and 5 as pairs, so each step
    /// is one 4-value and one 2-value store (element by element, the copy ran at half this speed, `bench
    /// kernels`). Returns the position after the last step.
    @inline(__always)
    private static func interleaveSixRows(
        _ rows: UnsafePointer<Float>, lda: Int, steps: Int, into dest: UnsafeMutablePointer<Float>
    ) -> UnsafeMutablePointer<Float> {
        let r0 = rows
        let r1 = r0 + lda
        let r2 = r1 + lda
        let r3 = r2 + lda
        let r4 = r3 + lda
        let r5 = r4 + lda
        var out = dest
        var p = 0
        while p + 4 <= steps {
            let x0 = load4(r0 + p)
            let x1 = load4(r1 + p)
            let x2 = load4(r2 + p)
            let x3 = load4(r3 + p)
            let x4 = load4(r4 + p)
            let x5 = load4(r5 + p)
            store(SIMD4(x0[0], x1[0], x2[0], x3[0]), out)
            store(SIMD2(x4[0], x5[0]), out + 4)
            store(SIMD4(x0[1], x1[1], x2[1], x3[1]), out + 6)
            store(SIMD2(x4[1], x5[1]), out + 10)
            store(SIMD4(x0[2], x1[2], x2[2], x3[2]), out + 12)
            store(SIMD2(x4[2], x5[2]), out + 16)
            store(SIMD4(x0[3], x1[3], x2[3], x3[3]), out + 18)
            store(SIMD2(x4[3], x5[3]), out + 22)
            out += 24
            p += 4
        }
        while p < steps {
            out[0] = r0[p]
            out[1] = r1[p]
            out[2] = r2[p]
            out[3] = r3[p]
            out[4] = r4[p]
            out[5] = r5[p]
            out += 6
            p += 1
        }
        return out
    }

    /// Packs rows `depth` and columns `columns` of `opB(B)` into micro-panels `width` columns wide:
    /// panel `q` holds, for each step `p` in `depth`, the values of columns `columns.lowerBound + width*q
    /// ..< +width` at row `p`, contiguously. A last partial panel is padded with zeros.
    static func packB(
        transB: Bool, b: UnsafePointer<Float>, ldb: Int, depth: Range<Int>, columns: Range<Int>,
        width: Int, into dest: UnsafeMutablePointer<Float>
    ) {
        guard transB else {
            packRows(b: b, ldb: ldb, depth: depth, columns: columns, width: width, into: dest)
            return
        }
        let kc = depth.count
        var out = dest
        var j0 = columns.lowerBound
        while j0 < columns.upperBound {
            let live = min(width, columns.upperBound - j0)
            // opB(B)[p, j] = b[j * ldb + p]: a transpose, done in blocks of 16 steps so the
            // written lines stay in L1 while the reads run along B's rows.
            if live < width { (out).update(repeating: 0, count: kc * width) }
            var p0 = 0
            while p0 < kc {
                let steps = min(16, kc - p0)
                // Four columns and four steps at a time: four row loads, transposed in registers, four stores.
                var first = 0
                if steps == 16 {
                    while first + 4 <= live {
                        transposeBlock(
                            b + (j0 + first) * ldb + depth.lowerBound + p0, ldb: ldb,
                            into: out + p0 * width + first, width: width)
                        first += 4
                    }
                }
                for j in first..<live {
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
            j0 += width
        }
    }

    /// `packB` without a transpose, and `packA` with one: panel `q` step `p` = b[p * ldb + columns.lowerBound +
    /// width * q ..< +width]. B is read along its rows, eight rows at a time across every panel, so the reads
    /// are a few sequential streams; reading panel by panel instead (one `width`-value run from each of `kc`
    /// rows, then the next panel) touched a new line of a far row at every step, and the copy waited on memory
    /// (the copy of the Qwen2 head's weight in the backward of the loss, `perf annotate`). Eight rows rather
    /// than four, and the full panels in a loop of their own, copied 1.3-2.1x faster (`bench kernels`, packing).
    private static func packRows(
        b: UnsafePointer<Float>, ldb: Int, depth: Range<Int>, columns: Range<Int>, width: Int,
        into dest: UnsafeMutablePointer<Float>
    ) {
        let kc = depth.count
        let fullPanels = columns.count / width
        let first = b + depth.lowerBound * ldb + columns.lowerBound
        var p0 = 0
        while p0 < kc {
            let steps = min(8, kc - p0)
            let rowStart = first + p0 * ldb
            for q in 0..<fullPanels {
                var from = rowStart + q * width
                var to = dest + q * kc * width + p0 * width
                for _ in 0..<steps {
                    if width == 6 {
                        store(load4(from), to)
                        store(UnsafeRawPointer(from + 4).loadUnaligned(as: SIMD2<Float>.self), to + 4)
                    } else if width % 8 == 0 {
                        for j in stride(from: 0, to: width, by: 8) { store(load8(from + j), to + j) }
                    } else {
                        to.update(from: from, count: width)
                    }
                    from += ldb
                    to += width
                }
            }
            p0 += steps
        }
        // A last, partial panel is padded with zeros.
        let live = columns.count - fullPanels * width
        guard live > 0 else { return }
        var from = first + fullPanels * width
        var to = dest + fullPanels * kc * width
        for _ in 0..<kc {
            for j in 0..<live { to[j] = from[j] }
            for j in live..<width { to[j] = 0 }
            from += ldb
            to += width
        }
    }

    @inline(__always)
    private static func load4(_ p: UnsafePointer<Float>) -> SIMD4<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD4<Float>.self)
    }

    @inline(__always)
    private static func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
    }

    @inline(__always)
    private static func store<V: SIMD>(_ v: V, _ p: UnsafeMutablePointer<Float>) where V.Scalar == Float {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self)
    }

    /// Copies 4 rows x 16 steps of B (`src`, rows `ldb` apart) to 16 steps x 4 columns of a packed panel
    /// (`dst`, steps `width` apart), 4 x 4 blocks at a time.
    @inline(__always)
    private static func transposeBlock(
        _ src: UnsafePointer<Float>, ldb: Int, into dst: UnsafeMutablePointer<Float>,
        width: Int
    ) {
        typealias V = SIMD4<Float>
        var p = 0
        while p < 16 {
            let r0 = load4(src + p)
            let r1 = load4(src + ldb + p)
            let r2 = load4(src + 2 * ldb + p)
            let r3 = load4(src + 3 * ldb + p)
            let o = dst + p * width
            store(V(r0[0], r1[0], r2[0], r3[0]), o)
            store(V(r0[1], r1[1], r2[1], r3[1]), o + width)
            store(V(r0[2], r1[2], r2[2], r3[2]), o + 2 * width)
            store(V(r0[3], r1[3], r2[3], r3[3]), o + 3 * width)
            p += 4
        }
    }
}
