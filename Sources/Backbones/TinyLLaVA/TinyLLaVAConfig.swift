import Foundation
import Kernel
import Transformer

/// The vision tower's shape (a CLIP/SigLIP-like ViT).
public struct VisionConfig: Codable, Equatable, Sendable {
    public var imageSize: Int
    public var patchSize: Int
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var layers: Int
    public var heads: Int
    public var layerNormEps: Double

    public init(
        imageSize: Int, patchSize: Int, hiddenSize: Int, intermediateSize: Int, layers: Int, heads: Int,
        layerNormEps: Double = 1e-5
    ) {
        self.imageSize = imageSize
        self.patchSize = patchSize
        self.hiddenSize = hiddenSize
        self.intermediateSize = intermediateSize
        self.layers = layers
        self.heads = heads
        self.layerNormEps = layerNormEps
    }

    public var patchesPerSide: Int { imageSize / patchSize }
    public var patchCount: Int { patchesPerSide * patchesPerSide }

    enum CodingKeys: String, CodingKey {
        case imageSize = "image_size"
        case patchSize = "patch_size"
        case hiddenSize = "hidden_size"
        case intermediateSize = "intermediate_size"
        case layers = "num_hidden_layers"
        case heads = "num_attention_heads"
        case layerNormEps = "layer_norm_eps"
    }

    public func problems() -> [String] {
        var out: [String] = []
        for (k, v) in [
            ("image_size", imageSize), ("patch_size", patchSize), ("hidden_size", hiddenSize),
            ("intermediate_size", intermediateSize), ("num_hidden_layers", layers),
            ("num_attention_heads", heads),
        ] where v <= 0 {
            out.append("vision_config.\(k) must be > 0, got \(v)")
        }
        if patchSize > 0 && imageSize % patchSize != 0 {
            out.append("vision_config.image_size (\(imageSize)) must be a multiple of patch_size (\(patchSize))")
        }
        if heads > 0 && hiddenSize % heads != 0 {
            out.append("vision_config.hidden_size (\(hiddenSize)) must be a multiple of num_attention_heads (\(heads))")
        }
        return out
    }
}

/// The whole model's shape, saved as `config.json` (model_type "tiny-llava").
public struct TinyLLaVAConfig: Codable, Equatable, Sendable {
    public var modelType = "tiny-llava"
    public var preset: String
    public var vision: VisionConfig
    public var text: DecoderConfig
    /// "mlp2x_gelu" (LLaVA's projector: linear, GELU, linear).
    public var projectorType = "mlp2x_gelu"

    public init(preset: String, vision: VisionConfig, text: DecoderConfig) {
        self.preset = preset
        self.vision = vision
        self.text = text
    }

    enum CodingKeys: String, CodingKey {
        case modelType = "model_type"
        case preset
        case vision = "vision_config"
        case text = "text_config"
        case projectorType = "mm_projector_type"
    }

    public func problems() -> [String] {
        var out = vision.problems() + text.problems().map { "text_config: " + $0 }
        if modelType != "tiny-llava" { out.append("model_type must be \"tiny-llava\", got \"\(modelType)\"") }
        if projectorType != "mlp2x_gelu" {
            out.append("mm_projector_type must be \"mlp2x_gelu\", got \"\(projectorType)\"")
        }
        return out
    }

    /// Preset names, smallest first.
    public static let presetNames = ["tiny", "quick", "small"]

    /// A named size. `vocabularySize` comes from the tokenizer.
    /// - tiny: for tests, well under 100k parameters.
    /// - quick: for smoke runs of the whole study (about a minute).
    /// - small: the default for experiments. Its head is tied to the word embeddings, as in Qwen2-0.5B (the study's
    ///   language model): what the base learns to say about a picture ("a tree at the top left") then also shapes
    ///   how it reads the same words in a question (pretrained base, held-out mean 75.2 untied -> 80.5 tied, one
    ///   9600-step run each, all else equal).
    public static func preset(_ name: String, vocabularySize: Int) throws -> TinyLLaVAConfig {
        switch name {
        case "tiny":
            return TinyLLaVAConfig(
                preset: name,
                vision: VisionConfig(
                    imageSize: 32, patchSize: 8, hiddenSize: 16, intermediateSize: 32, layers: 1, heads: 2),
                text: DecoderConfig(
                    vocabularySize: vocabularySize, hiddenSize: 32, intermediateSize: 64, layers: 2,
                    heads: 4, kvHeads: 2, ropeTheta: 10_000, tieWordEmbeddings: true, maxPositions: 256))
        case "quick":
            return TinyLLaVAConfig(
                preset: name,
                vision: VisionConfig(
                    imageSize: 32, patchSize: 8, hiddenSize: 48, intermediateSize: 96, layers: 1, heads: 2),
                text: DecoderConfig(
                    vocabularySize: vocabularySize, hiddenSize: 64, intermediateSize: 160, layers: 2,
                    heads: 4, kvHeads: 2, ropeTheta: 10_000, maxPositions: 256))
        case "small":
            return TinyLLaVAConfig(
                preset: name,
                vision: VisionConfig(
                    imageSize: 32, patchSize: 8, hiddenSize: 96, intermediateSize: 192, layers: 2, heads: 4),
                text: DecoderConfig(
                    vocabularySize: vocabularySize, hiddenSize: 128, intermediateSize: 352, layers: 4,
                    heads: 4, kvHeads: 2, ropeTheta: 10_000, tieWordEmbeddings: true, maxPositions: 512))
        default:
            throw TinyLLaVAError.unknownPreset(name, known: presetNames)
        }
    }
}

public enum TinyLLaVAError: Error, CustomStringConvertible {
    case unknownPreset(String, known: [String])
    case badConfig(file: String, problems: [String])
    case unreadable(file: String, reason: String)

    public var description: String {
        switch self {
        case .unknownPreset(let name, let known):
            return
                "unknown tiny-llava preset '\(name)'; presets: \(known.joined(separator: ", ")) (or a config.json path)"
        case .badConfig(let file, let problems):
            return "\(file): " + problems.joined(separator: "; ")
        case .unreadable(let file, let reason):
            return "\(file): \(reason)"
        }
    }
}
