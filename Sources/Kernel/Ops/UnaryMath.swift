import Foundation

/// Elementwise math functions of one tensor: `exp`, `log`, `sqrt`, `rsqrt`, `square`, `pow`, `abs`,
/// `clamped`. Each is one fused pass forward and one backward; `exp` is the vectorizable `FastMath.exp`.

struct ExpKernel: UnaryElementKernel {
    static var derivativeNeedsOutput: Bool { true }
    @inline(__always) func value(_ x: Float) -> Float { FastMath.exp(x) }
    @inline(__always) func derivative(_ x: Float, _ y: Float) -> Float { y }
}

struct LogKernel: UnaryElementKernel {
    @inline(__always) func value(_ x: Float) -> Float { Foundation.log(x) }
    @inline(__always) func derivative(_ x: Float, _ y: Float) -> Float { 1 / x }
}

struct SquareRootKernel: UnaryElementKernel {
    static var derivativeNeedsOutput: Bool { true }
    @inline(__always) func value(_ x: Float) -> Float { x.squareRoot() }
    @inline(__always) func derivative(_ x: Float, _ y: Float) -> Float { 0.5 / y }
}

struct ReciprocalSquareRootKernel: UnaryElementKernel {
    static var derivativeNeedsOutput: Bool { true }
    @inline(__always) func value(_ x: Float) -> Float { 1 / x.squareRoot() }
    @inline(__always) func derivative(_ x: Float, _ y: Float) -> Float { -0.5 * y / x }
}

struct SquareKernel: UnaryElementKernel {
    @inline(__always) func value(_ x: Float) -> Float { x * x }
    @inline(__always) func derivative(_ x: Float, _ y: Float) -> Float { 2 * x }
}

struct PowerKernel: UnaryElementKernel {
    let exponent: Float
    @inline(__always) func value(_ x: Float) -> Float { Foundation.pow(x, exponent) }
    @inline(__always) func derivative(_ x: Float, _ y: Float) -> Float { exponent * Foundation.pow(x, exponent - 1) }
}

struct AbsoluteValueKernel: UnaryElementKernel {
    @inline(__always) func value(_ x: Float) -> Float { x < 0 ? -x : x }
    /// The sign, 0 at 0 (as PyTorch).
    @inline(__always) func derivative(_ x: Float, _ y: Float) -> Float { x > 0 ? 1 : (x < 0 ? -1 : 0) }
}

struct ClampKernel: UnaryElementKernel {
    let lower: Float, upper: Float
    @inline(__always) func value(_ x: Float) -> Float { x < lower ? lower : (x > upper ? upper : x) }
    /// 1 inside [lower, upper] (bounds included, as PyTorch), 0 outside.
    @inline(__always) func derivative(_ x: Float, _ y: Float) -> Float { x >= lower && x <= upper ? 1 : 0 }
}

extension Tensor {
    /// e^x elementwise (`FastMath.exp`: a few ulp, +inf above 88.72, 0 below -87.3).
    public func exp() -> Tensor { mapElements(self, ExpKernel(), op: "exp") }

    /// The natural logarithm elementwise (-inf at 0, NaN for negative values).
    public func log() -> Tensor { mapElements(self, LogKernel(), op: "log") }

    /// The square root elementwise.
    public func sqrt() -> Tensor { mapElements(self, SquareRootKernel(), op: "sqrt") }

    /// 1 / sqrt(x) elementwise.
    public func rsqrt() -> Tensor { mapElements(self, ReciprocalSquareRootKernel(), op: "rsqrt") }

    /// x * x elementwise.
    public func square() -> Tensor { mapElements(self, SquareKernel(), op: "square") }

    /// x^exponent elementwise. Common exponents (1, 2, 0.5, -0.5, -1) take exact fast paths;
    /// others call `pow` (NaN for a negative base with a non-integer exponent).
    public func pow(_ exponent: Float) -> Tensor {
        switch exponent {
        case 1: return self * 1
        case 2: return square()
        case 0.5: return sqrt()
        case -0.5: return rsqrt()
        case -1: return 1 / self
        default: return mapElements(self, PowerKernel(exponent: exponent), op: "pow")
        }
    }

    /// |x| elementwise; its gradient is the sign of x (0 at 0).
    public func abs() -> Tensor { mapElements(self, AbsoluteValueKernel(), op: "abs") }

    /// x limited to [min, max] elementwise; the gradient passes where min <= x <= max.
    public func clamped(min lower: Float = -.infinity, max upper: Float = .infinity) -> Tensor {
        precondition(lower <= upper, "clamped: min \(lower) > max \(upper)")
        return mapElements(self, ClampKernel(lower: lower, upper: upper), op: "clamp")
    }
}
