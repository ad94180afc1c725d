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
    /// Whether prompts may carry an image (multimodal backbones); text-only backbones get the prompt text only.
    var acceptsImages: Bool { get }

    /// Tokens for a prompt (the user's text, with the model's template if it has one), ready to be continued.
    func encodePrompt(_ text: String, hasImage: Bool) -> [Int32]
    /// Tokens for the last user message of a conversation (an optional system message, earlier turns, then
    /// `prompt`), ready to be continued with the answer. Backbones with a chat template render the whole
    /// conversation with it; the default writes the earlier turns as plain lines before the prompt.
    func encodeConversation(system: String?, history: [ChatTurn], prompt: String, hasImage: Bool) -> [Int32]
    /// Tokens for a target answer, ending with the model's end-of-answer token.
    func encodeAnswer(_ text: String) -> [Int32]

    /// Logits for every position of `batch`. `observer`, if given, sees every decoder layer's attention and
    /// MLP outputs (before the residual add).
    func forward(_ batch: Batch, observer: ((LayerObservation) -> Void)?) -> ModelOutput

    /// Greedy decoding with a KV cache; returns only the new tokens of each request, stopping after an
    /// end-of-sequence token (which is included) or after `maxNewTokens`. `onStep(request, logits)` sees the
    /// logits [vocabularySize] from which each new token was chosen.
    func generate(
        _ requests: [GenerationRequest], maxNewTokens: Int,
        onStep: ((_ request: Int, _ logits: UnsafeBufferPointer<Float>) -> Void)?
    ) -> [[Int32]]

    /// Applies the output head (lm_head) to hidden states [..., hiddenSize] -> [..., vocabularySize].
    func unembed(_ hidden: Tensor) -> Tensor

    /// `forward` stopped before its head: the final hidden states of every position and the head's weight,
    /// for losses that fuse the head into themselves (`linearCrossEntropy` computes only the logits it needs,
    /// a chunk at a time). nil (the default) when the head is not one bias-free linear map.
    func forwardToHead(_ batch: Batch) -> HeadInput?

    /// Writes a checkpoint directory (config.json, model.safetensors, tokenizer file).
    func save(to directory: URL) throws

    /// An independent deep copy (same structure, copied parameter values, same trainable flags).
    func copy() -> any Backbone

    /// The name a parameter or module path has in SkillTune's component scheme, which recipes and strategies
    /// select by: the language model's `model.layers.N.*`, `model.embed_tokens`, `model.norm` and `lm_head`,
    /// the vision encoder's `vision_tower.*`, the projector's `mm_projector.*`. The default is the path itself,
    /// for models named that way; a model whose checkpoint nests them otherwise (a Hugging Face LLaVA's
    /// `language_model.model.layers.N`) maps its names here.
    func componentPath(_ path: String) -> String
    /// The module path of decoder layer `index` (`model.layers.3` by default).
    func decoderLayerPath(_ index: Int) -> String
    /// A module's path as transformers names it in memory, the name PEFT adapter files use
    /// (`base_model.model.<path>`); the module path itself by default.
    func adapterModulePath(_ path: String) -> String
    /// The module path of a module named `name` in an adapter file: the inverse of `adapterModulePath`, which
    /// may also accept older transformers' names; `name` itself by default.
    func modulePath(fromAdapter name: String) -> String
}

extension Backbone {
    public func forward(_ batch: Batch) -> ModelOutput { forward(batch, observer: nil) }

    public func componentPath(_ path: String) -> String { path }

    public func decoderLayerPath(_ index: Int) -> String { "model.layers.\(index)" }

    public func adapterModulePath(_ path: String) -> String { path }

    public func modulePath(fromAdapter name: String) -> String { name }

    /// Every parameter's name and shape, with its name in the component scheme, for memory estimates.
    public var parameterShapes: [ParameterShape] {
        namedParameters().map {
            ParameterShape(name: $0.name, shape: $0.tensor.shape, componentName: componentPath($0.name))
        }
    }

    public func forwardToHead(_ batch: Batch) -> HeadInput? { nil }

    public func encodeConversation(system: String?, history: [ChatTurn], prompt: String, hasImage: Bool) -> [Int32] {
        encodePlainConversation(system: system, history: history, prompt: prompt, hasImage: hasImage)
    }

    /// The default conversation encoding: the system message and earlier turns as plain lines before the prompt,
    /// through `encodePrompt`. Backbones with a chat template use it when the template is off.
    public func encodePlainConversation(system: String?, history: [ChatTurn], prompt: String, hasImage: Bool) -> [Int32]
    {
        guard system != nil || !history.isEmpty else { return encodePrompt(prompt, hasImage: hasImage) }
        var lines: [String] = system.map { [$0] } ?? []
        for turn in history { lines += [turn.user, turn.assistant] }
        // The image placeholder, if any, stays at the front of the text.
        let placeholder = "<image>"
        if hasImage && prompt.hasPrefix(placeholder) {
            let rest = prompt.dropFirst(placeholder.count).trimmingCharacters(in: .whitespacesAndNewlines)
            return encodePrompt(placeholder + "\n" + (lines + [rest]).joined(separator: "\n"), hasImage: true)
        }
        return encodePrompt((lines + [prompt]).joined(separator: "\n"), hasImage: hasImage)
    }

    /// The prompt tokens for an example: its conversation, with its image for backbones that read images; a
    /// text-only backbone gets the text without the image placeholder, in the prompt and in every earlier user
    /// turn (a LLaVA conversation puts `<image>` in its first human turn).
    public func encodePrompt(for example: Example) -> [Int32] {
        guard acceptsImages else {
            func withoutImage(_ text: String) -> String {
                text.replacingOccurrences(of: "<image>", with: "").trimmingCharacters(in: .whitespacesAndNewlines)
            }
            let history = example.history.map { ChatTurn(user: withoutImage($0.user), assistant: $0.assistant) }
            return encodeConversation(
                system: example.system, history: history, prompt: withoutImage(example.prompt), hasImage: false)
        }
        return encodeConversation(
            system: example.system, history: example.history, prompt: example.prompt,
            hasImage: example.image != nil)
    }

    public func generate(_ requests: [GenerationRequest], maxNewTokens: Int) -> [[Int32]] {
        generate(requests, maxNewTokens: maxNewTokens, onStep: nil)
    }
}

/// What a backbone's forward pass feeds its output head: `forward(batch).logits` is
/// `linear(hidden, headWeight)` (up to the GEMM's rounding of a row, which does not depend on the other rows).
public struct HeadInput {
    /// [batchSize, positions, hiddenSize].
    public var hidden: Tensor
    /// [vocabularySize, hiddenSize]: `lm_head.weight`, or the embedding matrix when tied.
    public var headWeight: Tensor
    /// [batchSize * positions] labels, `Batch.ignoreIndex` where no loss is taken (as `ModelOutput.targets`).
    public var targets: [Int32]

    public init(hidden: Tensor, headWeight: Tensor, targets: [Int32]) {
        self.hidden = hidden
        self.headWeight = headWeight
        self.targets = targets
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

    public init(
        presets: [String],
        create: @escaping (String, UInt64, [String]) throws -> any Backbone,
        load: @escaping (URL) throws -> any Backbone,
        recognizes: @escaping (URL) -> Bool
    ) {
        self.presets = presets
        self.create = create
        self.load = load
        self.recognizes = recognizes
    }
}
