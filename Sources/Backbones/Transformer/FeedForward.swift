import Kernel

/// The SwiGLU MLP of Qwen2/Llama: `down_proj(silu(gate_proj(x)) * up_proj(x))`.
public final class GatedMLP: Module, UnaryLayer {
    public var gateProj: any UnaryLayer { child("gate_proj") as! any UnaryLayer }
    public var upProj: any UnaryLayer { child("up_proj") as! any UnaryLayer }
    public var downProj: any UnaryLayer { child("down_proj") as! any UnaryLayer }

    public init(hidden: Int, intermediate: Int, bias: Bool = false, generator: inout RandomGenerator) {
        super.init()
        registerChild("gate_proj", Linear(hidden, intermediate, bias: bias, generator: &generator))
        registerChild("up_proj", Linear(hidden, intermediate, bias: bias, generator: &generator))
        registerChild("down_proj", Linear(intermediate, hidden, bias: bias, generator: &generator))
    }

    public func callAsFunction(_ x: Tensor) -> Tensor { downProj(swiglu(gateProj(x), upProj(x))) }
}

/// The GELU MLP of CLIP/SigLIP vision towers: `fc2(gelu(fc1(x)))`.
public final class GELUMLP: Module, UnaryLayer {
    public let approximation: GELUApproximation
    public var fc1: any UnaryLayer { child("fc1") as! any UnaryLayer }
    public var fc2: any UnaryLayer { child("fc2") as! any UnaryLayer }

    public init(
        hidden: Int, intermediate: Int, approximation: GELUApproximation = .tanh,
        generator: inout RandomGenerator
    ) {
        self.approximation = approximation
        super.init()
        registerChild("fc1", Linear(hidden, intermediate, generator: &generator))
        registerChild("fc2", Linear(intermediate, hidden, generator: &generator))
    }

    public func callAsFunction(_ x: Tensor) -> Tensor { fc2(gelu(fc1(x), approximation: approximation)) }
}
