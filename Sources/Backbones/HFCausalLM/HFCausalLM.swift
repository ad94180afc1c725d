import ChatTemplate
import Foundation
import HFTokenizers
import Kernel
import Transformer

/// A Hugging Face Qwen2 or Llama causal language model as a `Backbone`, loaded from a model directory
/// (`config.json`, safetensors weights, `tokenizer.json`) with exactly HF's parameter names:
/// `model.embed_tokens.weight`, `model.layers.0.self_attn.q_proj.weight`, ..., `lm_head.weight`.
///
/// The module tree is the decoder's own: this object's children are the `model` and `lm_head` modules of the
/// wrapped `CausalLanguageModel`, so names carry no extra prefix and replacing a module by path
/// (`model.layers.3.mlp`) changes what the decoder runs.
///
/// Text only: `encodePrompt(_, hasImage: true)`, a batch row with an image, or a generation request with an
/// image stop with a precondition failure. A study runner must not give image benchmarks to this backbone.
public final class HFCausalLM: Module, Backbone, ChatTemplating {
    /// The files beside the weights that `save(to:)` copies when the model was loaded with them.
    public static let companionFileNames = [
        "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
        "generation_config.json", "chat_template.jinja", "chat_template.json",
    ]

    public let configuration: HFModelConfig
    /// The decoder that does the work (it shares its `model` and `lm_head` modules with this object).
    public let language: CausalLanguageModel
    public let hfTokenizer: HFTokenizer
    /// Ids that end generation: the tokenizer's end-of-sequence ids, config.json's `eos_token_id`s and the
    /// end-of-answer token.
    public let endOfSequenceIDs: Set<Int32>
    /// The end-of-answer token without the chat template: tokenizer_config.json's `eos_token`, else
    /// config.json's first `eos_token_id`, else the tokenizer's smallest end-of-sequence id.
    public let plainEndOfAnswerID: Int32
    /// The checkpoint's chat template (chat_template.jinja, chat_template.json or tokenizer_config.json), or
    /// the ChatML default when it has none and the tokenizer has `<|im_start|>` and `<|im_end|>`; nil otherwise.
    public let template: ChatTemplate?
    /// The special tokens the template sees (`bos_token`, `eos_token`, ...), from tokenizer_config.json.
    public let templateSpecialTokens: [String: String]
    /// The token that ends an assistant turn in the template (`<|im_end|>`, Llama 3's `<|eot_id|>`, Gemma's
    /// `<end_of_turn>`), found by rendering a one-turn conversation; nil without a template or when the template
    /// writes no special token after the answer.
    public let endOfTurnID: Int32?
    /// The time `strftime_now` formats in templates (Llama 3.2 writes today's date); nil means now.
    public var chatTemplateDate: Date?
    /// Render prompts, conversations and answers with the chat template. Off by default; only with a template.
    public var useChatTemplate = false {
        didSet {
            precondition(
                !useChatTemplate || supportsChatTemplate,
                "HFCausalLM: this model has no chat template and its tokenizer has no <|im_start|>/<|im_end|>")
        }
    }
    /// The name this property had before chat templates were read from the checkpoint: `useChatTemplate`.
    public var chatTemplate: Bool {
        get { useChatTemplate }
        set { useChatTemplate = newValue }
    }
    /// Bytes of the companion files (tokenizer.json...), written again by `save(to:)`.
    let companionFiles: [(name: String, data: Data)]
    /// The directory the model was loaded from (nil for a model made in code): `exportCheckpoint` copies its
    /// layout, dtypes, config and tokenizer files, and the bytes of tensors that did not change.
    public internal(set) var sourceDirectory: URL?

