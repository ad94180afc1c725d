import ChatTemplate
import Foundation
import HFTokenizers
import Kernel
import Transformer

/// A Hugging Face Qwen2-VL (`qwen2_vl`) or Qwen2.5-VL (`qwen2_5_vl`) checkpoint as a `Backbone`: `visual` (the
/// vision tower and its patch merger, `HFQwenVisionTransformer`) and a Qwen2 decoder with M-RoPE (`model`,
/// `lm_head`).
///
/// Parameter names are the Hub's original layout whatever the files use: `model.layers.0.self_attn.q_proj.weight`,
/// `lm_head.weight`, `visual.blocks.0.attn.qkv.weight`, `visual.merger.mlp.0.weight`. Checkpoints saved by
/// transformers >= 4.52 (`model.language_model.*`, `model.visual.*`) load under these names; an export writes each
/// tensor back under its name in the input.
///
/// Each image stands in the prompt as one `<|image_pad|>` (between `<|vision_start|>` and `<|vision_end|>`, as
/// the chat template writes it) that the model expands to its merged patches. Positions are M-RoPE's: text
/// tokens count on one by one on all three planes; an image's features take (start, start + row, start + column)
/// on the (temporal, height, width) planes, and the text after it starts at start + max(rows, columns)
/// (transformers' `get_rope_index`).
public final class HFQwen2VL: Module, HFImageTextBackbone {
    public let configuration: HFQwen2VLConfig
    /// The language model: tokenizer, chat template and decoder (its `model` and `lm_head` are this object's).
    public let text: HFCausalLM
    /// The checkpoint's image processor.
    public let preprocessor: HFImagePreprocessor
    /// Each parameter's name in the files it was loaded from (empty for a model made in code).
    public let sourceNames: [String: String]
    /// The directory the model was loaded from: an export copies its layout, dtypes and unchanged tensors.
    public internal(set) var sourceDirectory: URL?

    var tower: HFQwenVisionTransformer { child("visual") as! HFQwenVisionTransformer }

    init(
        configuration: HFQwen2VLConfig, text: HFCausalLM, preprocessor: HFImagePreprocessor,
        sourceNames: [String: String], generator: inout RandomGenerator
    ) {
        self.configuration = configuration
        self.text = text
        self.preprocessor = preprocessor
        self.sourceNames = sourceNames
        super.init()
        for (key, module) in text.children { registerChild(key, module) }
        registerChild("visual", HFQwenVisionTransformer(configuration.vision, generator: &generator))
    }

    // MARK: Loading

    /// Whether `directory` holds a Qwen2-VL or Qwen2.5-VL checkpoint.
    public static func recognizes(_ directory: URL) -> Bool { HFQwen2VLConfig.recognizes(directory) }

    /// For a backbone registry: loads checkpoint directories; there are no presets.
    public static let factory = BackboneFactory(
        presets: [],
        create: { preset, _, _ in
            throw HFCheckpointError(
                file: preset, key: nil,
                message: "Qwen2-VL models are loaded from a checkpoint directory (config.json, safetensors, "
                    + "tokenizer.json, preprocessor_config.json); there are no presets")
        },
        load: { try HFQwen2VL.load(directory: $0) },
        recognizes: { HFQwen2VL.recognizes($0) })

    /// The Hub-layout name of a tensor named `key` in a checkpoint of either layout.
    static func canonicalName(_ key: String) -> String {
        for (old, new) in [("model.language_model.", "model."), ("model.visual.", "visual.")] where key.hasPrefix(old) {
            return new + key.dropFirst(old.count)
        }
        return key
    }

    /// Loads a checkpoint directory: config.json, model.safetensors or shards (F32, F16 or BF16), tokenizer.json,
    /// preprocessor_config.json. Every problem is an error naming the file and key.
    public static func load(directory: URL, memoryLimit: UInt64 = MemoryBudget.limit) throws -> HFQwen2VL {
        let config = try HFQwen2VLConfig(directory: directory)
        let (weights, names) = try HFImageSplice.weights(
            directory: directory, float32Bytes: config.float32ParameterBytes, memoryLimit: memoryLimit,
            canonicalName: canonicalName)
        var textConfig = config.text
        if weights.entries["lm_head.weight"] == nil { textConfig.decoder.tieWordEmbeddings = true }
        let text = try HFImageSplice.languageModel(
            directory: directory, config: textConfig, placeholder: "<|image_pad|>", id: config.imageTokenID,
            configKey: "image_token_id")
        var generator = RandomGenerator(seed: 0)
        let preprocessor = try HFImagePreprocessor.load(directory)
        let model = HFQwen2VL(
            configuration: config, text: text, preprocessor: preprocessor, sourceNames: names, generator: &generator)
        try weights.load(into: model, ignoring: textConfig.decoder.tieWordEmbeddings ? ["lm_head.weight"] : [])
        model.sourceDirectory = directory
        text.sourceDirectory = directory
        return model
    }

