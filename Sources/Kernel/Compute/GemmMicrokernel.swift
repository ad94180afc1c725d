/// Where a microkernel reads its 6 rows of opA: value (row r, step p) is at `start[r * rowStride +
/// p * stepStride]`. A packed panel has strides (1, 6); an untransposed A is read in place with (lda, 1).
struct GemmPanelA {
    var start: UnsafePointer<Float>
    var rowStride: Int
    var stepStride: Int
}

/// The register-blocked inner kernels of `Gemm.sgemm`.
///
/// A microkernel multiplies one A micro-panel (`kc` steps of `GemmMicrokernel.rows` = 6 values, one
/// per row; see `GemmPanelA`) by one packed B micro-panel (`kc` steps of `width` values, one per
/// column), keeping the whole 6 x `width` tile of sums in registers, then combines the sums into C:
///
///     C[i, j] = alpha * sum[i, j] + beta * C[i, j]     (beta == 0: C[i, j] = alpha * sum[i, j])
///
/// Every variant performs, for every C element, exactly the same float operations in the same order
/// (sum = 0; sum = sum + a * b for each step; then the combine above), so they give bitwise identical
/// results and the variant can be chosen per machine without changing any number.
///
/// Three register blocks exist because the best one depends on the vector registers the code was
/// compiled for, which Swift cannot test with `#if`:
/// - `wide`: 6 x 64, 24 `SIMD16<Float>` sums (24 of the 32 zmm registers with `-target-cpu native` on AVX-512);
/// - `medium`: 6 x 16, 12 `SIMD8<Float>` sums (AVX2 builds: 16 ymm registers);
/// - `narrow`: 6 x 8, 12 `SIMD4<Float>` sums (the baseline SSE2 build: 16 xmm registers).
/// `GemmMicrokernel.selected` picks one once per process by timing them (see there).
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

    /// Runs the kernel on a full 6 x `width` tile of C.
    @inline(__always)
    func run(kc: Int, a: GemmPanelA, b: UnsafePointer<Float>,
             c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float, beta: Float) {
        switch self {
        case .wide: GemmMicrokernel.kernel6x64(kc: kc, a: a, b: b, c: c, ldc: ldc, alpha: alpha, beta: beta)
        case .medium: GemmMicrokernel.kernel6x16(kc: kc, a: a, b: b, c: c, ldc: ldc, alpha: alpha, beta: beta)
        case .narrow: GemmMicrokernel.kernel6x8(kc: kc, a: a, b: b, c: c, ldc: ldc, alpha: alpha, beta: beta)
        }
    }

    /// Runs the kernel on the top-left `mr` x `nr` part of a tile (C edges), through a scratch tile.
    /// Partial panels are packed zero-padded, so the kernel itself always computes the full tile.
    func runPartial(kc: Int, a: GemmPanelA, b: UnsafePointer<Float>, mr: Int, nr: Int,
                    c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float, beta: Float) {
        let width = self.width
        withUnsafeTemporaryAllocation(of: Float.self, capacity: GemmMicrokernel.rows * 64) { scratch in
            let tile = scratch.baseAddress!
            run(kc: kc, a: a, b: b, c: tile, ldc: width, alpha: 1, beta: 0)
            for i in 0..<mr {
                let crow = c + i * ldc, trow = tile + i * width
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
    static func kernel6x64(kc: Int, a: GemmPanelA, b: UnsafePointer<Float>,
                           c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float, beta: Float) {
        typealias V = SIMD16<Float>
        var c00 = V(), c01 = V(), c02 = V(), c03 = V()
        var c10 = V(), c11 = V(), c12 = V(), c13 = V()
        var c20 = V(), c21 = V(), c22 = V(), c23 = V()
        var c30 = V(), c31 = V(), c32 = V(), c33 = V()
        var c40 = V(), c41 = V(), c42 = V(), c43 = V()
        var c50 = V(), c51 = V(), c52 = V(), c53 = V()
        // Six row pointers and one shared offset: the addresses do not form a chain of dependent adds.
        let a0 = a.start, a1 = a0 + a.rowStride, a2 = a1 + a.rowStride
        let a3 = a2 + a.rowStride, a4 = a3 + a.rowStride, a5 = a4 + a.rowStride, step = a.stepStride
        var offset = 0, bp = b
        for _ in 0..<kc {
            let b0 = load(bp, 0, as: V.self), b1 = load(bp, 16, as: V.self)
            let b2 = load(bp, 32, as: V.self), b3 = load(bp, 48, as: V.self)
            var av = V(repeating: a0[offset])
            c00 = c00 + av * b0; c01 = c01 + av * b1; c02 = c02 + av * b2; c03 = c03 + av * b3
            av = V(repeating: a1[offset])
            c10 = c10 + av * b0; c11 = c11 + av * b1; c12 = c12 + av * b2; c13 = c13 + av * b3
            av = V(repeating: a2[offset])
            c20 = c20 + av * b0; c21 = c21 + av * b1; c22 = c22 + av * b2; c23 = c23 + av * b3
            av = V(repeating: a3[offset])
            c30 = c30 + av * b0; c31 = c31 + av * b1; c32 = c32 + av * b2; c33 = c33 + av * b3
            av = V(repeating: a4[offset])
            c40 = c40 + av * b0; c41 = c41 + av * b1; c42 = c42 + av * b2; c43 = c43 + av * b3
            av = V(repeating: a5[offset])
            c50 = c50 + av * b0; c51 = c51 + av * b1; c52 = c52 + av * b2; c53 = c53 + av * b3
            offset += step; bp += 64
        }
        let va = V(repeating: alpha), vb = V(repeating: beta), zero = beta == 0
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
    static func kernel6x16(kc: Int, a: GemmPanelA, b: UnsafePointer<Float>,
                           c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float, beta: Float) {
        kernel6xTwoVectors(SIMD8<Float>.self, kc: kc, a: a, b: b, c: c, ldc: ldc, alpha: alpha, beta: beta)
    }

    @inline(never)
    static func kernel6x8(kc: Int, a: GemmPanelA, b: UnsafePointer<Float>,
                          c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float, beta: Float) {
        kernel6xTwoVectors(SIMD4<Float>.self, kc: kc, a: a, b: b, c: c, ldc: ldc, alpha: alpha, beta: beta)
    }

    @inline(__always)
    static func kernel6xTwoVectors<V: SIMD>(
        _: V.Type, kc: Int, a: GemmPanelA, b: UnsafePointer<Float>,
        c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float, beta: Float
    ) where V.Scalar == Float {
        let w = V.scalarCount
        var c00 = V(), c01 = V(), c10 = V(), c11 = V(), c20 = V(), c21 = V()
        var c30 = V(), c31 = V(), c40 = V(), c41 = V(), c50 = V(), c51 = V()
        // Six row pointers and one shared offset: the addresses do not form a chain of dependent adds.
        let a0 = a.start, a1 = a0 + a.rowStride, a2 = a1 + a.rowStride
        let a3 = a2 + a.rowStride, a4 = a3 + a.rowStride, a5 = a4 + a.rowStride, step = a.stepStride
        var offset = 0, bp = b
        for _ in 0..<kc {
            let b0 = load(bp, 0, as: V.self), b1 = load(bp, w, as: V.self)
            var av = V(repeating: a0[offset])
            c00 = c00 + av * b0; c01 = c01 + av * b1
            av = V(repeating: a1[offset])
            c10 = c10 + av * b0; c11 = c11 + av * b1
            av = V(repeating: a2[offset])
            c20 = c20 + av * b0; c21 = c21 + av * b1
            av = V(repeating: a3[offset])
            c30 = c30 + av * b0; c31 = c31 + av * b1
            av = V(repeating: a4[offset])
            c40 = c40 + av * b0; c41 = c41 + av * b1
            av = V(repeating: a5[offset])
            c50 = c50 + av * b0; c51 = c51 + av * b1
            offset += step; bp += 2 * w
        }
        let va = V(repeating: alpha), vb = V(repeating: beta), zero = beta == 0
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