    private init(
        configuration: HFModelConfig, language: CausalLanguageModel, tokenizer: HFTokenizer,
        companionFiles: [(name: String, data: Data)], endOfSequenceIDs: Set<Int32>, endOfAnswerID: Int32,
        chat: HFChatSetup
    ) {
        self.configuration = configuration
        self.language = language
        hfTokenizer = tokenizer
        self.companionFiles = companionFiles
        self.endOfSequenceIDs = endOfSequenceIDs
        plainEndOfAnswerID = endOfAnswerID
        template = chat.template
        templateSpecialTokens = chat.specialTokens
        endOfTurnID = chat.endOfTurnID
        super.init()
        for (key, module) in language.children { registerChild(key, module) }
    }

    // MARK: Loading and making

    /// Loads a Hugging Face model directory: config.json, model.safetensors (or shards with
    /// model.safetensors.index.json; F32, F16 or BF16, widened to Float32) and tokenizer.json.
    ///
    /// Every problem is an error naming the file and the key (`HFCheckpointError`, `TokenizerFileError`,
    /// `SafeTensorsError`). Checkpoints whose Float32 weights exceed `memoryLimit` bytes are refused before
    /// any weight is read.
    public static func load(
        directory: URL,
        memoryLimit: UInt64 = MemoryBudget.limit
    ) throws -> HFCausalLM {
        let config = try HFModelConfig(directory: directory)
        let weights = try HFCheckpointWeights(directory: directory)
        try weights.checkFitsInMemory(limit: memoryLimit)
        // The config alone decides what is allocated before the weights are compared with it.
        try MemoryBudget.check(
            float32Bytes: config.decoder.float32ParameterBytes,
            what: "the model described by \(directory.appendingPathComponent("config.json").path)",
            limit: memoryLimit)
        let tokenizerURL = directory.appendingPathComponent("tokenizer.json")
        guard FileManager.default.fileExists(atPath: tokenizerURL.path) else {
            throw HFCheckpointError(file: tokenizerURL.path, key: nil, message: "file not found (the tokenizer)")
        }
        let tokenizer = try HFTokenizer(directory: directory)
        try checkVocabulary(config, tokenizer, tokenizerSource: tokenizerURL.path)
        let files = try readCompanionFiles(directory)
        var generator = RandomGenerator(seed: 0)
        let language = makeLanguageModel(config, generator: &generator, randomize: false)
        try weights.load(into: language, ignoring: config.decoder.tieWordEmbeddings ? ["lm_head.weight"] : [])
        let model = try assemble(config, language, tokenizer, files, tokenizerSource: tokenizerURL.path)
        model.sourceDirectory = directory
        return model
    }

