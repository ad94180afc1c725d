import ChatTemplate
import Foundation
import HFTokenizers
import Kernel
import Transformer

/// A Hugging Face LLaVA-1.5 (`llava`) or LLaVA-OneVision (`llava_onevision`) checkpoint as a `Backbone`:
/// `vision_tower` (CLIP or SigLIP) -> `multi_modal_projector` -> `language_model` (a Qwen2 or Llama decoder,
/// an `HFCausalLM`), with LLaVA-OneVision's `image_newline`.
///
/// Parameter names are the Hub's layout whatever the files use: `language_model.model.layers.0.mlp.up_proj.weight`,
/// `language_model.lm_head.weight`, `vision_tower.vision_model.encoder.layers.0...`, `multi_modal_projector.linear_1
/// .weight`, `image_newline`. Checkpoints saved by transformers >= 4.52 (`model.language_model.*`, `lm_head.*`) and
/// by transformers 5 (`vision_tower.*` without `vision_model.`) load under these names; an export writes each tensor
/// back under its name in the input.
///
/// Each image of a prompt stands as one `<image>` token that the model expands to its features: LLaVA-1.5's
/// patches (less CLIP's class token for the "default" strategy); LLaVA-OneVision's anyres tiles for an image alone
/// in its prompt (`AnyResPacking`), one square tile and a newline for each of several. Ids already expanded the
/// way transformers' processor expands them are taken as they are.
public final class HFLLaVA: Module, HFImageTextBackbone {
    public let configuration: HFLLaVAConfig
    /// The language model: tokenizer, chat template and decoder.
    public let text: HFCausalLM
    /// The checkpoint's image processor.
    public let preprocessor: HFImagePreprocessor
    /// Each parameter's name in the files it was loaded from (empty for a model made in code).
    public let sourceNames: [String: String]
    /// The directory the model was loaded from: an export copies its layout, dtypes and unchanged tensors.
    public internal(set) var sourceDirectory: URL?

    var tower: HFVisionTransformer { child("vision_tower")!.child("vision_model") as! HFVisionTransformer }
    var projector: any UnaryLayer { child("multi_modal_projector") as! any UnaryLayer }

    init(
        configuration: HFLLaVAConfig, text: HFCausalLM, preprocessor: HFImagePreprocessor,
        sourceNames: [String: String], generator: inout RandomGenerator
    ) {
        self.configuration = configuration
        self.text = text
        self.preprocessor = preprocessor
        self.sourceNames = sourceNames
        super.init()
        let c = configuration
        let holder = Module()
        holder.registerChild(
            "vision_model", HFVisionTransformer(c.vision, builtLayers: c.builtVisionLayers, generator: &generator))
        registerChild("vision_tower", holder)
        registerChild(
            "multi_modal_projector",
            MultiModalProjector(from: c.featureWidth, to: c.text.decoder.hiddenSize, generator: &generator))
        registerChild("language_model", text)
        if c.isOneVision {
            registerParameter("image_newline", Tensor(zeros: [c.text.decoder.hiddenSize], requiresGrad: true))
        }
    }

    // MARK: Loading

    /// Whether `directory` holds a LLaVA or LLaVA-OneVision checkpoint.
    public static func recognizes(_ directory: URL) -> Bool { HFLLaVAConfig.recognizes(directory) }

    /// For a backbone registry: loads checkpoint directories; there are no presets.
    public static let factory = BackboneFactory(
        presets: [],
        create: { preset, _, _ in
            throw HFCheckpointError(
                file: preset, key: nil,
                message: "LLaVA models are loaded from a checkpoint directory (config.json, safetensors, "
                    + "tokenizer.json, preprocessor_config.json); there are no presets")
        },
        load: { try HFLLaVA.load(directory: $0) },
        recognizes: { HFLLaVA.recognizes($0) })