    // MARK: Backbone

    public var family: String { configuration.modelType }
    public var imagePlaceholderID: Int32 { configuration.imageTokenID }

    public static let plainImageText = "<|vision_start|><|image_pad|><|vision_end|>"

    // MARK: Images

    /// The merged features of the images of one prompt, one [count, hidden] tensor per image. Images the
    /// processor refuses (empty, aspect ratio over 200) stop here: `expandImagePlaceholders` and the data loaders
    /// report them first, as errors.
    public func imageFeatures(_ images: [Image]) -> [Tensor] {
        guard !images.isEmpty else { return [] }
        let inputs = Self.processed { try preprocessor.inputs(images) }
        let merged = tower.features(pixels: inputs.pixelValues, grids: inputs.imageGridTHW)
        var out: [Tensor] = []
        var start = 0
        for count in inputs.imageTokens {
            out.append(merged.slice(axis: 0, start: start, end: start + count))
            start += count
        }
        return out
    }

    /// Feature positions each image takes, from the images' sizes (no pixel is processed).
    public func imageTokenCounts(_ images: [Image]) -> [Int] { Self.processed { try preprocessor.imageTokens(images) } }

    public func expandImagePlaceholders(_ tokens: [Int32], images: [Image]) throws -> [Int32] {
        try HFImageSplice.expand(tokens, placeholder: imagePlaceholderID, counts: preprocessor.imageTokens(images))
    }

    /// Each image's frames and (rows, columns) of merged features: its grid over the merge size.
    func featureGrids(_ images: [Image]) -> [(frames: Int, rows: Int, columns: Int)] {
        let m = configuration.vision.mergeSize
        return Self.processed { try preprocessor.imageGrids(images) }.map { ($0[0], $0[1] / m, $0[2] / m) }
    }

    /// The processor's result for images the callers checked already; a refusal here is a programming error.
    static func processed<T>(_ body: () throws -> T) -> T {
        do {
            return try body()
        } catch {
            preconditionFailure("HFQwen2VL: \(error)")
        }
    }

    /// M-RoPE positions (temporal, height, width) of one row's expanded positions, padded with positions that
    /// count on to `length` (right padding, which causal attention never lets a real token see).
    static func ropePositions(
        _ layout: [HFImageSplice.Position], grids: [(frames: Int, rows: Int, columns: Int)], length: Int
    ) -> [[Int]] {
        var planes = [[Int]](repeating: [], count: 3)
        var next = 0
        var imageStart: [Int: Int] = [:]
        for position in layout {
            guard let image = position.image else {
                for p in 0..<3 { planes[p].append(next) }
                next += 1
                continue
            }
            let start = imageStart[image] ?? next
            imageStart[image] = start
            let grid = grids[image]
            let perFrame = grid.rows * grid.columns
            let within = position.feature % perFrame
            planes[0].append(start + position.feature / perFrame)
            planes[1].append(start + within / grid.columns)
            planes[2].append(start + within % grid.columns)
            if position.feature == grid.frames * perFrame - 1 { next = start + max(grid.rows, grid.columns) }
        }
        while planes[0].count < length {
            for p in 0..<3 { planes[p].append(next) }
            next += 1
        }
        return planes
    }

    /// The M-RoPE position ids (temporal, height, width) of a prompt and its rope delta (the largest position + 1
    /// - the length: what generation adds to each new token's index), as transformers' `get_rope_index` gives
    /// them. `tokens` may hold one placeholder per image or be expanded already.
    public func ropeIndex(_ tokens: [Int32], images: [Image]) throws -> (positions: [[Int]], delta: Int) {
        let counts = try preprocessor.imageTokens(images)
        let expanded = try HFImageSplice.expand(tokens, placeholder: imagePlaceholderID, counts: counts)
        let layout = HFImageSplice.rowLayout(
            tokens: expanded[...], targets: nil, placeholder: imagePlaceholderID, textOffset: 0, featureOffset: 0,
            featureCounts: counts, family: label)
        let planes = Self.ropePositions(layout, grids: featureGrids(images), length: layout.count)
        let largest = planes.map { $0.max() ?? -1 }.max() ?? -1
        return (planes, largest + 1 - layout.count)
    }

