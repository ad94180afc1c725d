import Kernel

/// One pre-norm decoder block: `x + self_attn(input_layernorm(x))`, then `x + mlp(post_attention_layernorm(x))`.
///
/// `mlp` is looked up by name, so a strategy may swap it for any `UnaryLayer` (a mixture of experts).
public final class DecoderLayer: Module {
    public var inputNorm: RMSNorm { child("input_layernorm") as! RMSNorm }
    public var attention: SelfAttention { child("self_attn") as! SelfAttention }
    public var postAttentionNorm: RMSNorm { child("post_attention_layernorm") as! RMSNorm }
    public var mlp: any UnaryLayer { child("mlp") as! any UnaryLayer }

    public init(_ c: DecoderConfig, generator: inout RandomGenerator) {
        super.init()
        registerChild("input_layernorm", RMSNorm(c.hiddenSize, eps: Float(c.rmsNormEps)))
        registerChild(
            "self_attn",
            SelfAttention(
                hidden: c.hiddenSize, heads: c.heads, kvHeads: c.kvHeads, headDim: c.headDim, bias: c.attentionBias,
                ropeTheta: Float(c.ropeTheta), rotaryLayout: c.rotaryLayout, generator: &generator))
        registerChild("post_attention_layernorm", RMSNorm(c.hiddenSize, eps: Float(c.rmsNormEps)))
        registerChild("mlp", GatedMLP(hidden: c.hiddenSize, intermediate: c.intermediateSize, generator: &generator))
    }

    public func callAsFunction(
        _ x: Tensor, positions: RotaryPositions, keyMask: [Bool]?, cache: KVCache?, index: Int,
        observer: ((LayerObservation) -> Void)?
    ) -> Tensor {
        let a = attention(inputNorm(x), positions: positions, keyMask: keyMask, cache: cache, layer: index)
        observer?(LayerObservation(layer: index, component: .attention, output: a))
        let h = x + a
        let m = mlp(postAttentionNorm(h))
        observer?(LayerObservation(layer: index, component: .mlp, output: m))
        return h + m
    }
}

/// `model.embed_tokens`, `model.layers.N`, `model.norm`: the decoder stack without its head.
public final class DecoderStack: Module {
    public let config: DecoderConfig
    public var embedTokens: Tensor { child("embed_tokens")!.parameter("weight")! }
    public var norm: RMSNorm { child("norm") as! RMSNorm }
    public func layer(_ i: Int) -> DecoderLayer { child("layers.\(i)") as! DecoderLayer }

    public init(_ c: DecoderConfig, generator: inout RandomGenerator) {
        config = c
        super.init()
        let embed = Module()
        embed.registerParameter("weight", Tensor(zeros: [c.vocabularySize, c.hiddenSize], requiresGrad: true))
        registerChild("embed_tokens", embed)
        for i in 0..<c.layers { registerChild("layers.\(i)", DecoderLayer(c, generator: &generator)) }
        registerChild("norm", RMSNorm(c.hiddenSize, eps: Float(c.rmsNormEps)))
    }
}