    /// The Hub-layout name of a tensor named `key` in a checkpoint of any layout.
    static func canonicalName(_ key: String) -> String {
        var name = key
        let renames = [
            ("model.language_model.", "language_model.model."), ("model.vision_tower.", "vision_tower."),
            ("model.multi_modal_projector.", "multi_modal_projector."), ("lm_head.", "language_model.lm_head."),
        ]
        if name == "model.image_newline" { return "image_newline" }
        for (old, new) in renames where name.hasPrefix(old) {
            name = new + name.dropFirst(old.count)
            break
        }
        if name.hasPrefix("vision_tower."), !name.hasPrefix("vision_tower.vision_model.") {
            name = "vision_tower.vision_model." + name.dropFirst("vision_tower.".count)
        }
        return name
    }

    /// Loads a checkpoint directory: config.json, model.safetensors or shards (F32, F16 or BF16), tokenizer.json,
    /// preprocessor_config.json (or processor_config.json). Every problem is an error naming the file and key.
    public static func load(directory: URL, memoryLimit: UInt64 = MemoryBudget.limit) throws -> HFLLaVA {
        let config = try HFLLaVAConfig(directory: directory)
        let (weights, names) = try HFImageSplice.weights(
            directory: directory, float32Bytes: config.float32ParameterBytes, memoryLimit: memoryLimit,
            canonicalName: canonicalName)
        var textConfig = config.text
        if weights.entries["language_model.lm_head.weight"] == nil { textConfig.decoder.tieWordEmbeddings = true }
        let text = try HFImageSplice.languageModel(
            directory: directory, config: textConfig, placeholder: "<image>", id: config.imageTokenID,
            configKey: "image_token_index")
        var generator = RandomGenerator(seed: 0)
        let preprocessor = try HFImagePreprocessor.load(directory)
        try checkProcessor(preprocessor, config, directory)
        let model = HFLLaVA(
            configuration: config, text: text, preprocessor: preprocessor, sourceNames: names, generator: &generator)
        try weights.load(
            into: model, ignoring: unusedTensors(weights, config, tied: textConfig.decoder.tieWordEmbeddings))
        model.sourceDirectory = directory
        text.sourceDirectory = directory
        return model
    }

    /// Tensors of the checkpoint the model never runs: vision layers after the feature layer, the tower's
    /// `post_layernorm` and SigLIP's pooling `head`, and a tied head's copy. An export copies them unchanged.
    static func unusedTensors(_ weights: HFCheckpointWeights, _ config: HFLLaVAConfig, tied: Bool) -> Set<String> {
        let tower = "vision_tower.vision_model."
        return Set(
            weights.entries.keys.filter { name in
                guard name.hasPrefix(tower) else { return tied && name == "language_model.lm_head.weight" }
                let rest = name.dropFirst(tower.count)
                if rest.hasPrefix("post_layernorm.") || rest.hasPrefix("head.") { return true }
                let layers = "encoder.layers."
                guard rest.hasPrefix(layers) else { return false }
                let index = Int(rest.dropFirst(layers.count).prefix { $0.isNumber }) ?? -1
                return index >= config.builtVisionLayers
            })
    }

    /// The processor's tiles must be the tower's image size.
    private static func checkProcessor(_ p: HFImagePreprocessor, _ c: HFLLaVAConfig, _ directory: URL) throws {
        let size: (height: Int, width: Int)
        switch p.kind {
        case .llava(let processor, _, _):
            if let crop = processor.crop {
                size = crop
            } else if case .exact(let h, let w)? = processor.resize {
                size = (h, w)
            } else {
                return  // sizes follow the image; the tower checks each
            }
        case .oneVision(let processor, _, _): size = processor.tileSize
        case .qwen2VL:
            throw HFCheckpointError(
                file: directory.appendingPathComponent("config.json").path, key: "model_type",
                message: "the image processor is Qwen2-VL's, which a LLaVA model cannot use")
        }
        guard size.height == c.vision.imageSize, size.width == c.vision.imageSize else {
            throw HFCheckpointError(
                file: directory.appendingPathComponent("preprocessor_config.json").path, key: nil,
                message: "the image processor makes \(size.height)x\(size.width) images but the vision tower takes "
                    + "\(c.vision.imageSize)x\(c.vision.imageSize) (vision_config.image_size)")
        }
    }

