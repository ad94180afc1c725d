/// The register-blocked inner kernels of `Gemm.sgemm`.
///
/// A microkernel multiplies one packed A micro-panel (`kc` steps of `GemmMicrokernel.rows` = 6 values, one
/// per row: value (row r, step p) at `a[6 * p + r]`) by one packed B micro-panel (`kc` steps of `width`
/// values, one per column), keeping the whole 6 x `width` tile of sums in registers, then combines the sums
/// into C:
///
///     sum[i, j] = 0;  sum[i, j] = madd(sum[i, j], A[i, p], B[p, j])  for p = 0 ..< kc, in order
///     C[i, j] = alpha * sum[i, j] + beta * C[i, j]     (beta == 0: C[i, j] = alpha * sum[i, j])
///
/// where `madd(c, a, b)` is `fma(a, b, c)` or `c + a * b` by the process's `GemmArithmetic` (the combine is
/// never fused). Every variant performs, for every C element, exactly these operations in this order, so
/// within one arithmetic mode they give bitwise identical results and the variant can be chosen per
/// machine without changing any number.
///
/// Per step of k a kernel loads its B vectors once, broadcasts each of the 6 A values once, and issues
/// 6 x (width / lanes) multiply-adds. The register blocks, for the vector registers a build has (Swift
/// cannot test target features with `#if`, so `GemmMicrokernel.selected` times them):
/// - `wide`: 6 x 64, 24 `SIMD16<Float>` sums + 4 B vectors + 1 broadcast = 29 of the 32 zmm registers of
///   AVX-512 (10 loads per 24 FMAs). (A 12 x 32 block, 2 B vectors and 12 broadcasts per step, was 1.2x
///   faster in L1 on an Ice Lake Xeon but 15% slower in whole products: not kept.)
/// - `medium`: 6 x 16, 12 `SIMD8<Float>` sums + 2 B + 1 broadcast = 15 of the 16 ymm registers of AVX2 (8
///   loads per 12 FMAs). On ARM NEON a `SIMD8` is two q registers, so this is a 6 x 16 block of `SIMD4`:
///   24 sums + 4 B + 1 = 29 of NEON's 32 q registers (not measured here: no ARM machine);
/// - `narrow`: 6 x 8, 12 `SIMD4<Float>` sums + 2 + 1 = 15 of the 16 xmm registers of baseline SSE2.
/// A wider block than the registers spills accumulators to the stack every step (`wide` on AVX2 needs
/// 48 ymm), which the selection by timing avoids.
enum GemmMicrokernel: Int, CaseIterable, Sendable {
    case wide, medium, narrow

    /// Rows of C per tile (values per step in a packed A micro-panel).
    static let rows = 6

    /// Columns of C per tile (values per step in a packed B micro-panel).
    var width: Int {
        switch self {
        case .wide: return 64
        case .medium: return 16
        case .narrow: return 8
        }
    }

    /// Steps of k per block (KC), the same for every kernel: the k blocks decide the summation order (each
    /// block's sums are added to C), so a per-kernel depth would make the kernels disagree in the last bits.
    /// A B micro-panel (`depthBlock` x `width`) is reused across a whole row block of A panels: for `medium`
    /// and `narrow` it stays in a 32 KB L1 (16 KB, 8 KB); for `wide` (64 KB) in L2, which feeds the 4 loads
    /// per 24 FMAs fast enough (on an Ice Lake Xeon KC from 128 to 768 made no measurable difference for
    /// `wide`). Each k block re-reads and re-writes the C tiles, so it is not smaller.
    static let depthBlock = 256

    /// How many k blocks a product of depth `k` takes: blocks of (nearly) equal size, at most `depthBlock`
    /// each, so there is no tiny last block.
    static func depthBlockCount(_ k: Int) -> Int { (k + depthBlock - 1) / depthBlock }

    /// The steps of k block `block` of `count` (`depthBlockCount(k)`).
    static func depthRange(_ block: Int, of count: Int, k: Int) -> Range<Int> {
        k * block / count..<k * (block + 1) / count
    }

