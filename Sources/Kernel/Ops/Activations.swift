/// Activation functions: `relu`, `sigmoid`, `tanh`, `silu`, `gelu` (exact and tanh forms, as PyTorch), and
/// the fused gated unit `swiglu(gate, up) = silu(gate) * up` of Llama/Qwen MLPs.
///
/// All use the vectorizable `FastMath` functions; backward recomputes what it needs from the input, so
/// nothing but the input is kept.

struct ReLUKernel: UnaryElementKernel {
    @inline(__always) func value(_ x: Float) -> Float { x > 0 ? x : 0 }
    @inline(__always) func derivative(_ x: Float, _ y: Float) -> Float { x > 0 ? 1 : 0 }
}

struct SigmoidKernel: UnaryElementKernel {
    static var derivativeNeedsOutput: Bool { true }
    @inline(__always) func value(_ x: Float) -> Float { FastMath.sigmoid(x) }
    @inline(__always) func derivative(_ x: Float, _ y: Float) -> Float { y * (1 - y) }
}

struct TanhKernel: UnaryElementKernel {
    static var derivativeNeedsOutput: Bool { true }
    @inline(__always) func value(_ x: Float) -> Float { FastMath.tanh(x) }
    @inline(__always) func derivative(_ x: Float, _ y: Float) -> Float { 1 - y * y }
}

/// x * sigmoid(x).
struct SiLUKernel: UnaryElementKernel {
    @inline(__always) func value(_ x: Float) -> Float { x * FastMath.sigmoid(x) }
    @inline(__always) func derivative(_ x: Float, _ y: Float) -> Float {
        let s = FastMath.sigmoid(x)
        return s * (1 + x * (1 - s))
    }
}

/// 0.5 x (1 + erf(x / sqrt 2)).
struct GELUErfKernel: UnaryElementKernel {
    @inline(__always) func value(_ x: Float) -> Float { 0.5 * x * (1 + FastMath.erf(x * 0.707_106_781)) }
    @inline(__always) func derivative(_ x: Float, _ y: Float) -> Float {
        let cdf = 0.5 * (1 + FastMath.erf(x * 0.707_106_781))
        let pdf = 0.398_942_280 * FastMath.exp(-0.5 * x * x)  // exp(-x^2/2) / sqrt(2 pi)
        return cdf + x * pdf
    }
}

/// 0.5 x (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3), computed as x * sigmoid(2u) (the same function).
struct GELUTanhKernel: UnaryElementKernel {
    @inline(__always) func value(_ x: Float) -> Float {
        let u = 0.797_884_561 * (x + 0.044_715 * x * x * x)
        return x * FastMath.sigmoid(2 * u)
    }
    @inline(__always) func derivative(_ x: Float, _ y: Float) -> Float {
        let u = 0.797_884_561 * (x + 0.044_715 * x * x * x)
        let du = 0.797_884_561 * (1 + 0.134_145 * x * x)
        let s = FastMath.sigmoid(2 * u)
        return s + 2 * x * s * (1 - s) * du
    }
}

/// Which formula `gelu` uses.
public enum GELUApproximation: Sendable {
    /// The exact 0.5 x (1 + erf(x / sqrt 2)): PyTorch `gelu(x)`, BERT/ViT/CLIP `gelu`.
    case erf
    /// 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))): PyTorch `gelu(x, approximate='tanh')`, `gelu_new`.
    case tanh
    /// x sigmoid(1.702 x): CLIP's `quick_gelu`.
    case sigmoid
}

/// max(x, 0) elementwise (gradient 0 at 0).
public func relu(_ x: Tensor) -> Tensor { mapElements(x, ReLUKernel(), op: "relu") }

/// 1 / (1 + e^-x) elementwise.
public func sigmoid(_ x: Tensor) -> Tensor { mapElements(x, SigmoidKernel(), op: "sigmoid") }

/// The hyperbolic tangent elementwise.
public func tanh(_ x: Tensor) -> Tensor { mapElements(x, TanhKernel(), op: "tanh") }

/// x * sigmoid(x) elementwise (also called swish).
public func silu(_ x: Tensor) -> Tensor { mapElements(x, SiLUKernel(), op: "silu") }

/// The Gaussian error linear unit elementwise, exact (`.erf`, the default), in its tanh form, or CLIP's sigmoid
/// form (composed of `sigmoid` and products, so its backward is theirs).
public func gelu(_ x: Tensor, approximation: GELUApproximation = .erf) -> Tensor {
    switch approximation {
    case .erf: return mapElements(x, GELUErfKernel(), op: "gelu")
    case .tanh: return mapElements(x, GELUTanhKernel(), op: "gelu_tanh")
    case .sigmoid: return x * sigmoid(x * 1.702)
    }
}

/// silu(gate) * up in one pass, with a fused backward: the gated MLP unit of Llama and Qwen
/// (`down_proj(swiglu(gate_proj(x), up_proj(x)))`). `gate` and `up` must have the same shape.
public func swiglu(_ gate: Tensor, _ up: Tensor) -> Tensor {
    precondition(gate.shape == up.shape, "swiglu: gate \(gate.shape) and up \(up.shape) must have the same shape")
    let out = Tensor(uninitialized: gate.shape)
    let n = gate.count
    let pg = gate.data
    let pu = up.data
    let po = out.data
    Parallel.forRanges(n, minimumPerChunk: elementwiseParallelGrain) { r in
        for i in r {
            let g = pg[i]
            po[i] = g * FastMath.sigmoid(g) * pu[i]
        }
    }
    Autograd.record(out, inputs: [gate, up], op: "swiglu") { dy in
        // New gradients are written; existing ones added to (an add of 0 would give the same bits).
        let gateGrad = gate.requiresGrad ? gate.gradStorageForUpdate() : nil
        let upGrad = up.requiresGrad ? up.gradStorageForUpdate() : nil
        let addGate = gateGrad?.accumulate ?? false
        let addUp = upGrad?.accumulate ?? false
        Parallel.forRanges(n, minimumPerChunk: elementwiseParallelGrain) { r in
            if let dGate = gateGrad?.pointer, let dUp = upGrad?.pointer {
                if !addGate && !addUp {
                    for i in r {
                        let g = pg[i]
                        let s = FastMath.sigmoid(g)
                        let d = dy[i]
                        dGate[i] = d * pu[i] * (s * (1 + g * (1 - s)))
                        dUp[i] = d * (g * s)
                    }
                } else {
                    for i in r {
                        let g = pg[i]
                        let s = FastMath.sigmoid(g)
                        let d = dy[i]
                        let gateTerm = d * pu[i] * (s * (1 + g * (1 - s)))
                        let upTerm = d * (g * s)
                        dGate[i] = addGate ? dGate[i] + gateTerm : gateTerm
                        dUp[i] = addUp ? dUp[i] + upTerm : upTerm
                    }
                }
            } else if let dGate = gateGrad?.pointer {
                for i in r {
                    let g = pg[i]
                    let s = FastMath.sigmoid(g)
                    let term = dy[i] * pu[i] * (s * (1 + g * (1 - s)))
                    dGate[i] = addGate ? dGate[i] + term : term
                }
            } else if let dUp = upGrad?.pointer {
                for i in r {
                    let g = pg[i]
                    let term = dy[i] * (g * FastMath.sigmoid(g))
                    dUp[i] = addUp ? dUp[i] + term : term
                }
            }
        }
    }
    return out
}