    // MARK: Backbone

    public var family: String { configuration.modelType }
    public var imagePlaceholderID: Int32 { configuration.imageTokenID }

    public static let plainImageText = "<image>"

    static func splitPlaceholders(_ content: String) -> (images: Int, text: String) {
        HFImageSplice.splitPlaceholders(content)
    }

    // MARK: Images

    /// The projected features of the images of one prompt, one [count, hidden] tensor per image.
    public func imageFeatures(_ images: [Image]) -> [Tensor] {
        guard !images.isEmpty else { return [] }
        let c = configuration
        let inputs: HFImagePreprocessor.Inputs
        do {
            inputs = try preprocessor.inputs(images)
        } catch {
            // Only Qwen2-VL's processor throws, and load refuses it (checkProcessor).
            preconditionFailure("\(label): \(error)")
        }
        let tilesPerImage = c.isOneVision ? inputs.shape[1] : 1
        let count = images.count * tilesPerImage
        let states = tower.hiddenStates(pixels: inputs.pixelValues, images: count, keep: Set(c.featureLayers))
        var selected =
            c.featureLayers.count == 1
            ? states[c.featureLayers[0]]! : concat(c.featureLayers.map { states[$0]! }, axis: 2)
        if c.dropsFirstFeature { selected = selected.slice(axis: 1, start: 1, end: c.vision.tokenCount) }
        let perTile = selected.shape[1]
        let projected = projector(selected).reshaped([count * perTile, hiddenSize])
        guard c.isOneVision else {
            return (0..<images.count).map { projected.slice(axis: 0, start: $0 * perTile, end: ($0 + 1) * perTile) }
        }
        let newline = parameter("image_newline")!
        if images.count > 1 {
            return (0..<images.count).map { i in
                concat(
                    [
                        projected.slice(
                            axis: 0, start: i * tilesPerImage * perTile, end: (i * tilesPerImage + 1) * perTile),
                        newline.reshaped([1, hiddenSize]),
                    ], axis: 0)
            }
        }
        let grid = AnyResImageProcessor.selectBestResolution(
            height: images[0].height, width: images[0].width, candidates: c.gridPinpoints)
        let packing = AnyResPacking(
            imageHeight: images[0].height, imageWidth: images[0].width, grid: grid,
            tile: (c.vision.imageSize, c.vision.imageSize),
            side: c.vision.patchesPerSide, maxTiles: c.maxTiles)
        return [packing.pack(projected, newline: newline)]
    }

    /// Feature positions each image takes, from the images' sizes (no pixel is processed).
    public func imageTokenCounts(_ images: [Image]) -> [Int] {
        do {
            return try preprocessor.imageTokens(images)
        } catch {
            preconditionFailure("\(label): \(error)")  // a LLaVA kind never throws (checkProcessor)
        }
    }

    public func expandImagePlaceholders(_ tokens: [Int32], images: [Image]) throws -> [Int32] {
        try HFImageSplice.expand(tokens, placeholder: imagePlaceholderID, counts: imageTokenCounts(images))
    }

    /// The decoder's input embeddings [rows, T, hidden] with every image's features at its placeholders, and the
    /// targets re-aligned to them. Rows are right-padded to the longest.
    func inputEmbeddings(
        tokens: [Int32], targets: [Int32]?, rows: Int, length: Int, lengths: [Int], imageLists: [[Image]]
    ) -> (embeddings: Tensor, targets: [Int32], length: Int) {
        let out = HFImageSplice.inputEmbeddings(
            text: text, placeholder: imagePlaceholderID, family: label, tokens: tokens,
            targets: targets, rows: rows, length: length, lengths: lengths, imageLists: imageLists,
            features: imageFeatures)
        return (out.embeddings, out.targets, out.length)
    }