    /// Rows of A per row block (MC): the packed row block (`rowBlock` x `depthBlock`: 192 KB, 144 KB, 96 KB)
    /// stays in L2 (at least 256 KB on AVX2 machines, 1 MB and more on AVX-512 ones) while every B
    /// micro-panel passes over it. A multiple of 6.
    var rowBlock: Int {
        switch self {
        case .wide: return 192
        case .medium: return 144
        case .narrow: return 96
        }
    }

    /// Runs the kernel on a full 6 x `width` tile of C.
    @inline(__always)
    func run(
        kc: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
        c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float, beta: Float, arithmetic: GemmArithmetic
    ) {
        typealias F = GemmFusedMultiplyAdd
        typealias S = GemmSeparateMultiplyAdd
        switch (self, arithmetic) {
        case (.wide, .fused): Self.kernel6x64(F.self, kc: kc, a: a, b: b, c: c, ldc: ldc, alpha: alpha, beta: beta)
        case (.wide, .separate): Self.kernel6x64(S.self, kc: kc, a: a, b: b, c: c, ldc: ldc, alpha: alpha, beta: beta)
        case (.medium, .fused): Self.kernel6x16(F.self, kc: kc, a: a, b: b, c: c, ldc: ldc, alpha: alpha, beta: beta)
        case (.medium, .separate): Self.kernel6x16(S.self, kc: kc, a: a, b: b, c: c, ldc: ldc, alpha: alpha, beta: beta)
        case (.narrow, .fused): Self.kernel6x8(F.self, kc: kc, a: a, b: b, c: c, ldc: ldc, alpha: alpha, beta: beta)
        case (.narrow, .separate): Self.kernel6x8(S.self, kc: kc, a: a, b: b, c: c, ldc: ldc, alpha: alpha, beta: beta)
        }
    }

    /// Runs the kernel on the top-left `mr` x `nr` part of a tile (C edges), through a scratch tile.
    /// Partial panels are packed zero-padded, so the kernel itself always computes the full tile.
    func runPartial(
        kc: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, mr: Int, nr: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float, beta: Float, arithmetic: GemmArithmetic
    ) {
        let width = self.width
        withUnsafeTemporaryAllocation(of: Float.self, capacity: GemmMicrokernel.rows * 64) { scratch in
            let tile = scratch.baseAddress!
            run(kc: kc, a: a, b: b, c: tile, ldc: width, alpha: 1, beta: 0, arithmetic: arithmetic)
            for i in 0..<mr {
                let crow = c + i * ldc
                let trow = tile + i * width
                if beta == 0 {
                    for j in 0..<nr { crow[j] = alpha * trow[j] }
                } else {
                    for j in 0..<nr { crow[j] = beta * crow[j] + alpha * trow[j] }
                }
            }
        }
    }

    // MARK: - Combining sums into C

    @inline(__always)
    static func combine<V: SIMD>(_ sum: V, into c: UnsafeMutablePointer<Float>, alpha: V, beta: V, betaIsZero: Bool)
    where V.Scalar == Float {
        let raw = UnsafeMutableRawPointer(c)
        if betaIsZero {
            raw.storeBytes(of: alpha * sum, as: V.self)
        } else {
            let old = UnsafeRawPointer(c).loadUnaligned(as: V.self)
            raw.storeBytes(of: beta * old + alpha * sum, as: V.self)
        }
    }

    @inline(__always)
    static func load<V: SIMD>(_ p: UnsafePointer<Float>, _ offset: Int, as: V.Type) -> V where V.Scalar == Float {
        UnsafeRawPointer(p + offset).load(as: V.self)
    }

    // MARK: - 6 x 64 with SIMD16 (AVX-512)

