/// A module that maps one tensor to one tensor; the unit that strategies may wrap or replace.
public protocol UnaryLayer: Module {
    func callAsFunction(_ x: Tensor) -> Tensor
}

/// `y = x W^T + b` with PyTorch's layout: `weight` [out, in], `bias` [out].
///
/// Open so that a strategy can substitute a subclass at the same path (a LoRA linear keeps `weight` and
/// `bias` and adds `lora_A`/`lora_B` children), leaving the parameter names of the base model unchanged.
open class Linear: Module, UnaryLayer {
    public let inFeatures: Int
    public let outFeatures: Int

    public var weight: Tensor { parameter("weight")! }
    public var bias: Tensor? { parameter("bias") }

    /// Initialised like `torch.nn.Linear`: uniform in +-1/sqrt(inFeatures) for weight and bias.
    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, generator: inout RandomGenerator) {
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        super.init()
        let bound = 1 / Float(max(inFeatures, 1)).squareRoot()
        let w = Tensor(zeros: [outFeatures, inFeatures], requiresGrad: true)
        for i in 0..<w.count { w.data[i] = generator.uniform(-bound, bound) }
        registerParameter("weight", w)
        if bias {
            let b = Tensor(zeros: [outFeatures], requiresGrad: true)
            for i in 0..<b.count { b.data[i] = generator.uniform(-bound, bound) }
            registerParameter("bias", b)
        }
    }

    /// Wraps existing tensors (shared, not copied): for loading and for subclasses that wrap a base layer.
    public init(weight: Tensor, bias: Tensor?) {
        precondition(weight.rank == 2, "Linear: weight must be [out, in], got \(weight.shape)")
        inFeatures = weight.shape[1]
        outFeatures = weight.shape[0]
        super.init()
        registerParameter("weight", weight)
        if let bias { registerParameter("bias", bias) }
    }

    open func callAsFunction(_ x: Tensor) -> Tensor { linear(x, weight, bias: bias) }
}
