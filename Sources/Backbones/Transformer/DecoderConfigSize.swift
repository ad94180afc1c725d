import Kernel

extension DecoderConfig {
    /// The bytes this decoder's parameters take as Float32, computed from the shape alone (no allocation);
    /// nil when the count overflows 64 bits. Counts the matrices, q/k/v biases and norms the decoder builds
    /// (a Llama `o_proj` bias, `hiddenSize` per layer, is left out: it is not part of this config).
    public var float32ParameterBytes: UInt64? {
        let p = MemoryBudget.product
        let attentionBiases = attentionBias ? MemoryBudget.sum([p([heads, headDim]), p([2, kvHeads, headDim])]) : 0
        let perLayer = MemoryBudget.sum([
            p([hiddenSize, heads, headDim]), p([2, hiddenSize, kvHeads, headDim]),
            p([heads, headDim, hiddenSize]), attentionBiases, p([3, hiddenSize, intermediateSize]),
            p([2, hiddenSize]),
        ])
        let allLayers = perLayer.flatMap { MemoryBudget.times($0, UInt64(max(0, layers))) }
        let parameters = MemoryBudget.sum([
            allLayers, p([tieWordEmbeddings ? 1 : 2, vocabularySize, hiddenSize]), p([hiddenSize]),
        ])
        return parameters.flatMap { MemoryBudget.times($0, 4) }
    }
}