    public func forward(_ batch: Batch, observer: ((LayerObservation) -> Void)?) -> ModelOutput {
        let (x, targets, length) = inputEmbeddings(
            tokens: batch.tokens, targets: batch.targets, rows: batch.batchSize, length: batch.sequenceLength,
            lengths: batch.lengths, imageLists: batch.imageLists)
        let h = text.language.hiddenStates(x, positions: Array(0..<length), observer: observer)
        return ModelOutput(logits: text.language.unembed(h), targets: targets)
    }

    public func forwardToHead(_ batch: Batch) -> HeadInput? {
        let (x, targets, length) = inputEmbeddings(
            tokens: batch.tokens, targets: batch.targets, rows: batch.batchSize, length: batch.sequenceLength,
            lengths: batch.lengths, imageLists: batch.imageLists)
        return HeadInput(
            hidden: text.language.hiddenStates(x, positions: Array(0..<length)),
            headWeight: text.language.lmHeadWeight, targets: targets)
    }

    public func generate(
        _ requests: [GenerationRequest], maxNewTokens: Int,
        onStep: ((_ request: Int, _ logits: UnsafeBufferPointer<Float>) -> Void)?
    ) -> [[Int32]] {
        let prompts = Autograd.withNoGrad {
            requests.map { request in
                inputEmbeddings(
                    tokens: request.tokens, targets: nil, rows: 1, length: request.tokens.count,
                    lengths: [request.tokens.count], imageLists: [request.images]
                ).embeddings.reshaped([-1, hiddenSize])
            }
        }
        return text.language.generateGreedy(
            prompts, maxNewTokens: maxNewTokens, endOfSequence: text.stopIDs, onStep: onStep)
    }

    public func copy() -> any Backbone { copyModel() }

    /// An independent deep copy with the same parameter values, trainable flags, mode and chat template.
    public func copyModel() -> HFLLaVA {
        let textCopy = text.copyModel()
        var generator = RandomGenerator(seed: 0)
        let twin = HFLLaVA(
            configuration: configuration, text: textCopy, preprocessor: preprocessor, sourceNames: sourceNames,
            generator: &generator)
        // The language model's values and flags came with `text.copyModel()`.
        HFImageSplice.finishCopy(of: self, into: twin, family: "HFLLaVA", fromText: { $0.hasPrefix("language_model.") })
        twin.sourceDirectory = sourceDirectory
        return twin
    }
}

/// Writes the model in the layout, dtypes and key names of the checkpoint it was loaded from: each tensor under
/// its name in the input files, unchanged tensors byte for byte, tensors the model never ran (vision layers after
/// the feature layer, `post_layernorm`, SigLIP's `head`) copied, config, tokenizer, chat template and processor
/// files carried over.
extension HFLLaVA {
    public func exportCheckpoint(to directory: URL, options: CheckpointExportOptions) throws {
        guard let sourceDirectory else {
            throw HFCheckpointError(
                file: directory.path, key: nil, message: "only a LLaVA model loaded from a checkpoint can be exported")
        }
        let renamed = namedParameters().map { (name: sourceNames[$0.name] ?? $0.name, tensor: $0.tensor) }
        let weights = try HFCheckpointWeights(directory: sourceDirectory)
        let unused = Self.unusedTensors(
            weights.renamed(sourceNames), configuration, tied: text.configuration.decoder.tieWordEmbeddings)
        let unusedInFiles = Set(unused.compactMap { sourceNames[$0] })
        try HFCausalLM.exportWeights(
            renamed, sourceDirectory: sourceDirectory, modelType: configuration.modelType,
            mayBeAbsent: { unusedInFiles.contains($0) }, options: options, to: directory)
        try AtomicFile.write(
            try HFCausalLM.exportedConfig(sourceDirectory: sourceDirectory, made: [:], options),
            to: directory.appendingPathComponent("config.json"))
        try HFCausalLM.copyCompanionFiles(from: sourceDirectory, to: directory)
    }
}

