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
        var out = dest
        for i0 in stride(from: rows.lowerBound, to: rows.upperBound, by: mr) {
            let live = min(mr, rows.upperBound - i0)
            if live == mr && !transA {
                // Six rows read side by side, interleaved.
                let r0 = a + i0 * lda + depth.lowerBound
                let r1 = r0 + lda
                let r2 = r1 + lda
                let r3 = r2 + lda
                let r4 = r3 + lda
                let r5 = r4 + lda
                for p in 0..<depth.count {
                    out[0] = r0[p]
                    out[1] = r1[p]
                    out[2] = r2[p]
                    out[3] = r3[p]
                    out[4] = r4[p]
                    out[5] = r5[p]
                    out += mr
                }
                continue
            }
            if live == mr {
                // opA[i, p] = a[p * lda + i]: six contiguous values per step. Where two more values of the
                // row follow (not the last panel), each step is one 8-value load and store: its last two
                // values are overwritten by the next step's store; the last step stores its six alone.
                var src = a + depth.lowerBound * lda + i0
                var steps = depth.count
                if i0 + 8 <= rows.upperBound {
                    typealias V = SIMD8<Float>
                    while steps > 1 {
                        UnsafeMutableRawPointer(out).storeBytes(
                            of: UnsafeRawPointer(src).loadUnaligned(as: V.self), as: V.self)
                        out += mr
                        src += lda
                        steps -= 1
                    }
                }
                for _ in 0..<steps {
                    out[0] = src[0]
                    out[1] = src[1]
                    out[2] = src[2]
                    out[3] = src[3]
                    out[4] = src[4]
                    out[5] = src[5]
                    out += mr
                    src += lda
                }
                continue
            }
            for p in depth {
                for t in 0..<mr {
                    out[t] = t >= live ? 0 : transA ? a[p * lda + i0 + t] : a[(i0 + t) * lda + p]
                }
                out += mr
            }
        }
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

    /// `packB` without a transpose: opB(B)[p, j] = b[p * ldb + j]. B is read along its rows, four rows at a
    /// time across every panel, so the reads are a few sequential streams; reading panel by panel instead
    /// (one `width`-value run from each of `kc` rows, then the next panel) touched a new line of a far row
    /// at every step, and the copy waited on memory (the copy of the Qwen2 head's weight in the backward
    /// of the loss, `perf annotate`).
    private static func packRows(
        b: UnsafePointer<Float>, ldb: Int, depth: Range<Int>, columns: Range<Int>, width: Int,
        into dest: UnsafeMutablePointer<Float>
    ) {
        typealias V = SIMD8<Float>
        let kc = depth.count
        let panels = (columns.count + width - 1) / width
        let vectorized = width % V.scalarCount == 0
        var p0 = 0
        while p0 < kc {
            let steps = min(4, kc - p0)
            let rowStart = b + (depth.lowerBound + p0) * ldb + columns.lowerBound
            for q in 0..<panels {
                let live = min(width, columns.count - q * width)
                let panel = dest + q * kc * width + p0 * width
                for s in 0..<steps {
                    let from = rowStart + s * ldb + q * width
                    let to = panel + s * width
                    if vectorized && live == width {
                        for j in stride(from: 0, to: width, by: V.scalarCount) {
                            UnsafeMutableRawPointer(to + j).storeBytes(
                                of: UnsafeRawPointer(from + j).loadUnaligned(as: V.self), as: V.self)
                        }
                    } else {  // a last, partial panel is padded with zeros
                        for j in 0..<live { to[j] = from[j] }
                        for j in live..<width { to[j] = 0 }
                    }
                }
            }
            p0 += steps
        }
    }

    /// Copies 4 rows x 16 steps of B (`src`, rows `ldb` apart) to 16 steps x 4 columns of a packed panel
    /// (`dst`, steps `width` apart), 4 x 4 blocks at a time.
    @inline(__always)
    private static func transposeBlock(
        _ src: UnsafePointer<Float>, ldb: Int, into dst: UnsafeMutablePointer<Float>,
        width: Int
    ) {
        typealias V = SIMD4<Float>
        @inline(__always) func load(_ p: UnsafePointer<Float>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }
        @inline(__always) func store(_ v: V, _ p: UnsafeMutablePointer<Float>) {
            UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self)
        }
        var p = 0
        while p < 16 {
            let r0 = load(src + p)
            let r1 = load(src + ldb + p)
            let r2 = load(src + 2 * ldb + p)
            let r3 = load(src + 3 * ldb + p)
            let o = dst + p * width
            store(V(r0[0], r1[0], r2[0], r3[0]), o)
            store(V(r0[1], r1[1], r2[1], r3[1]), o + width)
            store(V(r0[2], r1[2], r2[2], r3[2]), o + 2 * width)
            store(V(r0[3], r1[3], r2[3], r3[3]), o + 3 * width)
            p += 4
        }
    }
}
