import Kernel

/// A linear layer with a low-rank adapter: `y = x W^T + b + scaling * B(A(dropout(x)))`, PEFT's `lora.Linear`.
///
/// It replaces a `Linear` at the same path and keeps its `weight` and `bias` tensors (shared, not copied), so
/// the base parameter names do not change; the adapter adds the children `lora_A` (`weight` [r, in]) and
/// `lora_B` (`weight` [out, r]): `model.layers.0.mlp.gate_proj.lora_A.weight`. Dropout acts on the adapter's
/// input only, only in training mode, from the layer's own seeded generator (deterministic per call order).
public final class LoRALinear: Linear {
    public let configuration: LoRAConfiguration
    /// The factor on the adapter's output.
    public let scaling: Float
    private var dropoutGenerator: RandomGenerator

    /// `lora_A.weight` [r, in].
    public var loraA: Tensor { child("lora_A")!.parameter("weight")! }
    /// `lora_B.weight` [out, r].
    public var loraB: Tensor { child("lora_B")!.parameter("weight")! }

    /// A fresh adapter on `base`, initialised like PEFT: A kaiming-uniform with a = sqrt(5) (uniform in
    /// +-1/sqrt(in)), B zero, so the layer starts as exactly `base`. The adapter's tensors require grad.
    public convenience init(wrapping base: Linear, configuration: LoRAConfiguration, generator: inout RandomGenerator) {
        let a = Tensor(zeros: [configuration.rank, base.inFeatures], requiresGrad: true)
        let bound = 1 / Float(max(base.inFeatures, 1)).squareRoot()
        for i in 0..<a.count { a.data[i] = generator.uniform(-bound, bound) }
        let b = Tensor(zeros: [base.outFeatures, configuration.rank], requiresGrad: true)
        self.init(
            wrapping: base, loraA: a, loraB: b, configuration: configuration,
            dropoutGenerator: generator.fork("lora.dropout"))
    }

    /// An adapter with given factors (loaded from a file): A [r, in], B [out, r].
    public init(
        wrapping base: Linear, loraA: Tensor, loraB: Tensor, configuration: LoRAConfiguration,
        dropoutGenerator: RandomGenerator = RandomGenerator(seed: 0)
    ) {
        precondition(
            loraA.shape == [configuration.rank, base.inFeatures],
            "LoRALinear: lora_A is \(loraA.shape), expected [\(configuration.rank), \(base.inFeatures)]")
        precondition(
            loraB.shape == [base.outFeatures, configuration.rank],
            "LoRALinear: lora_B is \(loraB.shape), expected [\(base.outFeatures), \(configuration.rank)]")
        self.configuration = configuration
        scaling = configuration.scaling
        self.dropoutGenerator = dropoutGenerator
        super.init(weight: base.weight, bias: base.bias)
        let a = Module()
        let b = Module()
        a.registerParameter("weight", loraA)
        b.registerParameter("weight", loraB)
        registerChild("lora_A", a)
        registerChild("lora_B", b)
        setTraining(base.isTraining)
    }

    public override func callAsFunction(_ x: Tensor) -> Tensor {
        let base = linear(x, weight, bias: bias)
        let input = dropout(
            x, probability: Float(configuration.dropout), generator: &dropoutGenerator, training: isTraining)
        return base + linear(linear(input, loraA), loraB) * scaling
    }

    /// Adds `scaling * B A` into the base weight (in place, no gradient) and returns a plain `Linear` over the
    /// same weight and bias tensors, to put back at this layer's path.
    public func mergedIntoBase() -> Linear {
        Autograd.withNoGrad {
            let delta = matmul(loraB, loraA)  // [out, in]
            let w = weight.data
            let d = delta.data
            let s = scaling
            for i in 0..<weight.count { w[i] = w[i] + s * d[i] }
        }
        let plain = Linear(weight: weight, bias: bias)
        plain.setTraining(isTraining)
        return plain
    }
}

extension Module {
    /// Every LoRA layer of the tree with its path, in module order.
    public var loraLayers: [(path: String, layer: LoRALinear)] {
        namedModules().compactMap { entry in (entry.module as? LoRALinear).map { (entry.path, $0) } }
    }

    /// Merges every LoRA layer into its base weight and puts a plain `Linear` back at its path. Returns the
    /// merged paths.
    @discardableResult
    public func mergeLoRAAdapters() throws -> [String] {
        let layers = loraLayers
        for (path, layer) in layers { try replaceModule(at: path, with: layer.mergedIntoBase()) }
        return layers.map(\.path)
    }
}