extension HFLLaVA {
    /// `language_model.model.layers.3.mlp` -> `model.layers.3.mlp`, `language_model.lm_head` -> `lm_head`,
    /// `vision_tower.vision_model.*` -> `vision_tower.*`, `multi_modal_projector.*` and `image_newline` ->
    /// `mm_projector.*`: the study's recipes mean the same parts here as on tiny-llava.
    public func componentPath(_ path: String) -> String {
        let language = "language_model."
        let tower = "vision_tower.vision_model."
        let projector = "multi_modal_projector."
        if path.hasPrefix(language) { return String(path.dropFirst(language.count)) }
        if path.hasPrefix(tower) { return "vision_tower." + path.dropFirst(tower.count) }
        if path.hasPrefix(projector) { return "mm_projector." + path.dropFirst(projector.count) }
        if path == "image_newline" { return "mm_projector.image_newline" }
        return path
    }

    public func decoderLayerPath(_ index: Int) -> String { "language_model.model.layers.\(index)" }
}

extension HFLLaVA {
    /// A model with random weights for `config` (seeded): the language model with HF's N(0, 0.02) initialisation
    /// and the built-in byte-level tokenizer (it has no `<image>` token: give prompts as ids), the vision tower and
    /// projector with PyTorch's default linear initialisation. For speed measurements.
    public static func create(config: HFLLaVAConfig, preprocessor: HFImagePreprocessor, seed: UInt64) throws -> HFLLaVA
    {
        if case .qwen2VL = preprocessor.kind {
            throw HFCheckpointError(
                file: "HFLLaVA.create", key: nil,
                message: "the image processor is Qwen2-VL's, which a LLaVA model cannot use")
        }
        let text = try HFCausalLM.create(config: config.text, seed: seed)
        var generator = RandomGenerator(seed: seed).fork("llava.vision")
        return HFLLaVA(
            configuration: config, text: text, preprocessor: preprocessor, sourceNames: [:], generator: &generator)
    }

    /// LLaVA-OneVision-0.5B's shape (llava-onevision-qwen2-0.5b-ov-hf): SigLIP so400m (1152 wide, 26 layers,
    /// 384-pixel tiles of 14-pixel patches, 729 features each), Qwen2-0.5B (896 wide, 24 layers, vocabulary
    /// 151936, tied head), anyres_max_9 over 1-6 x 1-6 tiles, image token 151646.
    public static func oneVision05B() throws -> (config: HFLLaVAConfig, preprocessor: HFImagePreprocessor) {
        let pinpoints = (1...6).flatMap { h in (1...6).map { w in "[\(384 * h),\(384 * w)]" } }.joined(separator: ",")
        let config = """
            {"model_type": "llava_onevision", "image_token_index": 151646, "vision_feature_layer": -1,
             "vision_feature_select_strategy": "full", "vision_aspect_ratio": "anyres_max_9",
             "image_grid_pinpoints": [\(pinpoints)], "tie_word_embeddings": true,
             "text_config": {"model_type": "qwen2", "vocab_size": 151936, "hidden_size": 896,
               "intermediate_size": 4864, "num_hidden_layers": 24, "num_attention_heads": 14,
               "num_key_value_heads": 2, "rope_theta": 1000000.0, "rms_norm_eps": 1e-06, "tie_word_embeddings": true,
               "max_position_embeddings": 32768},
             "vision_config": {"model_type": "siglip_vision_model", "hidden_size": 1152, "intermediate_size": 4304,
               "num_hidden_layers": 26, "num_attention_heads": 16, "image_size": 384, "patch_size": 14,
               "hidden_act": "gelu_pytorch_tanh", "layer_norm_eps": 1e-06}}
            """
        let processor = """
            {"do_convert_rgb": true, "do_normalize": true, "do_pad": true, "do_rescale": true, "do_resize": true,
             "image_grid_pinpoints": [\(pinpoints)], "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5],
             "resample": 3, "rescale_factor": 0.00392156862745098, "size": {"height": 384, "width": 384}}
            """
        let anyres = try AnyResImageProcessor.parse(Data(processor.utf8), file: "preprocessor_config.json")
        return (
            try HFLLaVAConfig(data: Data(config.utf8)),
            HFImagePreprocessor(
                kind: .oneVision(anyres, tokensPerTile: 729, maxTiles: 9), defaultFeatureStrategy: false)
        )
    }
}
