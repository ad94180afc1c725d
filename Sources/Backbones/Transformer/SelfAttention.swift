import Kernel

/// Grouped-query self-attention with rotary positions: `q_proj`, `k_proj`, `v_proj`, `o_proj`.
///
/// The projections are looked up by name on every call, so a strategy can replace one (a LoRA linear)
/// with `replaceModule(at:with:)` and the model uses it.
public final class SelfAttention: Module {
    public let heads: Int
    public let kvHeads: Int
    public let headDim: Int
    public let ropeTheta: Float
    /// Which positions turn which rotary frequencies (M-RoPE, axial 2D RoPE).
    public let rotaryLayout: RotaryLayout
    /// Whether attention is causal (decoders) or bidirectional (vision towers).
    public let causal: Bool
    /// Whether q and k turn by rotary positions (decoders, Qwen2-VL's vision blocks; not CLIP or SigLIP).
    public let rotary: Bool

    public var qProj: any UnaryLayer { child("q_proj") as! any UnaryLayer }
    public var kProj: any UnaryLayer { child("k_proj") as! any UnaryLayer }
    public var vProj: any UnaryLayer { child("v_proj") as! any UnaryLayer }
    public var oProj: any UnaryLayer { child(outputKey) as! any UnaryLayer }
    private let outputKey: String

    /// - Parameters:
    ///   - outputKey: the output projection's name: "o_proj" (Qwen2/Llama) or "out_proj" (CLIP/SigLIP).
    ///   - rotary: rotary positions; by default exactly when causal.
    public init(
        hidden: Int, heads: Int, kvHeads: Int, headDim: Int, bias: Bool, outputBias: Bool = false,
        ropeTheta: Float, causal: Bool = true, rotary: Bool? = nil, rotaryLayout: RotaryLayout = .standard,
        outputKey: String = "o_proj", generator: inout RandomGenerator
    ) {
        self.heads = heads
        self.kvHeads = kvHeads
        self.headDim = headDim
        self.ropeTheta = ropeTheta
        self.causal = causal
        self.rotary = rotary ?? causal
        self.rotaryLayout = rotaryLayout
        self.outputKey = outputKey
        super.init()
        registerChild("q_proj", Linear(hidden, heads * headDim, bias: bias, generator: &generator))
        registerChild("k_proj", Linear(hidden, kvHeads * headDim, bias: bias, generator: &generator))
        registerChild("v_proj", Linear(hidden, kvHeads * headDim, bias: bias, generator: &generator))
        registerChild(outputKey, Linear(heads * headDim, hidden, bias: outputBias, generator: &generator))
    }

    /// x: [B, T, hidden]. `positions` has T entries (shared by rows) or B*T (per row, for left padding).
    /// With a cache (generation, no grad) the new keys/values are appended and attention covers the cache.
    public func callAsFunction(
        _ x: Tensor, positions: RotaryPositions, keyMask: [Bool]? = nil,
        cache: KVCache? = nil, layer: Int = 0
    ) -> Tensor {
        let b = x.shape[0]
        let t = x.shape[1]
        var q = qProj(x).reshaped([b, t, heads, headDim])
        var k = kProj(x).reshaped([b, t, kvHeads, headDim])
        let v = vProj(x).reshaped([b, t, kvHeads, headDim])
        if rotary {
            q = applyRotary(q, positions: positions, theta: ropeTheta, layout: rotaryLayout)
            k = applyRotary(k, positions: positions, theta: ropeTheta, layout: rotaryLayout)
        }
        let o: Tensor
        if let cache {
            o = cache.attend(layer: layer, query: q, newKeys: k, newValues: v)
        } else {
            o = attention(q, k, v, causal: causal, keyMask: keyMask)
        }
        return oProj(o.reshaped([b, t, heads * headDim]))
    }
}
