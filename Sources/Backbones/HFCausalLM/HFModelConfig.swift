import Foundation
import Transformer

/// The `config.json` of a Hugging Face Qwen2 or Llama causal language model, checked and turned into a
/// `DecoderConfig`.
///
/// Reads both rope forms: the older top-level `rope_theta` (with an optional `rope_scaling`) and the newer
/// `rope_parameters: {rope_theta, rope_type}` of transformers 5. Anything that would change the computation
/// and that the decoder does not implement (rope scaling, sliding windows, an activation other than silu,
/// MLP biases) is an error naming the key, never silently ignored.
///
/// The fields of the file are kept, so that `save` writes back what it read (with the dtype set to float32).
public struct HFModelConfig {
    /// `model_type` values this backbone loads. Each is exactly the Qwen2/Llama decoder: other names (mistral,
    /// qwen3, gemma...) differ in attention windows, norms or activations and are refused.
    public static let supportedModelTypes = ["qwen2", "llama"]

    /// "qwen2" or "llama".
    public var modelType: String
    /// The decoder's shape.
    public var decoder: DecoderConfig
    /// Llama's `attention_bias` also puts a bias on `o_proj` (Qwen2 has q/k/v biases only).
    public var outputProjectionBias: Bool
    /// `eos_token_id` (an id or a list), possibly empty.
    public var endOfSequenceIDs: [Int32]
    /// Whether the file used the newer `rope_parameters` form (kept when saving).
    public var usesRopeParameters: Bool
    /// Every field of the file as read (empty for a config made in code).
    var fields: [String: Any]

    /// A config made in code. Qwen2 always has q/k/v biases; Llama has none unless `attentionBias`.
    public init(modelType: String, decoder: DecoderConfig, endOfSequenceIDs: [Int32] = []) {
        precondition(
            Self.supportedModelTypes.contains(modelType),
            "HFModelConfig: model_type '\(modelType)'; supported: \(Self.supportedModelTypes.joined(separator: ", "))")
        self.modelType = modelType
        var decoder = decoder
        if modelType == "qwen2" { decoder.attentionBias = true }
        self.decoder = decoder
        outputProjectionBias = modelType == "llama" && decoder.attentionBias
        self.endOfSequenceIDs = endOfSequenceIDs
        usesRopeParameters = true
        fields = [:]
    }

    /// Reads `config.json` in `directory`.
    public init(directory: URL) throws {
        try self.init(json: ConfigJSON.modelConfig(in: directory))
    }

    /// Parses the bytes of a `config.json`; `file` names it in errors.
    public init(data: Data, file: String = "config.json") throws {
        try self.init(json: ConfigJSON.parse(data, file: file))
    }

    /// The `model_type` of `directory`'s config.json, or nil if there is none (for recognising a family).
    public static func modelType(ofDirectory directory: URL) -> String? {
        guard let json = try? ConfigJSON.read(directory.appendingPathComponent("config.json"), purpose: "") else {
            return nil
        }
        return try? json.optionalString("model_type")
    }

    init(json c: ConfigJSON) throws {
        guard let type = try c.optionalString("model_type") else {
            throw c.missing("model_type", " (supported: \(Self.supportedModelTypes.joined(separator: ", ")))")
        }
        guard Self.supportedModelTypes.contains(type) else {
            throw c.invalid(
                "model_type", "is \"\(type)\"; supported: \(Self.supportedModelTypes.joined(separator: ", "))")
        }
        modelType = type
        fields = c.values

        let hiddenAct = try c.optionalString("hidden_act") ?? "silu"
        guard hiddenAct == "silu" else { throw c.invalid("hidden_act", "is \"\(hiddenAct)\"; supported: silu") }

        let (theta, fromParameters, sections) = try Self.rope(c)
        usesRopeParameters = fromParameters

        let attentionBias: Bool
        if type == "qwen2" {
            attentionBias = true
            if try c.optionalBool("use_sliding_window") == true {
                throw c.invalid("use_sliding_window", "is true; only full attention is supported")
            }
            if let layerTypes = c.value("layer_types") {
                guard let names = layerTypes as? [String] else {
                    throw c.wrongType("layer_types", expected: "a list of strings", found: layerTypes)
                }
                if let other = names.first(where: { $0 != "full_attention" }) {
                    throw c.invalid("layer_types", "contains \"\(other)\"; only \"full_attention\" is supported")
                }
            }
            outputProjectionBias = false
        } else {
            attentionBias = try c.optionalBool("attention_bias") ?? false
            outputProjectionBias = attentionBias
            if try c.optionalBool("mlp_bias") == true {
                throw c.invalid("mlp_bias", "is true; MLP biases are not supported")
            }
        }

        let heads = try c.int("num_attention_heads")
        decoder = DecoderConfig(
            vocabularySize: try c.int("vocab_size"), hiddenSize: try c.int("hidden_size"),
            intermediateSize: try c.int("intermediate_size"), layers: try c.int("num_hidden_layers"), heads: heads,
            kvHeads: try c.optionalInt("num_key_value_heads") ?? heads, headDim: try c.optionalInt("head_dim"),
            ropeTheta: theta, rmsNormEps: try c.optionalDouble("rms_norm_eps") ?? 1e-6,
            attentionBias: attentionBias, tieWordEmbeddings: try c.optionalBool("tie_word_embeddings") ?? false,
            maxPositions: try c.optionalInt("max_position_embeddings") ?? (type == "qwen2" ? 32_768 : 2048),
            ropeSections: sections)
        if let problem = decoder.problems().first {
            throw HFCheckpointError(
                file: c.file, key: problem.split(separator: " ").first.map(String.init), message: problem)
        }
        endOfSequenceIDs = try c.tokenIDs("eos_token_id")
    }

