/// Float transcendental functions written so that loops over them vectorize.
///
/// A libm call (`Foundation.exp`) in a loop stays a scalar call per element; these use only adds,
/// multiplies, divides, compares-and-selects and integer bit operations, so the compiler turns a loop
/// over a pointer into SIMD code (4 lanes on baseline x86-64, 16 with AVX-512). Accuracy is a few ulp:
/// `exp` and `sigmoid` relative error below 1e-6, `tanh` below 1e-6 relative (or 1e-7 absolute),
/// `erf` absolute error below 5e-7. No `Int(Float)` conversions (which trap on NaN): NaN in gives NaN out.
public enum FastMath {
    /// e^x. Overflows to +inf above 88.72 and flushes to 0 below -87.3, like float32 `expf` (up to denormals).
    @inline(__always)
    public static func exp(_ x: Float) -> Float {
        // Range reduction x = n ln2 + r, |r| <= ln2 / 2, then a Cephes degree-6 polynomial for e^r.
        let xc = x > 88.0 ? 88.0 : (x < -87.0 ? -87.0 : x)
        // Round x / ln2 to the nearest integer with the 1.5 * 2^23 trick (no rounding instruction needed):
        // the low mantissa bits of `shifted` then hold n as a two's-complement integer.
        let shifted = xc * 1.442_695_04 + 12_582_912.0
        let n = shifted - 12_582_912.0
        let r = (xc - n * 0.693_359_375) + n * 2.121_944_4e-4
        var p: Float = 1.987_569_15e-4
        p = p * r + 1.398_199_95e-3
        p = p * r + 8.333_451_9e-3
        p = p * r + 4.166_579_59e-2
        p = p * r + 1.666_666_55e-1
        p = p * r + 5.000_000_1e-1
        let er = (p * r) * r + r + 1
        let nBits = shifted.bitPattern &- 0x4B40_0000  // n, as wrapped UInt32
        let scale = Float(bitPattern: (nBits &+ 127) << 23)
        var result = er * scale
        result = x > 88.722_83 ? Float.infinity : result
        result = x < -87.336_54 ? 0 : result
        return x != x ? x : result
    }

    /// 1 / (1 + e^-x), accurate in relative terms on both tails.
    @inline(__always)
    public static func sigmoid(_ x: Float) -> Float { 1 / (1 + exp(-x)) }

    /// The hyperbolic tangent: a Cephes odd polynomial near 0, `1 - 2 / (e^2|x| + 1)` elsewhere.
    @inline(__always)
    public static func tanh(_ x: Float) -> Float {
        let ax = x < 0 ? -x : x
        let z = x * x
        var p: Float = -5.704_988_72e-3
        p = p * z + 2.063_908_88e-2
        p = p * z - 5.373_971_56e-2
        p = p * z + 1.333_144_22e-1
        p = p * z - 3.333_328_19e-1
        let small = p * z * x + x
        let e = exp(2 * ax)
        let magnitude = 1 - 2 / (e + 1)
        let large = x < 0 ? -magnitude : magnitude
        return ax < 0.625 ? small : large
    }

    /// The error function, Abramowitz & Stegun 7.1.26 (the form PyTorch's vectorized CPU `erf` uses).
    @inline(__always)
    public static func erf(_ x: Float) -> Float {
        let ax = x < 0 ? -x : x
        let t = 1 / (1 + 0.327_591_1 * ax)
        var p: Float = 1.061_405_429
        p = p * t - 1.453_152_027
        p = p * t + 1.421_413_741
        p = p * t - 0.284_496_736
        p = p * t + 0.254_829_592
        let magnitude = 1 - p * t * exp(-ax * ax)
        return x < 0 ? -magnitude : magnitude
    }
}
