import Foundation
import Kernel
import Transformer

/// The `config.json` of a LLaVA-1.5 (`llava`) or LLaVA-OneVision (`llava_onevision`) checkpoint: the text
/// model's config (`text_config`, a Qwen2 or Llama decoder), the vision tower's (`vision_config`) and how image
/// features reach the language model.
public struct HFLLaVAConfig {
    public static let supportedModelTypes = ["llava", "llava_onevision"]

    /// "llava" or "llava_onevision".
    public var modelType: String
    public var text: HFModelConfig
    public var vision: HFVisionConfig
    /// The `<image>` placeholder's id (`image_token_index`, or `image_token_id`).
    public var imageTokenID: Int32
    /// Hidden states of the vision tower the features come from, as indices into transformers'
    /// `hidden_states` made non-negative (0: the embeddings; `layers`: the last layer); several are concatenated.
    public var featureLayers: [Int]
    /// "default" drops each tile's first feature (CLIP's class token); "full" keeps every one.
    public var dropsFirstFeature: Bool
    /// LLaVA-OneVision's `image_grid_pinpoints` ([height, width] in pixels).
    public var gridPinpoints: [[Int]]
    /// LLaVA-OneVision's `anyres_max_N`: N.
    public var maxTiles: Int
    /// Whether the projector's linears have biases (`multimodal_projector_bias`).
    public var projectorBias: Bool

    public var isOneVision: Bool { modelType == "llava_onevision" }
    /// Encoder layers the features need.
    public var builtVisionLayers: Int { featureLayers.max() ?? 0 }
    /// Width of the projector's input.
    public var featureWidth: Int { vision.hiddenSize * featureLayers.count }

    /// The `model_type` of `directory`'s config.json if it is one this backbone loads.
    public static func recognizes(_ directory: URL) -> Bool {
        HFModelConfig.modelType(ofDirectory: directory).map(supportedModelTypes.contains) ?? false
    }

    public init(directory: URL) throws {
        try self.init(json: ConfigJSON.modelConfig(in: directory))
    }

    /// Parses the bytes of a `config.json`; `file` names it in errors.
    public init(data: Data, file: String = "config.json") throws {
        try self.init(json: ConfigJSON.parse(data, file: file))
    }

    init(json c: ConfigJSON) throws {
        let type = try c.optionalString("model_type") ?? "?"
        guard Self.supportedModelTypes.contains(type) else {
            throw c.invalid(
                "model_type", "is \"\(type)\"; supported: \(Self.supportedModelTypes.joined(separator: ", "))")
        }
        modelType = type
        guard let textJSON = try c.optionalObject("text_config") else { throw c.missing("text_config") }
        var textValues = textJSON.values
        if textValues["model_type"] == nil { textValues["model_type"] = type == "llava" ? "llama" : "qwen2" }
        text = try HFModelConfig(json: ConfigJSON(file: c.file, path: textJSON.path, values: textValues))
        guard let visionJSON = try c.optionalObject("vision_config") else { throw c.missing("vision_config") }
        vision = try HFVisionConfig(json: visionJSON)
        guard let image = try c.optionalInt("image_token_index") ?? c.optionalInt("image_token_id") else {
            throw c.missing("image_token_index", " (the <image> placeholder's id)")
        }
        guard image >= 0, image < text.decoder.vocabularySize else {
            throw c.invalid(
                "image_token_index",
                "is \(image); expected an id below text_config.vocab_size \(text.decoder.vocabularySize)")
        }
        imageTokenID = Int32(image)
        let layers = vision.layers
        let rawLayers: [Int]
        if let list = c.value("vision_feature_layer") as? [Any] {
            rawLayers = try list.map { item in
                guard let n = item as? NSNumber, let i = Int(exactly: n.doubleValue) else {
                    throw c.wrongType("vision_feature_layer", expected: "a layer index or a list of them", found: list)
                }
                return i
            }
        } else {
            rawLayers = [try c.optionalInt("vision_feature_layer") ?? (type == "llava" ? -2 : -1)]
        }
        featureLayers = try rawLayers.map { raw in
            let index = raw < 0 ? layers + 1 + raw : raw
            guard (0...layers).contains(index) else {
                throw c.invalid(
                    "vision_feature_layer",
                    "is \(raw); the vision tower has \(layers) layers (indices -\(layers + 1)...\(layers))")
            }
            return index
        }
        guard !featureLayers.isEmpty else { throw c.invalid("vision_feature_layer", "is an empty list") }
        let strategy = try c.optionalString("vision_feature_select_strategy") ?? (type == "llava" ? "default" : "full")
        guard strategy == "default" || strategy == "full" else {
            throw c.invalid("vision_feature_select_strategy", "is \"\(strategy)\"; expected \"default\" or \"full\"")
        }
        dropsFirstFeature = strategy == "default"
        let act = try c.optionalString("projector_hidden_act") ?? "gelu"
        guard act == "gelu" else { throw c.invalid("projector_hidden_act", "is \"\(act)\"; supported: gelu") }
        projectorBias = try c.optionalBool("multimodal_projector_bias") ?? true
        guard projectorBias else {
            throw c.invalid("multimodal_projector_bias", "is false; only projectors with biases are supported")
        }
        if type == "llava_onevision" {
            gridPinpoints = try AnyResImageProcessor.gridPinpoints(c) ?? AnyResImageProcessor.defaultPinpoints
            let aspect = try c.optionalString("vision_aspect_ratio") ?? "anyres_max_9"
            guard aspect.hasPrefix("anyres_max_"), let n = Int(aspect.dropFirst("anyres_max_".count)), n > 0 else {
                throw c.invalid("vision_aspect_ratio", "is \"\(aspect)\"; expected anyres_max_N")
            }
            maxTiles = n
            guard !dropsFirstFeature else {
                throw c.invalid(
                    "vision_feature_select_strategy",
                    "is \"default\"; LLaVA-OneVision's tiles need every feature (\"full\"), as transformers does")
            }
            for pair in gridPinpoints where pair[0] % vision.imageSize != 0 || pair[1] % vision.imageSize != 0 {
                throw c.invalid(
                    "image_grid_pinpoints",
                    "has \(pair), not a multiple of vision_config.image_size \(vision.imageSize)")
            }
        } else {
            gridPinpoints = []
            maxTiles = 1
        }
    }

    /// Float32 bytes of the model's parameters, checked against memory before anything is allocated.
    public var float32ParameterBytes: UInt64 {
        let d = Double(text.decoder.hiddenSize)
        let projector = 4 * (Double(vision.hiddenSize) * Double(featureLayers.count) * d + d * d + 3 * d)
        let text = Double(text.decoder.float32ParameterBytes ?? UInt64(1e18))
        return UInt64(min(text + Double(vision.float32ParameterBytes) + projector, 1e18))
    }
}
