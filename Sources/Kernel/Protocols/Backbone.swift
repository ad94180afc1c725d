import Foundation

/// A model a strategy can tune: named parameters (HF dotted names), a forward pass, greedy generation,
/// a tokenizer, and a checkpoint format. A recipe is a predicate on `namedParameters()` names.
///
/// Conformers are `Module`s, so freezing, loading and replacing sub-modules work by name on every backbone.
public protocol Backbone: Module {
    /// The registry name of the model family ("tiny-llava", "qwen2", "llama").
    var family: String { get }
    var tokenizer: any Tokenizer { get }
    /// Number of decoder (language model) layers, for per-layer probes.
    var decoderLayerCount: Int { get }
    /// Width of the language model's residual stream.
    var hiddenSize: Int { get }
    /// Number of logits per position.
    var vocabularySize: Int { get }

    /// Tokens for a prompt (the user's text, with the model's template if it has one), ready to be continued.
    func encodePrompt(_ text: String, hasImage: Bool) -> [Int32]
    /// Tokens for a target answer, ending with the model's end-of-answer token.
    func encodeAnswer(_ text: String) -> [Int32]

    /// Logits for every position of `batch`. `observer`, if given, sees every decoder layer's attention and
    /// MLP outputs (before the residual add).
    func forward(_ batch: Batch, observer: ((LayerObservation) -> Void)?) -> ModelOutput

    /// Greedy decoding with a KV cache; returns only the new tokens of each request, stopping after an
    /// end-of-sequence token (which is included) or after `maxNewTokens`. `onStep(request, logits)` sees the
    /// logits [vocabularySize] from which each new token was chosen.
    func generate(_ requests: [GenerationRequest], maxNewTokens: Int,
                  onStep: ((_ request: Int, _ logits: UnsafeBufferPointer<Float>) -> Void)?) -> [[Int32]]

    /// Applies the output head (lm_head) to hidden states [..., hiddenSize] -> [..., vocabularySize].
    func unembed(_ hidden: Tensor) -> Tensor

    /// Writes a checkpoint directory (config.json, model.safetensors, tokenizer file).
    func save(to directory: URL) throws

    /// An independent deep copy (same structure, copied parameter values, same trainable flags).
    func copy() -> any Backbone
}

extension Backbone {
    public func forward(_ batch: Batch) -> ModelOutput { forward(batch, observer: nil) }

    public func generate(_ requests: [GenerationRequest], maxNewTokens: Int) -> [[Int32]] {
        generate(requests, maxNewTokens: maxNewTokens, onStep: nil)
    }
}

/// How a registry makes and loads one backbone family.
public struct BackboneFactory {
    /// Builds a freshly initialised model from a named preset ("tiny", "small") or a config file path.
    /// `vocabulary` lists the words of every benchmark in the study, for backbones whose tokenizer is built
    /// from the data (word-level); backbones with their own tokenizer ignore it.
    public var create: (_ preset: String, _ seed: UInt64, _ vocabulary: [String]) throws -> any Backbone
    /// Loads a checkpoint directory written by `save(to:)` (or the family's native format).
    public var load: (_ directory: URL) throws -> any Backbone
    /// Whether a checkpoint directory belongs to this family (by its config.json).
    public var recognizes: (_ directory: URL) -> Bool
    /// Preset names this family offers.
    public var presets: [String]

    public init(presets: [String],
                create: @escaping (String, UInt64, [String]) throws -> any Backbone,
                load: @escaping (URL) throws -> any Backbone,
                recognizes: @escaping (URL) -> Bool) {
        self.presets = presets
        self.create = create
        self.load = load
        self.recognizes = recognizes
    }
}
