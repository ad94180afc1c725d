import Foundation

/// Elementwise math functions of one tensor: `exp`, `log`, `sqrt`, `rsqrt`, `square`, `pow`, `abs`,
/// `clamp`. Each is one fused pass forward and one backward; `exp` is the vectorizable `FastMath.exp`.
///
/// These are free functions (`exp(x)`, like `relu(x)`), not `Tensor` methods: a method named `sqrt` or
/// `exp` would hide the Float functions of the same name inside every `extension Tensor`, while free
/// functions simply overload them by argument type.

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

/// e^x elementwise (`FastMath.exp`: a few ulp, +inf above 88.72, 0 below -87.3).
public func exp(_ x: Tensor) -> Tensor { mapElements(x, ExpKernel(), op: "exp") }

/// The natural logarithm elementwise (-inf at 0, NaN for negative values).
public func log(_ x: Tensor) -> Tensor { mapElements(x, LogKernel(), op: "log") }

/// The square root elementwise.
public func sqrt(_ x: Tensor) -> Tensor { mapElements(x, SquareRootKernel(), op: "sqrt") }

/// 1 / sqrt(x) elementwise.
public func rsqrt(_ x: Tensor) -> Tensor { mapElements(x, ReciprocalSquareRootKernel(), op: "rsqrt") }

/// x * x elementwise.
public func square(_ x: Tensor) -> Tensor { mapElements(x, SquareKernel(), op: "square") }

/// x^exponent elementwise. Common exponents (1, 2, 0.5, -0.5, -1) take exact fast paths;
/// others call `pow` (NaN for a negative base with a non-integer exponent).
public func pow(_ x: Tensor, _ exponent: Float) -> Tensor {
    switch exponent {
    case 1: return x * 1
    case 2: return square(x)
    case 0.5: return sqrt(x)
    case -0.5: return rsqrt(x)
    case -1: return 1 / x
    default: return mapElements(x, PowerKernel(exponent: exponent), op: "pow")
    }
}

/// |x| elementwise; its gradient is the sign of x (0 at 0).
public func abs(_ x: Tensor) -> Tensor { mapElements(x, AbsoluteValueKernel(), op: "abs") }

/// x limited to [min, max] elementwise; the gradient passes where min <= x <= max.
public func clamp(_ x: Tensor, min lower: Float = -.infinity, max upper: Float = .infinity) -> Tensor {
    precondition(lower <= upper, "clamp: min \(lower) > max \(upper)")
    return mapElements(x, ClampKernel(lower: lower, upper: upper), op: "clamp")
}
