import Foundation

/// How every `Gemm` kernel of this process forms a multiply-add `c + a * b`: one fused, singly rounded
/// operation (`fused`, an FMA instruction) or a multiply then an add, each rounded (`separate`).
///
/// Swift never fuses `c + a * b` on its own. `SIMD.addingProduct` lowers to `llvm.fma`, which is one
/// `vfmadd` instruction when the build target has FMA (`-target-cpu native` or `haswell` on x86, every
/// ARM64 target), but a per-lane call of libm's software `fmaf` on the baseline x86-64 build (a plain
/// `swift build -c release`, which is also what `swift test` and CI build): about 100x slower. Swift has no
/// `#if` for target features, so `active` decides once per process by timing (`hasFastFusedMultiplyAdd`):
/// fused kernels when FMA is an instruction, separate multiply and add otherwise.
///
/// Every kernel of one mode performs, for every C element, the same operations in the same order, so all
/// microkernels and thread counts give the same bits within a mode. An AVX-512 and an AVX2 build (both
/// fused) give the same bits as each other; the baseline build (separate) gives different, equally
/// accurate bits. `SKILLTUNE_GEMM_FMA=1|0` forces the mode (for measurements and tests).
public enum GemmArithmetic: String, Sendable, CaseIterable {
    /// c = fma(a, b, c): one rounding per step.
    case fused
    /// c = c + (a * b): the product rounded, then the sum.
    case separate

    /// The mode of every `Gemm` kernel in this process.
    public static let active: GemmArithmetic = {
        switch ProcessInfo.processInfo.environment["SKILLTUNE_GEMM_FMA"] {
        case "1": return .fused
        case "0": return .separate
        default: return hasFastFusedMultiplyAdd() ? .fused : .separate
        }
    }()

    /// Whether `addingProduct` runs as a hardware instruction in this build: times a few thousand fused
    /// multiply-adds against the same number of multiplies and adds (dependent chains, so both are bound by
    /// latency: an FMA instruction takes about as long as a multiply, a libm call ten times more). Best of
    /// several tries of thread CPU time, so preemption cannot decide; takes about 10 microseconds with FMA, a
    /// few milliseconds without.
    static func hasFastFusedMultiplyAdd() -> Bool {
        var fused = UInt64.max
        var separate = UInt64.max
        for _ in 0..<5 {
            fused = min(fused, chainNanoseconds(GemmFusedMultiplyAdd.self))
            separate = min(separate, chainNanoseconds(GemmSeparateMultiplyAdd.self))
        }
        return fused < 2 * separate
    }

    @inline(never)
    private static func chainNanoseconds<M: GemmMultiplyAdd>(_: M.Type) -> UInt64 {
        typealias V = SIMD8<Float>
        let x = V(repeating: 0.999)
        let y = V(repeating: 1e-3)
        var c0 = V(repeating: 1)
        var c1 = V(repeating: 2)
        var c2 = V(repeating: 3)
        var c3 = V(repeating: 4)
        let start = Gemm.threadNanoseconds()
        for _ in 0..<512 {
            c0 = M.multiplyAdd(y, c0, x)
            c1 = M.multiplyAdd(y, c1, x)
            c2 = M.multiplyAdd(y, c2, x)
            c3 = M.multiplyAdd(y, c3, x)
        }
        let elapsed = Gemm.threadNanoseconds() - start
        // Use the sums, so the loop cannot be removed.
        if (c0 + c1 + c2 + c3).sum() == .infinity { return 0 }
        return elapsed
    }
}

/// One arithmetic mode's multiply-add, `c + a * b` (see `GemmArithmetic`). Kernels are generic over it and
/// specialized, so the choice costs nothing inside a loop.
protocol GemmMultiplyAdd {
    static func multiplyAdd<V: SIMD>(_ c: V, _ a: V, _ b: V) -> V where V.Scalar == Float
    static func multiplyAdd(_ c: Float, _ a: Float, _ b: Float) -> Float
}

/// `fma(a, b, c)`: `vfmadd` on targets with FMA.
enum GemmFusedMultiplyAdd: GemmMultiplyAdd {
    @inline(__always)
    static func multiplyAdd<V: SIMD>(_ c: V, _ a: V, _ b: V) -> V where V.Scalar == Float { c.addingProduct(a, b) }
    @inline(__always)
    static func multiplyAdd(_ c: Float, _ a: Float, _ b: Float) -> Float { c.addingProduct(a, b) }
}

/// `c + (a * b)`, two roundings: fast on every target.
enum GemmSeparateMultiplyAdd: GemmMultiplyAdd {
    @inline(__always)
    static func multiplyAdd<V: SIMD>(_ c: V, _ a: V, _ b: V) -> V where V.Scalar == Float { c + a * b }
    @inline(__always)
    static func multiplyAdd(_ c: Float, _ a: Float, _ b: Float) -> Float { c + a * b }
}
