import Kernel

/// RMSNorm with a learned scale, named `weight` as in HF (`input_layernorm.weight`).
public final class RMSNorm: Module, UnaryLayer {
    public let eps: Float
    public var weight: Tensor { parameter("weight")! }

    public init(_ size: Int, eps: Float) {
        self.eps = eps
        super.init()
        registerParameter("weight", Tensor(filled: 1, shape: [size], requiresGrad: true))
    }

    public func callAsFunction(_ x: Tensor) -> Tensor { rmsNorm(x, weight: weight, eps: eps) }
}

/// LayerNorm with `weight` and `bias`, as in CLIP/SigLIP vision towers.
public final class LayerNorm: Module, UnaryLayer {
    public let eps: Float
    public var weight: Tensor { parameter("weight")! }
    public var bias: Tensor { parameter("bias")! }

    public init(_ size: Int, eps: Float = 1e-5) {
        self.eps = eps
        super.init()
        registerParameter("weight", Tensor(filled: 1, shape: [size], requiresGrad: true))
        registerParameter("bias", Tensor(zeros: [size], requiresGrad: true))
    }

    public func callAsFunction(_ x: Tensor) -> Tensor { layerNorm(x, weight: weight, bias: bias, eps: eps) }
}

/// Fills every matrix of a module tree with N(0, std^2) and every bias with zeros, leaving the norm scales
/// (the other vectors) as they are: the initialisation HF models use (`initializer_range`, default 0.02).
public func initializeLikeHF(_ module: Module, std: Float = 0.02, generator: inout RandomGenerator) {
    for (name, t) in module.namedParameters() {
        if t.rank >= 2 {
            generator.fillNormal(t.data, count: t.count, scale: std)  // = normal() * std for each, in order
        } else if name.hasSuffix(".bias") {
            t.storage.zero()
        }
    }
}