    /// Input embeddings, re-aligned targets and M-RoPE positions ([B * T] per plane) of a batch.
    func inputs(
        tokens: [Int32], targets: [Int32]?, rows: Int, length: Int, lengths: [Int], imageLists: [[Image]]
    ) -> (embeddings: Tensor, targets: [Int32], positions: RotaryPositions) {
        let out = HFImageSplice.inputEmbeddings(
            text: text, placeholder: imagePlaceholderID, family: label, tokens: tokens,
            targets: targets, rows: rows, length: length, lengths: lengths, imageLists: imageLists,
            features: imageFeatures)
        var planes = [[Int]](repeating: [], count: 3)
        for (r, layout) in out.layouts.enumerated() {
            let rowPlanes = Self.ropePositions(layout, grids: featureGrids(imageLists[r]), length: out.length)
            for p in 0..<3 { planes[p] += rowPlanes[p] }
        }
        return (out.embeddings, out.targets, RotaryPositions(planes: planes))
    }

    public func forward(_ batch: Batch, observer: ((LayerObservation) -> Void)?) -> ModelOutput {
        let (x, targets, positions) = inputs(
            tokens: batch.tokens, targets: batch.targets, rows: batch.batchSize, length: batch.sequenceLength,
            lengths: batch.lengths, imageLists: batch.imageLists)
        let h = text.language.hiddenStates(x, positions: positions, observer: observer)
        return ModelOutput(logits: text.language.unembed(h), targets: targets)
    }

    public func forwardToHead(_ batch: Batch) -> HeadInput? {
        let (x, targets, positions) = inputs(
            tokens: batch.tokens, targets: batch.targets, rows: batch.batchSize, length: batch.sequenceLength,
            lengths: batch.lengths, imageLists: batch.imageLists)
        return HeadInput(
            hidden: text.language.hiddenStates(x, positions: positions), headWeight: text.language.lmHeadWeight,
            targets: targets)
    }

    public func generate(
        _ requests: [GenerationRequest], maxNewTokens: Int,
        onStep: ((_ request: Int, _ logits: UnsafeBufferPointer<Float>) -> Void)?
    ) -> [[Int32]] {
        let prompts = Autograd.withNoGrad {
            requests.map { request in
                let (x, _, positions) = inputs(
                    tokens: request.tokens, targets: nil, rows: 1, length: request.tokens.count,
                    lengths: [request.tokens.count], imageLists: [request.images])
                return (x.reshaped([-1, hiddenSize]), positions)
            }
        }
        return text.language.generateGreedy(
            prompts.map(\.0), maxNewTokens: maxNewTokens, endOfSequence: text.stopIDs,
            promptPositions: prompts.map(\.1), onStep: onStep)
    }

    public func copy() -> any Backbone { copyModel() }

    /// An independent deep copy with the same parameter values, trainable flags, mode and chat template.
    public func copyModel() -> HFQwen2VL {
        let textCopy = text.copyModel()
        var generator = RandomGenerator(seed: 0)
        let twin = HFQwen2VL(
            configuration: configuration, text: textCopy, preprocessor: preprocessor, sourceNames: sourceNames,
            generator: &generator)
        // The language model's values and flags came with `text.copyModel()`.
        HFImageSplice.finishCopy(of: self, into: twin, family: "HFQwen2VL", fromText: { !$0.hasPrefix("visual.") })
        twin.sourceDirectory = sourceDirectory
        return twin
    }
}

/// Writes the model in the layout, dtypes and key names of the checkpoint it was loaded from: each tensor under
/// its name in the input files, unchanged tensors byte for byte, config, tokenizer, chat template and processor
/// files carried over.
extension HFQwen2VL {
    public func exportCheckpoint(to directory: URL, options: CheckpointExportOptions) throws {
        guard let sourceDirectory else {
            throw HFCheckpointError(
                file: directory.path, key: nil,
                message: "only a Qwen2-VL model loaded from a checkpoint can be exported")
        }
        let renamed = namedParameters().map { (name: sourceNames[$0.name] ?? $0.name, tensor: $0.tensor) }
        let tiedHead = text.configuration.decoder.tieWordEmbeddings ? sourceNames["lm_head.weight"] : nil
        try HFCausalLM.exportWeights(
            renamed, sourceDirectory: sourceDirectory, modelType: configuration.modelType,
            mayBeAbsent: { $0 == tiedHead }, options: options, to: directory)
        try AtomicFile.write(
            try HFCausalLM.exportedConfig(sourceDirectory: sourceDirectory, made: [:], options),
            to: directory.appendingPathComponent("config.json"))
        try HFCausalLM.copyCompanionFiles(from: sourceDirectory, to: directory)
    }
}

extension HFQwen2VL {
    /// `visual.merger.*` -> `mm_projector.*`, `visual.*` -> `vision_tower.*`; the language model's names are
    /// already `model.*` and `lm_head.*`: the study's recipes mean the same parts here as on tiny-llava.
    public func componentPath(_ path: String) -> String {
        let merger = "visual.merger"
        if path == merger || path.hasPrefix(merger + ".") { return "mm_projector" + path.dropFirst(merger.count) }
        if path.hasPrefix("visual.") { return "vision_tower." + path.dropFirst("visual.".count) }
        return path
    }

