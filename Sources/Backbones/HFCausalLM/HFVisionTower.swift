import Foundation
import Kernel
import Transformer

/// The `vision_config` of a LLaVA-family checkpoint: a CLIP or SigLIP vision transformer.
public struct HFVisionConfig: Sendable {
    public enum Kind: String, Sendable {
        /// `clip_vision_model`: a class token, `pre_layrnorm`, a patch convolution without bias.
        case clip = "clip_vision_model"
        /// `siglip_vision_model`: no class token, a patch convolution with bias.
        case siglip = "siglip_vision_model"
    }
    public enum Activation: String, Sendable {
        case quickGELU = "quick_gelu"
        case geluTanh = "gelu_pytorch_tanh"
        case gelu = "gelu"

        /// The form of `gelu` that computes it.
        public var approximation: GELUApproximation {
            switch self {
            case .quickGELU: return .sigmoid
            case .geluTanh: return .tanh
            case .gelu: return .erf
            }
        }
    }
    public var kind: Kind
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var layers: Int
    public var heads: Int
    public var imageSize: Int
    public var patchSize: Int
    public var layerNormEps: Double
    public var activation: Activation

    public var patchesPerSide: Int { imageSize / patchSize }
    public var patchCount: Int { patchesPerSide * patchesPerSide }
    /// Positions the encoder sees per image: the patches, and CLIP's class token.
    public var tokenCount: Int { patchCount + (kind == .clip ? 1 : 0) }

    init(json c: ConfigJSON) throws {
        let type = try c.optionalString("model_type") ?? Kind.clip.rawValue
        guard let kind = Kind(rawValue: type) else {
            throw c.invalid(
                "model_type", "is \"\(type)\"; supported vision towers: clip_vision_model, siglip_vision_model")
        }
        self.kind = kind
        let defaultActivation = kind == .clip ? "quick_gelu" : "gelu_pytorch_tanh"
        let act = try c.optionalString("hidden_act") ?? defaultActivation
        guard let activation = Activation(rawValue: act) else {
            throw c.invalid("hidden_act", "is \"\(act)\"; supported: quick_gelu, gelu_pytorch_tanh, gelu")
        }
        self.activation = activation
        hiddenSize = try c.optionalInt("hidden_size") ?? 768
        intermediateSize = try c.optionalInt("intermediate_size") ?? 3072
        layers = try c.optionalInt("num_hidden_layers") ?? 12
        heads = try c.optionalInt("num_attention_heads") ?? 12
        imageSize = try c.optionalInt("image_size") ?? 224
        patchSize = try c.optionalInt("patch_size") ?? (kind == .clip ? 32 : 16)
        layerNormEps = try c.optionalDouble("layer_norm_eps") ?? (kind == .clip ? 1e-5 : 1e-6)
        if let channels = try c.optionalInt("num_channels"), channels != 3 {
            throw c.invalid("num_channels", "is \(channels); only RGB (3) is supported")
        }
        for (key, value) in [
            ("hidden_size", hiddenSize), ("intermediate_size", intermediateSize), ("num_hidden_layers", layers),
            ("num_attention_heads", heads), ("image_size", imageSize), ("patch_size", patchSize),
        ] where value <= 0 || value > 1 << 20 {
            throw c.invalid(key, "is \(value); expected a positive size")
        }
        guard hiddenSize % heads == 0 else {
            throw c.invalid("hidden_size", "is \(hiddenSize), not a multiple of num_attention_heads \(heads)")
        }
        // A convolution of stride patch_size: pixels past the last whole patch are not read (SigLIP's 384 / 14).
        guard patchSize <= imageSize else {
            throw c.invalid("patch_size", "is \(patchSize), larger than image_size \(imageSize)")
        }
    }

    /// Float32 bytes of the tower's parameters, for the memory check before loading.
    /// Computed in Double (sizes come from the file and may be absurd) and capped below UInt64's range.
    var float32ParameterBytes: UInt64 {
        let d = Double(hiddenSize)
        let i = Double(intermediateSize)
        let perLayer = 4 * (d * d + d) + 2 * d * i + i + 5 * d
        let embeddings = d * 3 * Double(patchSize) * Double(patchSize) + (Double(patchCount) + 2) * d
        return UInt64(min(4 * (Double(layers) * perLayer + embeddings), 1e18))
    }
}

/// A CLIP or SigLIP vision transformer with Hugging Face's names under `vision_model`:
/// `embeddings.{patch_embedding, position_embedding, class_embedding}`, `pre_layrnorm` (CLIP),
/// `encoder.layers.N`.
///
/// Only the layers a LLaVA model reads are built: the feature is the hidden state after `featureLayers` encoder
/// layers (`vision_feature_layer` -2 of 24 is 23), so later layers, `post_layernorm` and SigLIP's pooling `head`
/// never run and are no parameters (an export copies them from the input unchanged).
public final class HFVisionTransformer: Module {
    public let config: HFVisionConfig
    /// Encoder layers that run.
    public let builtLayers: Int