    @inline(never)
    static func kernel6x64<M: GemmMultiplyAdd>(
        _: M.Type, kc: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
        c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float, beta: Float
    ) {
        typealias V = SIMD16<Float>
        var c00 = V()
        var c01 = V()
        var c02 = V()
        var c03 = V()
        var c10 = V()
        var c11 = V()
        var c12 = V()
        var c13 = V()
        var c20 = V()
        var c21 = V()
        var c22 = V()
        var c23 = V()
        var c30 = V()
        var c31 = V()
        var c32 = V()
        var c33 = V()
        var c40 = V()
        var c41 = V()
        var c42 = V()
        var c43 = V()
        var c50 = V()
        var c51 = V()
        var c52 = V()
        var c53 = V()
        var ap = a
        var bp = b
        for _ in 0..<kc {
            let b0 = load(bp, 0, as: V.self)
            let b1 = load(bp, 16, as: V.self)
            let b2 = load(bp, 32, as: V.self)
            let b3 = load(bp, 48, as: V.self)
            var av = V(repeating: ap[0])
            c00 = M.multiplyAdd(c00, av, b0)
            c01 = M.multiplyAdd(c01, av, b1)
            c02 = M.multiplyAdd(c02, av, b2)
            c03 = M.multiplyAdd(c03, av, b3)
            av = V(repeating: ap[1])
            c10 = M.multiplyAdd(c10, av, b0)
            c11 = M.multiplyAdd(c11, av, b1)
            c12 = M.multiplyAdd(c12, av, b2)
            c13 = M.multiplyAdd(c13, av, b3)
            av = V(repeating: ap[2])
            c20 = M.multiplyAdd(c20, av, b0)
            c21 = M.multiplyAdd(c21, av, b1)
            c22 = M.multiplyAdd(c22, av, b2)
            c23 = M.multiplyAdd(c23, av, b3)
            av = V(repeating: ap[3])
            c30 = M.multiplyAdd(c30, av, b0)
            c31 = M.multiplyAdd(c31, av, b1)
            c32 = M.multiplyAdd(c32, av, b2)
            c33 = M.multiplyAdd(c33, av, b3)
            av = V(repeating: ap[4])
            c40 = M.multiplyAdd(c40, av, b0)
            c41 = M.multiplyAdd(c41, av, b1)
            c42 = M.multiplyAdd(c42, av, b2)
            c43 = M.multiplyAdd(c43, av, b3)
            av = V(repeating: ap[5])
            c50 = M.multiplyAdd(c50, av, b0)
            c51 = M.multiplyAdd(c51, av, b1)
            c52 = M.multiplyAdd(c52, av, b2)
            c53 = M.multiplyAdd(c53, av, b3)
            ap += 6
            bp += 64
        }
        let va = V(repeating: alpha)
        let vb = V(repeating: beta)
        let zero = beta == 0
        var row = c
        combine(c00, into: row, alpha: va, beta: vb, betaIsZero: zero)
        combine(c01, into: row + 16, alpha: va, beta: vb, betaIsZero: zero)
        combine(c02, into: row + 32, alpha: va, beta: vb, betaIsZero: zero)
        combine(c03, into: row + 48, alpha: va, beta: vb, betaIsZero: zero)
        row += ldc
        combine(c10, into: row, alpha: va, beta: vb, betaIsZero: zero)
        combine(c11, into: row + 16, alpha: va, beta: vb, betaIsZero: zero)
        combine(c12, into: row + 32, alpha: va, beta: vb, betaIsZero: zero)
        combine(c13, into: row + 48, alpha: va, beta: vb, betaIsZero: zero)
        row += ldc
        combine(c20, into: row, alpha: va, beta: vb, betaIsZero: zero)
        combine(c21, into: row + 16, alpha: va, beta: vb, betaIsZero: zero)
        combine(c22, into: row + 32, alpha: va, beta: vb, betaIsZero: zero)
        combine(c23, into: row + 48, alpha: va, beta: vb, betaIsZero: zero)
        row += ldc
        combine(c30, into: row, alpha: va, beta: vb, betaIsZero: zero)
        combine(c31, into: row + 16, alpha: va, beta: vb, betaIsZero: zero)
        combine(c32, into: row + 32, alpha: va, beta: vb, betaIsZero: zero)
        combine(c33, into: row + 48, alpha: va, beta: vb, betaIsZero: zero)
        row += ldc
        combine(c40, into: row, alpha: va, beta: vb, betaIsZero: zero)
        combine(c41, into: row + 16, alpha: va, beta: vb, betaIsZero: zero)
        combine(c42, into: row + 32, alpha: va, beta: vb, betaIsZero: zero)
        combine(c43, into: row + 48, alpha: va, beta: vb, betaIsZero: zero)
        row += ldc
        combine(c50, into: row, alpha: va, beta: vb, betaIsZero: zero)
        combine(c51, into: row + 16, alpha: va, beta: vb, betaIsZero: zero)
        combine(c52, into: row + 32, alpha: va, beta: vb, betaIsZero: zero)
        combine(c53, into: row + 48, alpha: va, beta: vb, betaIsZero: zero)
    }

