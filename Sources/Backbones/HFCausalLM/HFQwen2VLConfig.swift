import Foundation
import Kernel
import Transformer

/// The `config.json` of a Qwen2-VL (`qwen2_vl`) or Qwen2.5-VL (`qwen2_5_vl`) checkpoint: the language model's
/// config (`text_config` as transformers 5 writes it, or the top-level fields of the Hub's original files; a
/// Qwen2 decoder with M-RoPE's `mrope_section`), the vision tower's (`vision_config`) and the image token.
public struct HFQwen2VLConfig {
    public static let supportedModelTypes = ["qwen2_vl", "qwen2_5_vl"]

    /// "qwen2_vl" or "qwen2_5_vl".
    public var modelType: String
    public var text: HFModelConfig
    public var vision: HFQwenVisionConfig
    /// `<|image_pad|>`'s id (`image_token_id`).
    public var imageTokenID: Int32

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
        guard Self.supportedModelTypes.contains(type), let kind = HFQwenVisionConfig.Kind(rawValue: type) else {
            throw c.invalid(
                "model_type", "is \"\(type)\"; supported: \(Self.supportedModelTypes.joined(separator: ", "))")
        }
        modelType = type
        // transformers 5 nests the language model's fields in text_config; the Hub's files have them on top.
        let textJSON: ConfigJSON
        if let nested = try c.optionalObject("text_config") {
            var values = nested.values
            for key in ["tie_word_embeddings", "eos_token_id"] where values[key] == nil { values[key] = c.values[key] }
            textJSON = ConfigJSON(file: c.file, path: nested.path, values: values)
        } else {
            var values = c.values
            values["vision_config"] = nil
            textJSON = ConfigJSON(file: c.file, path: c.path, values: values)
        }
        var values = textJSON.values
        values["model_type"] = "qwen2"
        if let tie = c.values["tie_word_embeddings"] { values["tie_word_embeddings"] = tie }
        text = try HFModelConfig(json: ConfigJSON(file: c.file, path: textJSON.path, values: values))
        guard text.decoder.ropeSections != nil else {
            throw textJSON.missing(
                "rope_scaling.mrope_section", " (M-RoPE's sections; Qwen2-VL models need them, e.g. [16, 24, 24])")
        }
        guard let visionJSON = try c.optionalObject("vision_config") else { throw c.missing("vision_config") }
        vision = try HFQwenVisionConfig(json: visionJSON, kind: kind, textHidden: text.decoder.hiddenSize)
        guard let image = try c.optionalInt("image_token_id") ?? textJSON.optionalInt("image_token_id") else {
            throw c.missing("image_token_id", " (the <|image_pad|> placeholder's id)")
        }
        guard image >= 0, image < text.decoder.vocabularySize else {
            throw c.invalid(
                "image_token_id", "is \(image); expected an id below vocab_size \(text.decoder.vocabularySize)")
        }
        imageTokenID = Int32(image)
    }

    /// Float32 bytes of the model's parameters, checked against memory before anything is allocated.
    public var float32ParameterBytes: UInt64 {
        let text = Double(text.decoder.float32ParameterBytes ?? UInt64(1e18))
        return UInt64(min(text + Double(vision.float32ParameterBytes), 1e18))
    }
}
