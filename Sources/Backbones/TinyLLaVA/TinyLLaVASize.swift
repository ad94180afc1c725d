import Kernel
import Transformer

extension TinyLLaVA {
    /// The bytes a model of `config` takes as Float32 (vision tower, projector and decoder), from the shape
    /// alone; nil when the count overflows. Used to refuse a config too large for memory before building it.
    public static func float32Bytes(of config: TinyLLaVAConfig) -> UInt64? {
        let p = MemoryBudget.product
        let v = config.vision
        let visionLayer = MemoryBudget.sum([
            p([4, v.hiddenSize, v.hiddenSize]), p([4, v.hiddenSize]),  // q, k, v, out + biases
            p([2, v.hiddenSize, v.intermediateSize]), p([v.intermediateSize]), p([v.hiddenSize]),
            p([4, v.hiddenSize]),
        ])  // two LayerNorms
        let patches = v.patchSize > 0 ? v.imageSize / v.patchSize : 0
        let vision = MemoryBudget.sum([
            visionLayer.flatMap { MemoryBudget.times($0, UInt64(max(0, v.layers))) },
            p([v.hiddenSize, 3, v.patchSize, v.patchSize]), p([v.hiddenSize]),
            p([patches, patches, v.hiddenSize]), p([2, v.hiddenSize]),
        ])
        let projector = MemoryBudget.sum([
            p([v.hiddenSize, config.text.hiddenSize]), p([config.text.hiddenSize, config.text.hiddenSize]),
            p([2, config.text.hiddenSize]),
        ])
        let visionBytes = MemoryBudget.sum([vision, projector]).flatMap { MemoryBudget.times($0, 4) }
        return MemoryBudget.sum([visionBytes, config.text.float32ParameterBytes])
    }
}