    // MARK: - 6 x (2 vectors): SIMD8 (AVX2) and SIMD4 (SSE2)

    @inline(never)
    static func kernel6x16<M: GemmMultiplyAdd>(
        _: M.Type, kc: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
        c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float, beta: Float
    ) {
        kernel6xTwoVectors(M.self, SIMD8<Float>.self, kc: kc, a: a, b: b, c: c, ldc: ldc, alpha: alpha, beta: beta)
    }

    @inline(never)
    static func kernel6x8<M: GemmMultiplyAdd>(
        _: M.Type, kc: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
        c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float, beta: Float
    ) {
        kernel6xTwoVectors(M.self, SIMD4<Float>.self, kc: kc, a: a, b: b, c: c, ldc: ldc, alpha: alpha, beta: beta)
    }

    @inline(__always)
    static func kernel6xTwoVectors<M: GemmMultiplyAdd, V: SIMD>(
        _: M.Type, _: V.Type, kc: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
        c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float, beta: Float
    ) where V.Scalar == Float {
        let w = V.scalarCount
        var c00 = V()
        var c01 = V()
        var c10 = V()
        var c11 = V()
        var c20 = V()
        var c21 = V()
        var c30 = V()
        var c31 = V()
        var c40 = V()
        var c41 = V()
        var c50 = V()
        var c51 = V()
        var ap = a
        var bp = b
        for _ in 0..<kc {
            let b0 = load(bp, 0, as: V.self)
            let b1 = load(bp, w, as: V.self)
            var av = V(repeating: ap[0])
            c00 = M.multiplyAdd(c00, av, b0)
            c01 = M.multiplyAdd(c01, av, b1)
            av = V(repeating: ap[1])
            c10 = M.multiplyAdd(c10, av, b0)
            c11 = M.multiplyAdd(c11, av, b1)
            av = V(repeating: ap[2])
            c20 = M.multiplyAdd(c20, av, b0)
            c21 = M.multiplyAdd(c21, av, b1)
            av = V(repeating: ap[3])
            c30 = M.multiplyAdd(c30, av, b0)
            c31 = M.multiplyAdd(c31, av, b1)
            av = V(repeating: ap[4])
            c40 = M.multiplyAdd(c40, av, b0)
            c41 = M.multiplyAdd(c41, av, b1)
            av = V(repeating: ap[5])
            c50 = M.multiplyAdd(c50, av, b0)
            c51 = M.multiplyAdd(c51, av, b1)
            ap += 6
            bp += 2 * w
        }
        let va = V(repeating: alpha)
        let vb = V(repeating: beta)
        let zero = beta == 0
        var row = c
        combine(c00, into: row, alpha: va, beta: vb, betaIsZero: zero)
        combine(c01, into: row + w, alpha: va, beta: vb, betaIsZero: zero)
        row += ldc
        combine(c10, into: row, alpha: va, beta: vb, betaIsZero: zero)
        combine(c11, into: row + w, alpha: va, beta: vb, betaIsZero: zero)
        row += ldc
        combine(c20, into: row, alpha: va, beta: vb, betaIsZero: zero)
        combine(c21, into: row + w, alpha: va, beta: vb, betaIsZero: zero)
        row += ldc
        combine(c30, into: row, alpha: va, beta: vb, betaIsZero: zero)
        combine(c31, into: row + w, alpha: va, beta: vb, betaIsZero: zero)
        row += ldc
        combine(c40, into: row, alpha: va, beta: vb, betaIsZero: zero)
        combine(c41, into: row + w, alpha: va, beta: vb, betaIsZero: zero)
        row += ldc
        combine(c50, into: row, alpha: va, beta: vb, betaIsZero: zero)
        combine(c51, into: row + w, alpha: va, beta: vb, betaIsZero: zero)
    }
}