    init(_ c: HFVisionConfig, builtLayers: Int, generator: inout RandomGenerator) {
        config = c
        self.builtLayers = builtLayers
        super.init()
        let embeddings = Module()
        let patch = Module()
        patch.registerParameter(
            "weight", Tensor(zeros: [c.hiddenSize, 3, c.patchSize, c.patchSize], requiresGrad: true))
        if c.kind == .siglip { patch.registerParameter("bias", Tensor(zeros: [c.hiddenSize], requiresGrad: true)) }
        embeddings.registerChild("patch_embedding", patch)
        if c.kind == .clip {
            embeddings.registerParameter("class_embedding", Tensor(zeros: [c.hiddenSize], requiresGrad: true))
        }
        let position = Module()
        position.registerParameter("weight", Tensor(zeros: [c.tokenCount, c.hiddenSize], requiresGrad: true))
        embeddings.registerChild("position_embedding", position)
        registerChild("embeddings", embeddings)
        if c.kind == .clip { registerChild("pre_layrnorm", LayerNorm(c.hiddenSize, eps: Float(c.layerNormEps))) }
        let encoder = Module()
        for i in 0..<builtLayers {
            encoder.registerChild(
                "layers.\(i)",
                VisionEncoderLayer(
                    hidden: c.hiddenSize, heads: c.heads, intermediate: c.intermediateSize, eps: Float(c.layerNormEps),
                    approximation: c.activation.approximation, generator: &generator))
        }
        registerChild("encoder", encoder)
    }

    /// Hidden states after 0...builtLayers layers for `pixels` [images, 3, size, size] (row-major, as the
    /// processor gives them): `states[k]` is [images, tokenCount, hidden] after k layers (0: the embeddings).
    func hiddenStates(pixels: [Float], images: Int, keep: Set<Int>) -> [Int: Tensor] {
        let c = config
        let p = c.patchSize
        let side = c.patchesPerSide
        let size = c.imageSize
        precondition(pixels.count == images * 3 * size * size, "vision tower: pixel values do not match the image size")
        let per = 3 * p * p
        let patches = Tensor(zeros: [images * c.patchCount, per])
        pixels.withUnsafeBufferPointer { px in
            for n in 0..<images {
                for py in 0..<side {
                    for pxi in 0..<side {
                        let row = patches.data + ((n * side + py) * side + pxi) * per
                        for ch in 0..<3 {
                            for y in 0..<p {
                                let source = ((n * 3 + ch) * size + py * p + y) * size + pxi * p
                                for x in 0..<p { row[(ch * p + y) * p + x] = px[source + x] }
                            }
                        }
                    }
                }
            }
        }
        let embeddings = child("embeddings")!
        let patch = embeddings.child("patch_embedding")!
        let weight = patch.parameter("weight")!.reshaped([c.hiddenSize, per])
        var x = linear(patches, weight, bias: patch.parameter("bias"))
        if let classEmbedding = embeddings.parameter("class_embedding") {
            // Each image's row block starts with the class token: rows of concat([class, patches]).
            let source = concat([classEmbedding.reshaped([1, c.hiddenSize]), x], axis: 0)
            var order: [Int] = []
            order.reserveCapacity(images * c.tokenCount)
            for n in 0..<images {
                order.append(0)
                for i in 0..<c.patchCount { order.append(1 + n * c.patchCount + i) }
            }
            x = source.indexSelect(axis: 0, indices: order)
        }
        x =
            x.reshaped([images, c.tokenCount, c.hiddenSize]) + embeddings.child("position_embedding")!.parameter(
                "weight")!
        if let norm = child("pre_layrnorm") as? LayerNorm { x = norm(x) }
        var states: [Int: Tensor] = [:]
        if keep.contains(0) { states[0] = x }
        let encoder = child("encoder")!
        for i in 0..<builtLayers {
            x = (encoder.child("layers.\(i)") as! VisionEncoderLayer)(x)
            if keep.contains(i + 1) { states[i + 1] = x }
        }
        return states
    }
}

/// LLaVA's `multi_modal_projector`: `linear_1`, GELU, `linear_2`.
final class MultiModalProjector: Module, UnaryLayer {
    init(from: Int, to: Int, generator: inout RandomGenerator) {
        super.init()
        registerChild("linear_1", Linear(from, to, generator: &generator))
        registerChild("linear_2", Linear(to, to, generator: &generator))
    }

    func callAsFunction(_ x: Tensor) -> Tensor {
        (child("linear_2") as! any UnaryLayer)(gelu((child("linear_1") as! any UnaryLayer)(x), approximation: .erf))
    }
}