    /// The `companionFileNames` files `directory` has, read.
    static func readCompanionFiles(_ directory: URL) throws -> [(name: String, data: Data)] {
        var files: [(name: String, data: Data)] = []
        for name in companionFileNames {
            let url = directory.appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: url.path) else { continue }
            do {
                files.append((name, try Data(contentsOf: url)))
            } catch {
                throw HFCheckpointError(
                    file: url.path, key: nil, message: "cannot read the file (\(error.localizedDescription))")
            }
        }
        return files
    }

    /// A model with fresh HF-style random weights (N(0, 0.02) matrices) for `config`, seeded. Without a
    /// `tokenizerDirectory` it gets the byte-level tokenizer of `ByteLevelTokenizerFile` (vocab_size >= 259).
    public static func create(config: HFModelConfig, seed: UInt64, tokenizerDirectory: URL? = nil) throws -> HFCausalLM
    {
        var files: [(name: String, data: Data)] = []
        let tokenizer: HFTokenizer
        let source: String
        if let tokenizerDirectory {
            tokenizer = try HFTokenizer(directory: tokenizerDirectory)
            source = tokenizerDirectory.appendingPathComponent("tokenizer.json").path
            for name in ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"] {
                if let data = FileManager.default.contents(atPath: tokenizerDirectory.appendingPathComponent(name).path)
                {
                    files.append((name, data))
                }
            }
        } else {
            guard config.decoder.vocabularySize >= ByteLevelTokenizerFile.idCount else {
                throw HFCheckpointError(
                    file: "config.json", key: "vocab_size",
                    message: "vocab_size is \(config.decoder.vocabularySize); the built-in byte-level tokenizer "
                        + "needs at least \(ByteLevelTokenizerFile.idCount) (or give a tokenizer directory)")
            }
            files = [
                ("tokenizer.json", ByteLevelTokenizerFile.data()),
                ("tokenizer_config.json", ByteLevelTokenizerFile.configData()),
            ]
            tokenizer = try HFTokenizer(json: files[0].data, tokenizerConfig: files[1].data)
            source = "tokenizer.json (built-in byte-level)"
        }
        var generator = RandomGenerator(seed: seed)
        return try assemble(
            config, makeLanguageModel(config, generator: &generator), tokenizer, files,
            tokenizerSource: source)
    }

    /// Whether `directory` holds a config.json whose model_type this backbone loads.
    public static func recognizes(_ directory: URL) -> Bool {
        HFModelConfig.modelType(ofDirectory: directory).map(HFModelConfig.supportedModelTypes.contains) ?? false
    }

    /// A model with random weights of a preset's shape ("smollm2-135m") or of a config.json at the path `preset`.
    public static func create(preset: String, seed: UInt64) throws -> HFCausalLM {
        if preset == "smollm2-135m" { return try HFCausalLM.create(config: .smolLM2_135M, seed: seed) }
        let url = URL(fileURLWithPath: preset)
        let data = try ConfigJSON.read(url, purpose: "a preset name (smollm2-135m) or a config.json path")
        return try HFCausalLM.create(config: HFModelConfig(json: data), seed: seed)
    }

    /// For a backbone registry: presets are config shapes with random weights ("smollm2-135m") or a path
    /// to a config.json.
    public static let factory = BackboneFactory(
        presets: ["smollm2-135m"],
        create: { preset, seed, _ in try HFCausalLM.create(preset: preset, seed: seed) },
        load: { try HFCausalLM.load(directory: $0) },
        recognizes: { HFCausalLM.recognizes($0) })

    /// The decoder for `config`, with an `o_proj` bias for Llama's `attention_bias`.
    /// `randomize` false skips the N(0, 0.02) initialisation, for callers that overwrite every parameter.
    static func makeLanguageModel(
        _ config: HFModelConfig, generator: inout RandomGenerator,
        randomize: Bool = true
    ) -> CausalLanguageModel {
        let language = CausalLanguageModel(config.decoder, generator: &generator, initializeLikeHF: randomize)
        if config.outputProjectionBias {
            for i in 0..<config.decoder.layers {
                let attention = language.model.layer(i).attention
                let weight = attention.child("o_proj")!.parameter("weight")!
                attention.registerChild(
                    "o_proj", Linear(weight: weight, bias: Tensor(zeros: [weight.shape[0]], requiresGrad: true)))
            }
        }
        return language
    }

    /// Every id the tokenizer produces must have an embedding row.
    static func checkVocabulary(_ config: HFModelConfig, _ tokenizer: HFTokenizer, tokenizerSource: String)
        throws
    {
        let vocab = config.decoder.vocabularySize
        guard tokenizer.vocabularySize <= vocab else {
            throw HFCheckpointError(
                file: tokenizerSource, key: nil,
                message:
                    "the tokenizer has ids up to \(tokenizer.vocabularySize - 1) but config.json vocab_size is \(vocab)"
            )
        }
    }

    /// Checks the tokenizer against the config and settles the end-of-sequence ids.
    static func assemble(
        _ config: HFModelConfig, _ language: CausalLanguageModel, _ tokenizer: HFTokenizer,
        _ files: [(name: String, data: Data)], tokenizerSource: String
    ) throws -> HFCausalLM {
        try checkVocabulary(config, tokenizer, tokenizerSource: tokenizerSource)
        let vocab = config.decoder.vocabularySize
        var eosName: String?
        if let data = files.first(where: { $0.name == "tokenizer_config.json" })?.data {
            let json = try ConfigJSON.parse(data, file: "tokenizer_config.json")
            if let value = json.value("eos_token") {
                eosName = (value as? String) ?? ((value as? [String: Any])?["content"] as? String)
            }
        }
        let candidates =
            [eosName.flatMap(tokenizer.tokenID)] + config.endOfSequenceIDs.map { Optional($0) }
            + [tokenizer.endOfSequenceIDs.min()]
        guard let endOfAnswer = candidates.compactMap({ $0 }).first(where: { Int($0) < vocab }) else {
            throw HFCheckpointError(
                file: tokenizerSource, key: nil,
                message:
                    "no end-of-sequence token: set eos_token in tokenizer_config.json or eos_token_id in config.json")
        }
        let eos = tokenizer.endOfSequenceIDs.union(config.endOfSequenceIDs).union([endOfAnswer]).filter {
            Int($0) < vocab
        }
        let chat = try HFChatSetup(files: files, tokenizer: tokenizer, vocabularySize: vocab)
        return HFCausalLM(
            configuration: config, language: language, tokenizer: tokenizer, companionFiles: files,
            endOfSequenceIDs: eos, endOfAnswerID: endOfAnswer, chat: chat)
    }

    // MARK: Backbone

    public var family: String { configuration.modelType }
    public var tokenizer: any Tokenizer { hfTokenizer }
    public var decoderLayerCount: Int { configuration.decoder.layers }
    public var hiddenSize: Int { configuration.decoder.hiddenSize }
    public var vocabularySize: Int { configuration.decoder.vocabularySize }
    public var acceptsImages: Bool { false }

    /// The end-of-answer token: the template's end-of-turn token with the chat template on (when it has one),
    /// else `plainEndOfAnswerID`.
    public var endOfAnswerID: Int32 {
        useChatTemplate ? endOfTurnID ?? plainEndOfAnswerID : plainEndOfAnswerID
    }

    /// The prompt as given (no special tokens added), or with the chat template on, `[user: text]` rendered with
    /// the generation prompt. Text only: `hasImage` must be false.
    public func encodePrompt(_ text: String, hasImage: Bool) -> [Int32] {
        precondition(!hasImage, "HFCausalLM (\(family)) is a text-only backbone; it cannot take an image")
        guard useChatTemplate else { return hfTokenizer.encode(text) }
        return hfTokenizer.encode(renderOrStop([ChatMessage(role: "user", content: text)]))
    }

    /// With the chat template on, the whole conversation (system message, earlier turns, then `prompt`)
    /// rendered with the generation prompt; otherwise the plain default.
    public func encodeConversation(system: String?, history: [ChatTurn], prompt: String, hasImage: Bool) -> [Int32] {
        guard useChatTemplate else {
            return encodePlainConversation(system: system, history: history, prompt: prompt, hasImage: hasImage)
        }
        precondition(!hasImage, "HFCausalLM (\(family)) is a text-only backbone; it cannot take an image")
        var messages = system.map { [ChatMessage(role: "system", content: $0)] } ?? []
        for turn in history {
            messages += [
                ChatMessage(role: "user", content: turn.user), ChatMessage(role: "assistant", content: turn.assistant),
            ]
        }
        messages.append(ChatMessage(role: "user", content: prompt))
        return hfTokenizer.encode(renderOrStop(messages))
    }

    /// The answer's tokens followed by `endOfAnswerID`.
    public func encodeAnswer(_ text: String) -> [Int32] {
        hfTokenizer.encode(text) + [endOfAnswerID]
    }

    public func forward(_ batch: Batch, observer: ((LayerObservation) -> Void)?) -> ModelOutput {
        precondition(
            batch.images.allSatisfy { $0 == nil },
            "HFCausalLM (\(family)) is a text-only backbone; the batch has images")
        syncLanguageModel()
        let logits = language.logits(batch.tokens, batchSize: batch.batchSize, observer: observer)
        return ModelOutput(logits: logits, targets: batch.targets)
    }

    public func forwardToHead(_ batch: Batch) -> HeadInput? {
        precondition(
            batch.images.allSatisfy { $0 == nil },
            "HFCausalLM (\(family)) is a text-only backbone; the batch has images")
        syncLanguageModel()
        let x = language.embed(batch.tokens, batchSize: batch.batchSize)
        return HeadInput(
            hidden: language.hiddenStates(x, positions: Array(0..<x.shape[1])),
            headWeight: language.lmHeadWeight, targets: batch.targets)
    }

    public func generate(
        _ requests: [GenerationRequest], maxNewTokens: Int,
        onStep: ((_ request: Int, _ logits: UnsafeBufferPointer<Float>) -> Void)?
    ) -> [[Int32]] {
        precondition(
            requests.allSatisfy { $0.image == nil },
            "HFCausalLM (\(family)) is a text-only backbone; a generation request has an image")
        syncLanguageModel()
        let d = hiddenSize
        let prompts = Autograd.withNoGrad {
            requests.map { language.embed($0.tokens, batchSize: 1).reshaped([$0.tokens.count, d]) }
        }
        return language.generateGreedy(prompts, maxNewTokens: maxNewTokens, endOfSequence: stopIDs, onStep: onStep)
    }

    public func unembed(_ hidden: Tensor) -> Tensor {
        syncLanguageModel()
        return language.unembed(hidden)
    }

    /// Writes config.json (HF form, dtype float32), model.safetensors (F32, HF names; no lm_head.weight
    /// when tied) and the tokenizer files the model came with.
    public func save(to directory: URL) throws {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw HFCheckpointError(
                file: directory.path, key: nil,
                message: "cannot create the directory (\(error.localizedDescription))")
        }
        try AtomicFile.write(configuration.jsonData(), to: directory.appendingPathComponent("config.json"))
        try SafeTensors.write(
            namedParameters().map { ($0.name, $0.tensor) }, metadata: ["format": "pt"],
            to: directory.appendingPathComponent(HFCheckpointWeights.singleFileName))
        for (name, data) in companionFiles { try AtomicFile.write(data, to: directory.appendingPathComponent(name)) }
    }

    public func copy() -> any Backbone { copyModel() }

    /// An independent deep copy with the same parameter values, trainable flags, mode and chat template.
    /// The module structure must be the base model's (a model with replaced modules cannot be copied here).
    public func copyModel() -> HFCausalLM {
        syncLanguageModel()
        var generator = RandomGenerator(seed: 0)
        let fresh = Self.makeLanguageModel(configuration, generator: &generator, randomize: false)
        let source = namedParameters()
        let target = fresh.namedParameters()
        precondition(
            source.map(\.name) == target.map(\.name),
            "HFCausalLM.copy: the model's modules were replaced, so its structure is not the base model's")
        for (s, t) in zip(source, target) {
            t.tensor.data.update(from: s.tensor.data, count: s.tensor.count)
            t.tensor.requiresGrad = s.tensor.requiresGrad
        }
        let copy = HFCausalLM(
            configuration: configuration, language: fresh, tokenizer: hfTokenizer,
            companionFiles: companionFiles, endOfSequenceIDs: endOfSequenceIDs,
            endOfAnswerID: plainEndOfAnswerID,
            chat: HFChatSetup(template: template, specialTokens: templateSpecialTokens, endOfTurnID: endOfTurnID))
        copy.useChatTemplate = useChatTemplate
        copy.chatTemplateDate = chatTemplateDate
        copy.sourceDirectory = sourceDirectory
        copy.setTraining(isTraining)
        return copy
    }

    /// A strategy may have replaced `model` or `lm_head` on this object: hand the replacement to the decoder.
    func syncLanguageModel() {
        for (key, module) in children where language.child(key) !== module { language.registerChild(key, module) }
    }
}
