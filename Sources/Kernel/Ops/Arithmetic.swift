/// `+ - * /` between tensors (NumPy broadcasting) and with `Float` scalars on either side, and unary minus.
///
///     let y = x * scale + bias        // x [B, T, D], scale and bias [D]
///     let z = 1 - gate                // scalar on the left
///
/// Backward sums each tensor's gradient over the dimensions it was broadcast along, so a bias [D] added
/// to [B, T, D] gets the gradient summed over B and T.

enum AddKernel: BinaryElementKernel {
    @inline(__always) static func value(_ a: Float, _ b: Float) -> Float { a + b }
    @inline(__always) static func gradientA(_ a: Float, _ b: Float, _ g: Float) -> Float { g }
    @inline(__always) static func gradientB(_ a: Float, _ b: Float, _ g: Float) -> Float { g }
}

enum SubtractKernel: BinaryElementKernel {
    @inline(__always) static func value(_ a: Float, _ b: Float) -> Float { a - b }
    @inline(__always) static func gradientA(_ a: Float, _ b: Float, _ g: Float) -> Float { g }
    @inline(__always) static func gradientB(_ a: Float, _ b: Float, _ g: Float) -> Float { -g }
}

enum MultiplyKernel: BinaryElementKernel {
    @inline(__always) static func value(_ a: Float, _ b: Float) -> Float { a * b }
    @inline(__always) static func gradientA(_ a: Float, _ b: Float, _ g: Float) -> Float { g * b }
    @inline(__always) static func gradientB(_ a: Float, _ b: Float, _ g: Float) -> Float { g * a }
}

enum DivideKernel: BinaryElementKernel {
    @inline(__always) static func value(_ a: Float, _ b: Float) -> Float { a / b }
    @inline(__always) static func gradientA(_ a: Float, _ b: Float, _ g: Float) -> Float { g / b }
    @inline(__always) static func gradientB(_ a: Float, _ b: Float, _ g: Float) -> Float { -g * a / (b * b) }
}

/// x + c.
struct AddScalarKernel: UnaryElementKernel {
    let c: Float
    @inline(__always) func value(_ x: Float) -> Float { x + c }
    @inline(__always) func derivative(_ x: Float, _ y: Float) -> Float { 1 }
}

/// x * c.
struct MultiplyScalarKernel: UnaryElementKernel {
    let c: Float
    @inline(__always) func value(_ x: Float) -> Float { x * c }
    @inline(__always) func derivative(_ x: Float, _ y: Float) -> Float { c }
}

/// c - x.
struct ScalarMinusKernel: UnaryElementKernel {
    let c: Float
    @inline(__always) func value(_ x: Float) -> Float { c - x }
    @inline(__always) func derivative(_ x: Float, _ y: Float) -> Float { -1 }
}

/// x / c (a true division, not a multiplication by 1/c).
struct DivideByScalarKernel: UnaryElementKernel {
    let c: Float
    @inline(__always) func value(_ x: Float) -> Float { x / c }
    @inline(__always) func derivative(_ x: Float, _ y: Float) -> Float { 1 / c }
}

/// c / x.
struct ScalarDivideKernel: UnaryElementKernel {
    let c: Float
    @inline(__always) func value(_ x: Float) -> Float { c / x }
    @inline(__always) func derivative(_ x: Float, _ y: Float) -> Float { -c / (x * x) }
}

struct NegateKernel: UnaryElementKernel {
    @inline(__always) func value(_ x: Float) -> Float { -x }
    @inline(__always) func derivative(_ x: Float, _ y: Float) -> Float { -1 }
}

extension Tensor {
    /// Elementwise sum with broadcasting.
    public static func + (lhs: Tensor, rhs: Tensor) -> Tensor { mapBroadcast(lhs, rhs, AddKernel.self, op: "add") }
    /// Elementwise difference with broadcasting.
    public static func - (lhs: Tensor, rhs: Tensor) -> Tensor {
        mapBroadcast(lhs, rhs, SubtractKernel.self, op: "subtract")
    }
    /// Elementwise product with broadcasting.
    public static func * (lhs: Tensor, rhs: Tensor) -> Tensor {
        mapBroadcast(lhs, rhs, MultiplyKernel.self, op: "multiply")
    }
    /// Elementwise quotient with broadcasting.
    public static func / (lhs: Tensor, rhs: Tensor) -> Tensor {
        mapBroadcast(lhs, rhs, DivideKernel.self, op: "divide")
    }

    /// Adds `rhs` to every element.
    public static func + (lhs: Tensor, rhs: Float) -> Tensor {
        mapElements(lhs, AddScalarKernel(c: rhs), op: "add_scalar")
    }
    /// Adds `lhs` to every element.
    public static func + (lhs: Float, rhs: Tensor) -> Tensor {
        mapElements(rhs, AddScalarKernel(c: lhs), op: "add_scalar")
    }
    /// Subtracts `rhs` from every element.
    public static func - (lhs: Tensor, rhs: Float) -> Tensor {
        mapElements(lhs, AddScalarKernel(c: -rhs), op: "subtract_scalar")
    }
    /// `lhs` minus each element.
    public static func - (lhs: Float, rhs: Tensor) -> Tensor {
        mapElements(rhs, ScalarMinusKernel(c: lhs), op: "scalar_subtract")
    }
    /// Multiplies every element by `rhs`.
    public static func * (lhs: Tensor, rhs: Float) -> Tensor {
        mapElements(lhs, MultiplyScalarKernel(c: rhs), op: "multiply_scalar")
    }
    /// Multiplies every element by `lhs`.
    public static func * (lhs: Float, rhs: Tensor) -> Tensor {
        mapElements(rhs, MultiplyScalarKernel(c: lhs), op: "multiply_scalar")
    }
    /// Divides every element by `rhs`.
    public static func / (lhs: Tensor, rhs: Float) -> Tensor {
        mapElements(lhs, DivideByScalarKernel(c: rhs), op: "divide_scalar")
    }
    /// `lhs` divided by each element.
    public static func / (lhs: Float, rhs: Tensor) -> Tensor {
        mapElements(rhs, ScalarDivideKernel(c: lhs), op: "scalar_divide")
    }

    /// The elementwise negation.
    public static prefix func - (x: Tensor) -> Tensor { mapElements(x, NegateKernel(), op: "negate") }
}
