import Foundation
import Kernel

/// The `vision_config` of a Qwen2-VL (`qwen2_vl`) or Qwen2.5-VL (`qwen2_5_vl`) checkpoint.
///
/// Qwen2-VL: `embed_dim` wide blocks with LayerNorms and a `fc1`/`fc2` MLP (`mlp_ratio`, quick_gelu), the merger
/// writing `hidden_size`. Qwen2.5-VL: `hidden_size` wide blocks with RMSNorms and a SwiGLU MLP
/// (`intermediate_size`, with biases), the merger writing `out_hidden_size`, windowed attention (`window_size`
/// pixels) except in `fullatt_block_indexes`.
public struct HFQwenVisionConfig: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case qwen2VL = "qwen2_vl"
        case qwen25VL = "qwen2_5_vl"
    }
    public var kind: Kind
    /// The blocks' width.
    public var width: Int
    /// The merger's output: the language model's hidden size.
    public var outputWidth: Int
    public var intermediateSize: Int
    public var depth: Int
    public var heads: Int
    public var patchSize: Int
    public var temporalPatchSize: Int
    public var mergeSize: Int
    /// Qwen2.5-VL's attention window in pixels (0: every block attends over the whole image).
    public var windowSize: Int
    public var fullAttentionBlocks: Set<Int>
    public var ropeTheta: Double
    /// Qwen2-VL's MLP activation (quick_gelu, gelu, gelu_pytorch_tanh); Qwen2.5-VL's is silu.
    public var activation: HFVisionConfig.Activation

    public var headDim: Int { width / heads }
    /// Values of one patch: 3 channels x temporal x patch x patch (1176 for 2 x 14 x 14).
    public var patchValues: Int { 3 * temporalPatchSize * patchSize * patchSize }
    /// Patches one language-model position stands for (4 for a 2 x 2 merge).
    public var mergeUnit: Int { mergeSize * mergeSize }

    init(json c: ConfigJSON, kind: Kind, textHidden: Int) throws {
        self.kind = kind
        depth = try c.optionalInt("depth") ?? c.optionalInt("num_hidden_layers") ?? 32
        heads = try c.optionalInt("num_heads") ?? c.optionalInt("num_attention_heads") ?? 16
        patchSize = try c.optionalInt("patch_size") ?? 14
        temporalPatchSize = try c.optionalInt("temporal_patch_size") ?? 2
        mergeSize = try c.optionalInt("spatial_merge_size") ?? 2
        if let channels = try c.optionalInt("in_channels") ?? c.optionalInt("in_chans"), channels != 3 {
            throw c.invalid("in_channels", "is \(channels); only RGB (3) is supported")
        }
        let rope = try c.optionalObject("rope_parameters")
        ropeTheta = try rope?.optionalDouble("rope_theta") ?? 10_000
        let act: String
        switch kind {
        case .qwen2VL:
            width = try c.optionalInt("embed_dim") ?? 1280
            outputWidth = try c.optionalInt("hidden_size") ?? textHidden
            intermediateSize = width * (try c.optionalInt("mlp_ratio") ?? 4)
            windowSize = 0
            fullAttentionBlocks = []
            act = try c.optionalString("hidden_act") ?? "quick_gelu"
            guard let a = HFVisionConfig.Activation(rawValue: act) else {
                throw c.invalid("hidden_act", "is \"\(act)\"; supported: quick_gelu, gelu, gelu_pytorch_tanh")
            }
            activation = a
        case .qwen25VL:
            width = try c.optionalInt("hidden_size") ?? 1280
            outputWidth = try c.optionalInt("out_hidden_size") ?? textHidden
            intermediateSize = try c.optionalInt("intermediate_size") ?? 3420
            windowSize = try c.optionalInt("window_size") ?? 112
            fullAttentionBlocks = Set(try c.optionalIntList("fullatt_block_indexes") ?? [7, 15, 23, 31])
            act = try c.optionalString("hidden_act") ?? "silu"
            guard act == "silu" else { throw c.invalid("hidden_act", "is \"\(act)\"; supported: silu") }
            activation = .gelu  // unused: the SwiGLU MLP
        }
        for (key, value) in [
            ("depth", depth), ("num_heads", heads), ("patch_size", patchSize),
            ("temporal_patch_size", temporalPatchSize), ("spatial_merge_size", mergeSize), ("width", width),
            ("intermediate_size", intermediateSize), ("out_hidden_size", outputWidth),
        ] where value <= 0 || value > 1 << 20 {
            throw c.invalid(key, "is \(value); expected a positive size")
        }
        guard width % heads == 0, (width / heads) % 4 == 0 else {
            throw c.invalid(
                kind == .qwen2VL ? "embed_dim" : "hidden_size",
                "is \(width); with \(heads) heads the head dim must be a whole multiple of 4 (2D rotary embeddings)")
        }
        guard outputWidth == textHidden else {
            throw c.invalid(
                kind == .qwen2VL ? "hidden_size" : "out_hidden_size",
                "is \(outputWidth) but the language model's hidden_size is \(textHidden)")
        }
        guard windowSize >= 0, windowSize == 0 || windowSize % (patchSize * mergeSize) == 0 else {
            throw c.invalid(
                "window_size", "is \(windowSize); expected a multiple of patch_size x spatial_merge_size")
        }
        if let bad = fullAttentionBlocks.first(where: { $0 < 0 || $0 >= depth }) {
            throw c.invalid("fullatt_block_indexes", "has \(bad); the tower has \(depth) blocks")
        }
    }

    /// Float32 bytes of the tower's parameters, for the memory check before loading (computed in Double and
    /// capped, as sizes come from the file).
    var float32ParameterBytes: UInt64 {
        let d = Double(width)
        let i = Double(intermediateSize)
        let mlp = kind == .qwen2VL ? 2 * d * i + i + d : 3 * d * i + 2 * i + d
        let perBlock = 4 * d * d + 4 * d + mlp + 4 * d
        let merged = d * Double(mergeUnit)
        let merger = merged * merged + merged + merged * Double(outputWidth) + Double(outputWidth) + 2 * d
        let patch = d * Double(patchValues)
        return UInt64(min(4 * (Double(depth) * perBlock + merger + patch), 1e18))
    }
}
