import Kernel

/// One pre-LayerNorm ViT encoder layer, as CLIP and SigLIP have it (and tiny-llava's tower): `layer_norm1`,
/// `self_attn` (q/k/v/out_proj with biases, bidirectional, no rotary positions), `layer_norm2`, `mlp` (fc1, GELU
/// in the given form, fc2).
public final class VisionEncoderLayer: Module {
    public init(
        hidden: Int, heads: Int, intermediate: Int, eps: Float, approximation: GELUApproximation,
        generator: inout RandomGenerator
    ) {
        super.init()
        registerChild("layer_norm1", LayerNorm(hidden, eps: eps))
        registerChild(
            "self_attn",
            SelfAttention(
                hidden: hidden, heads: heads, kvHeads: heads, headDim: hidden / heads, bias: true, outputBias: true,
                ropeTheta: 1, causal: false, outputKey: "out_proj", generator: &generator))
        registerChild("layer_norm2", LayerNorm(hidden, eps: eps))
        registerChild(
            "mlp",
            GELUMLP(hidden: hidden, intermediate: intermediate, approximation: approximation, generator: &generator))
    }

    /// x: [images, positions, hidden].
    public func callAsFunction(_ x: Tensor) -> Tensor {
        let attention = child("self_attn") as! SelfAttention
        let h = x + attention((child("layer_norm1") as! LayerNorm)(x), positions: RotaryPositions([]))
        return h + (child("mlp") as! any UnaryLayer)((child("layer_norm2") as! LayerNorm)(h))
    }
}