    /// rope_theta from `rope_parameters` (newer) or the top level (older), and M-RoPE's `mrope_section` (Qwen2-VL:
    /// `rope_scaling: {"type": "mrope", ...}` or `rope_parameters: {"rope_type": "default", "mrope_section": ...}`);
    /// any other rope type but "default" is refused.
    private static func rope(_ c: ConfigJSON) throws -> (theta: Double, fromParameters: Bool, sections: [Int]?) {
        var sections: [Int]?
        func read(_ o: ConfigJSON) throws {
            if let list = try o.optionalIntList("mrope_section") { sections = list }
            let type = try o.optionalString("rope_type") ?? o.optionalString("type") ?? "default"
            guard type == "default" || (type == "mrope" && sections != nil) else {
                throw o.invalid(
                    o.has("rope_type") ? "rope_type" : "type",
                    "is \"\(type)\"; only \"default\" rotary embeddings (and Qwen2-VL's \"mrope\" with mrope_section) "
                        + "are supported (no rope scaling)")
            }
            if let factor = try o.optionalDouble("partial_rotary_factor"), factor != 1 {
                throw o.invalid("partial_rotary_factor", "is \(factor); only 1 is supported")
            }
        }
        if let scaling = try c.optionalObject("rope_scaling") { try read(scaling) }
        if let parameters = try c.optionalObject("rope_parameters") {
            try read(parameters)
            if let theta = try parameters.optionalDouble("rope_theta") { return (theta, true, sections) }
            if let theta = try c.optionalDouble("rope_theta") { return (theta, true, sections) }
            throw parameters.missing("rope_theta")
        }
        return (try c.optionalDouble("rope_theta") ?? 10_000, false, sections)
    }

    // MARK: Writing

    /// The config as Hugging Face writes it: the fields that were read, with the architecture fields set from
    /// `decoder` and `dtype` float32 (the weights are saved as F32).
    public func jsonObject() -> [String: Any] {
        var out = fields
        let d = decoder
        out["model_type"] = modelType
        if out["architectures"] == nil {
            out["architectures"] = [modelType == "qwen2" ? "Qwen2ForCausalLM" : "LlamaForCausalLM"]
        }
        out["vocab_size"] = d.vocabularySize
        out["hidden_size"] = d.hiddenSize
        out["intermediate_size"] = d.intermediateSize
        out["num_hidden_layers"] = d.layers
        out["num_attention_heads"] = d.heads
        out["num_key_value_heads"] = d.kvHeads
        out["head_dim"] = d.headDim
        out["rms_norm_eps"] = d.rmsNormEps
        out["tie_word_embeddings"] = d.tieWordEmbeddings
        out["max_position_embeddings"] = d.maxPositions
        out["hidden_act"] = "silu"
        if modelType == "llama" {
            out["attention_bias"] = d.attentionBias
            out["mlp_bias"] = false
        }
        if usesRopeParameters {
            out["rope_parameters"] = ["rope_theta": d.ropeTheta, "rope_type": "default"] as [String: Any]
            out["rope_theta"] = nil
        } else {
            out["rope_theta"] = d.ropeTheta
            out["rope_parameters"] = nil
        }
        out["dtype"] = "float32"
        if out["torch_dtype"] != nil { out["torch_dtype"] = "float32" }
        if !endOfSequenceIDs.isEmpty, out["eos_token_id"] == nil {
            out["eos_token_id"] =
                endOfSequenceIDs.count == 1 ? Int(endOfSequenceIDs[0]) as Any : endOfSequenceIDs.map { Int($0) }
        }
        return out
    }

    /// `jsonObject()` as pretty-printed JSON with sorted keys.
    public func jsonData() throws -> Data {
        try JSONSerialization.data(withJSONObject: jsonObject(), options: [.prettyPrinted, .sortedKeys])
    }

    // MARK: Presets

    /// SmolLM2-135M's shape (a Llama): for speed measurements with random weights.
    public static let smolLM2_135M = HFModelConfig(
        modelType: "llama",
        decoder: DecoderConfig(
            vocabularySize: 49_152, hiddenSize: 576, intermediateSize: 1536, layers: 30, heads: 9,
            kvHeads: 3, ropeTheta: 100_000, rmsNormEps: 1e-5, attentionBias: false,
            tieWordEmbeddings: true, maxPositions: 8192))
}