    /// transformers >= 4.52 holds the decoder as `model.language_model` and the tower as `model.visual`: PEFT
    /// adapters name modules so.
    public func adapterModulePath(_ path: String) -> String {
        if path.hasPrefix("model.") { return "model.language_model." + path.dropFirst("model.".count) }
        if path.hasPrefix("visual.") { return "model." + path }
        return path
    }

    /// Adapter names of transformers >= 4.52 (`model.language_model.*`, `model.visual.*`) or older
    /// (`model.*`, `visual.*`).
    public func modulePath(fromAdapter name: String) -> String { Self.canonicalName(name) }
}

extension HFQwen2VL {
    /// A model with random weights for `config` (seeded): the language model with HF's N(0, 0.02) initialisation
    /// and the built-in byte-level tokenizer (it has no `<|image_pad|>` token: give prompts as ids), the vision
    /// tower with PyTorch's default linear initialisation. For speed measurements.
    public static func create(config: HFQwen2VLConfig, preprocessor: HFImagePreprocessor, seed: UInt64) throws
        -> HFQwen2VL
    {
        let text = try HFCausalLM.create(config: config.text, seed: seed)
        var generator = RandomGenerator(seed: seed).fork("qwen2vl.vision")
        let model = HFQwen2VL(
            configuration: config, text: text, preprocessor: preprocessor, sourceNames: [:], generator: &generator)
        let patch = model.tower.child("patch_embed")!.child("proj")!.parameter("weight")!
        generator.fillNormal(patch.data, count: patch.count, scale: 0.02)
        return model
    }
}

extension HFQwen2VL {
    /// Qwen2.5-VL-3B-Instruct's shape (its config.json and preprocessor_config.json): a Qwen2 decoder 2048 wide,
    /// 36 layers, 16 / 2 heads, SwiGLU 11008, vocabulary 151936, tied head, rope_theta 1e6, M-RoPE sections
    /// [16, 24, 24]; the vision tower 1280 wide, 32 blocks of 16 heads, SwiGLU 3420, 14-pixel patches over 2
    /// frames, 2 x 2 merge into 2048, 112-pixel windows except blocks 7, 15, 23 and 31; `<|image_pad|>` 151655;
    /// the processor's 3136 to 12845056 pixels, CLIP's mean and std, bicubic. For `create` (speed measurements).
    public static func qwen25VL3B() throws -> (config: HFQwen2VLConfig, preprocessor: HFImagePreprocessor) {
        let config = """
            {"model_type": "qwen2_5_vl", "image_token_id": 151655, "video_token_id": 151656,
             "vision_start_token_id": 151652, "vision_end_token_id": 151653, "tie_word_embeddings": true,
             "text_config": {"model_type": "qwen2_5_vl_text", "vocab_size": 151936, "hidden_size": 2048,
               "intermediate_size": 11008, "num_hidden_layers": 36, "num_attention_heads": 16,
               "num_key_value_heads": 2, "hidden_act": "silu", "rms_norm_eps": 1e-06,
               "max_position_embeddings": 128000, "tie_word_embeddings": true,
               "rope_parameters": {"rope_type": "default", "rope_theta": 1000000.0, "mrope_section": [16, 24, 24]}},
             "vision_config": {"model_type": "qwen2_5_vl_vision", "depth": 32, "hidden_size": 1280,
               "intermediate_size": 3420, "num_heads": 16, "out_hidden_size": 2048, "patch_size": 14,
               "temporal_patch_size": 2, "spatial_merge_size": 2, "window_size": 112,
               "fullatt_block_indexes": [7, 15, 23, 31], "hidden_act": "silu", "in_channels": 3,
               "tokens_per_second": 2}}
            """
        let processor = """
            {"image_processor_type": "Qwen2_5_VLImageProcessor", "min_pixels": 3136, "max_pixels": 12845056,
             "patch_size": 14, "temporal_patch_size": 2, "merge_size": 2, "do_convert_rgb": true,
             "do_normalize": true, "do_rescale": true, "do_resize": true, "resample": 3,
             "rescale_factor": 0.00392156862745098, "image_mean": [0.48145466, 0.4578275, 0.40821073],
             "image_std": [0.26862954, 0.26130258, 0.27577711]}
            """
        return (
            try HFQwen2VLConfig(data: Data(config.utf8)),
            HFImagePreprocessor(
                kind: .qwen2VL(try Qwen2VLImageProcessor.parse(Data(processor.utf8), file: "preprocessor_config.json")),
                defaultFeatureStrategy: false)
        )
    }
}
