import Foundation
import Kernel

/// The memory a tuning run needs, checked before it starts: the strategy's own estimate (weights, gradients
/// and AdamW state of what trains, the copies it keeps; `TuningStrategy.memoryEstimate`), the activations of
/// one batch, and any model kept beside it (the study keeps the base model for the probes).
public struct MemoryCheck {
    public var strategy: String
    public var training: TrainingMemory
    public var activations: UInt64
    /// Bytes of models held besides the tuned one (the study's base model).
    public var kept: UInt64
    public var batchSize: Int
    public var sequenceLength: Int

    public var total: UInt64 { training.total &+ activations &+ kept }

    /// The estimate for tuning a model shaped like `model` with `strategy` on batches of `batchSize` rows of up
    /// to `sequenceLength` tokens; `keepsBase` adds one more copy of the model's weights.
    public init(
        strategy: any TuningStrategy, model: any Backbone, batchSize: Int, sequenceLength: Int,
        keepsBase: Bool
    ) {
        let shapes = model.parameterShapes
        self.strategy = strategy.name
        training = strategy.memoryEstimate(parameters: shapes)
        activations = Self.activationBytes(
            model: model, parameters: shapes, batchSize: batchSize,
            sequenceLength: sequenceLength)
        kept = keepsBase ? UInt64(shapes.reduce(0) { $0 + $1.count }) &* 4 : 0
        self.batchSize = batchSize
        self.sequenceLength = sequenceLength
    }

    /// A coarse activation estimate for a decoder of L layers, width H, MLP width I (from layer 0's MLP
    /// parameters, else 4H), heads ~ H / 64, vocabulary V, for B x T tokens, Float32, doubled for the
    /// backward pass's transient gradients:
    /// `2 * 4 * B * T * (L * (16 H + 4 I + 2 heads T) + 3 V)` bytes (per layer: norms, q/k/v, attention output,
    /// residuals, the MLP's gate/up/activation/product, the attention probabilities and their gradient; the
    /// logits, their softmax and gradient).
    public static func activationBytes(
        model: any Backbone, parameters: [ParameterShape], batchSize: Int,
        sequenceLength: Int
    ) -> UInt64 {
        let h = model.hiddenSize
        let layers = model.decoderLayerCount
        let v = model.vocabularySize
        let mlp0 = parameters.filter { $0.componentName.hasPrefix("model.layers.0.mlp.") }.reduce(0) { $0 + $1.count }
        let intermediate = mlp0 > 0 && h > 0 ? mlp0 / (3 * h) : 4 * h
        let heads = max(1, h / 64)
        let perToken = MemoryBudget.sum([
            MemoryBudget.product([layers, 16 * h + 4 * intermediate + 2 * heads * sequenceLength]),
            MemoryBudget.product([3, v]),
        ])
        return perToken.flatMap { MemoryBudget.times($0, MemoryBudget.product([8, batchSize, sequenceLength]) ?? 0) }
            ?? UInt64.max
    }

    /// Throws a message with the estimate and the limit unless the run fits in `limit`.
    public func check(limit: UInt64 = MemoryBudget.limit) throws {
        guard total > limit else { return }
        let keptText = kept > 0 ? " + the base model kept for the probes \(gigabytes(kept))" : ""
        throw HostError(
            "strategy '\(strategy)' would need about \(gigabytes(total)) (\(training.breakdown) + activations "
                + "\(gigabytes(activations)) for batch \(batchSize) x \(sequenceLength) tokens\(keptText)) but the memory "
                + "limit is \(gigabytes(limit)) (physical memory, or SKILLTUNE_MEMORY_LIMIT); refusing to start it. "
                + "Lower --batch-size, or choose a strategy that trains less")
    }

    /// The longest prompt + answer of `examples` in `model`'s tokens.
    public static func longestSequence(_ examples: [Example], model: any Backbone) -> Int {
        examples.map { model.encodePrompt(for: $0).count + model.encodeAnswer($0.answer).count }.max() ?? 0
    }
}
