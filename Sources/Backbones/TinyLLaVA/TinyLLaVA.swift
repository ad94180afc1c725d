import Foundation
import Kernel
import Transformer

/// The built-in LLaVA-style multimodal model: `vision_tower` (ViT) -> `mm_projector` -> a Qwen2-style decoder
/// (`model.*`, `lm_head`), at sizes that train on a CPU in minutes.
///
/// Images enter LLaVA-style: the prompt's `<image>` token is replaced by the projected visual tokens (one per
/// patch). Loss is taken only on answer tokens: visual positions never carry a target.
public final class TinyLLaVA: CausalLanguageModel, Backbone {
    public let fullConfig: TinyLLaVAConfig
    public let words: WordTokenizer

    public var family: String { "tiny-llava" }
    public var tokenizer: any Tokenizer { words }
    public var decoderLayerCount: Int { config.layers }
    public var hiddenSize: Int { config.hiddenSize }
    public var vocabularySize: Int { config.vocabularySize }
    public var acceptsImages: Bool { true }
    public var visionTower: VisionTower { child("vision_tower") as! VisionTower }
    public var projector: Projector { child("mm_projector") as! Projector }

    /// A freshly initialised model. The tokenizer's vocabulary size sets the decoder's.
    public init(config: TinyLLaVAConfig, tokenizer: WordTokenizer, seed: UInt64) {
        precondition(
            config.text.vocabularySize == tokenizer.vocabularySize,
            "TinyLLaVA: text_config.vocab_size \(config.text.vocabularySize) != tokenizer size \(tokenizer.vocabularySize)"
        )
        precondition(config.problems().isEmpty, "TinyLLaVA config: " + config.problems().joined(separator: "; "))
        fullConfig = config
        words = tokenizer
        var g = RandomGenerator(seed: seed).fork("tiny-llava.init")
        super.init(config.text, generator: &g)
        let tower = registerChild("vision_tower", VisionTower(config.vision, generator: &g))
        let projector = registerChild(
            "mm_projector", Projector(from: config.vision.hiddenSize, to: config.text.hiddenSize, generator: &g))
        // The vision tower and projector keep PyTorch's fan-in initialisation (their linears' default) and the
        // patch embedding gets the same rule as a convolution: N(0, 0.02) everywhere, as in the decoder, leaves
        // almost no image signal at the projector's output, and the language model then settles on
        // text-only answers before the tower learns to see.
        tower.initializePatchAndPositionEmbeddings(generator: &g)
        _ = projector
    }

    /// A model of a named preset over `vocabulary`.
    public convenience init(preset: String, vocabulary: [String], seed: UInt64) throws {
        let tokenizer = WordTokenizer(vocabulary: vocabulary)
        self.init(
            config: try TinyLLaVAConfig.preset(preset, vocabularySize: tokenizer.vocabularySize),
            tokenizer: tokenizer, seed: seed)
    }

    // MARK: Text

    public func encodePrompt(_ text: String, hasImage: Bool) -> [Int32] {
        var ids = words.encode(text)
        if hasImage && !ids.contains(words.imageID) { ids.insert(words.imageID, at: 0) }
        return ids
    }

    public func encodeAnswer(_ text: String) -> [Int32] { words.encode(text) + [words.endOfAnswerID] }

    // MARK: Images into the sequence

    /// Projected visual tokens for each image: [images * patches, hidden].
    func visualTokens(_ images: [Image]) -> Tensor {
        let features = projector(visionTower(images))
        return features.reshaped([images.count * fullConfig.vision.patchCount, config.hiddenSize])
    }

    /// For each row, the source rows (into concat(text embeddings, visual tokens)) of its expanded sequence,
    /// and the expanded targets. Rows are right-padded to the longest expanded row.
    func expandedLayout(
        tokens: [Int32], targets: [Int32]?, rows: Int, length: Int, lengths: [Int],
        hasImage: [Bool]
    ) -> (indices: [Int], targets: [Int32], length: Int) {
        let patches = fullConfig.vision.patchCount
        let textCount = rows * length
        var perRow: [[(Int, Int32)]] = []
        var imageIndex = 0
        for r in 0..<rows {
            var seq: [(Int, Int32)] = []
            var placed = false
            for j in 0..<lengths[r] {
                let target = targets?[r * length + j] ?? Batch.ignoreIndex
                if tokens[r * length + j] == words.imageID && hasImage[r] && !placed {
                    for p in 0..<patches {
                        seq.append(
                            (textCount + imageIndex * patches + p, p == patches - 1 ? target : Batch.ignoreIndex))
                    }
                    placed = true
                } else {
                    seq.append((r * length + j, target))
                }
            }
            precondition(placed || !hasImage[r], "tiny-llava: row \(r) has an image but no <image> token in its prompt")
            if hasImage[r] { imageIndex += 1 }
            perRow.append(seq)
        }
        let expanded = perRow.map(\.count).max() ?? 0
        var indices: [Int] = []
        var out: [Int32] = []
        for r in 0..<rows {
            let padSource = r * length + max(0, lengths[r] - 1)
            for j in 0..<expanded {
                if j < perRow[r].count {
                    indices.append(perRow[r][j].0)
                    out.append(perRow[r][j].1)
                } else {
                    indices.append(padSource)
                    out.append(Batch.ignoreIndex)
                }
            }
        }
        return (indices, out, expanded)
    }

    /// The decoder's input embeddings for `tokens` with each row's image spliced in at its `<image>` token.
    func inputEmbeddings(
        tokens: [Int32], targets: [Int32]?, rows: Int, length: Int, lengths: [Int],
        images: [Image?]
    ) -> (embeddings: Tensor, targets: [Int32]) {
        let text = embedding(model.embedTokens, ids: tokens)
        let present = images.compactMap { $0 }
        let layout = expandedLayout(
            tokens: tokens, targets: targets, rows: rows, length: length, lengths: lengths,
            hasImage: images.map { $0 != nil })
        let source = present.isEmpty ? text : concat([text, visualTokens(present)], axis: 0)
        let x = source.indexSelect(axis: 0, indices: layout.indices).reshaped([rows, layout.length, config.hiddenSize])
        return (x, layout.targets)
    }

    // MARK: Backbone

    public func forward(_ batch: Batch, observer: ((LayerObservation) -> Void)?) -> ModelOutput {
        Self.checkOneImagePerRow(batch.imageLists.map(\.count))
        let (x, targets) = inputEmbeddings(
            tokens: batch.tokens, targets: batch.targets, rows: batch.batchSize,
            length: batch.sequenceLength, lengths: batch.lengths, images: batch.images)
        let h = hiddenStates(x, positions: Array(0..<x.shape[1]), observer: observer)
        return ModelOutput(logits: unembed(h), targets: targets)
    }

    public func forwardToHead(_ batch: Batch) -> HeadInput? {
        Self.checkOneImagePerRow(batch.imageLists.map(\.count))
        let (x, targets) = inputEmbeddings(
            tokens: batch.tokens, targets: batch.targets, rows: batch.batchSize,
            length: batch.sequenceLength, lengths: batch.lengths, images: batch.images)
        return HeadInput(
            hidden: hiddenStates(x, positions: Array(0..<x.shape[1])), headWeight: lmHeadWeight,
            targets: targets)
    }

    public func generate(
        _ requests: [GenerationRequest], maxNewTokens: Int,
        onStep: ((Int, UnsafeBufferPointer<Float>) -> Void)?
    ) -> [[Int32]] {
        Self.checkOneImagePerRow(requests.map(\.images.count))
        let prompts: [Tensor] = Autograd.withNoGrad {
            // All images of all requests go through the vision tower together.
            let images = requests.compactMap(\.image)
            let visual = images.isEmpty ? nil : visualTokens(images)
            var imageIndex = 0
            return requests.map { request in
                let (x, _) = inputEmbeddingsWithVisual(
                    request.tokens, visual: request.image == nil ? nil : visual,
                    imageIndex: request.image == nil ? 0 : imageIndex)
                if request.image != nil { imageIndex += 1 }
                return x
            }
        }
        return generateGreedy(
            prompts, maxNewTokens: maxNewTokens, endOfSequence: words.endOfSequenceIDs, onStep: onStep)
    }

    /// tiny-llava reads one image per prompt.
    private static func checkOneImagePerRow(_ counts: [Int]) {
        precondition(counts.allSatisfy { $0 <= 1 }, "tiny-llava reads one image per prompt; a prompt has several")
    }

    /// One request's embeddings [T', hidden] using image `imageIndex` of precomputed visual tokens.
    private func inputEmbeddingsWithVisual(_ tokens: [Int32], visual: Tensor?, imageIndex: Int) -> (Tensor, Int) {
        let patches = fullConfig.vision.patchCount
        let d = config.hiddenSize
        let text = embedding(model.embedTokens, ids: tokens)
        guard let visual, let at = tokens.firstIndex(of: words.imageID) else { return (text, tokens.count) }
        let out = Tensor(zeros: [tokens.count + patches - 1, d])
        out.data.update(from: text.data, count: at * d)
        (out.data + at * d).update(from: visual.data + imageIndex * patches * d, count: patches * d)
        (out.data + (at + patches) * d).update(from: text.data + (at + 1) * d, count: (tokens.count - at - 1) * d)
        return (out, out.shape[0])
    }

    public func copy() -> any Backbone {
        let twin = TinyLLaVA(config: fullConfig, tokenizer: words, seed: 0)
        let mine = namedParameters()
        let theirs = twin.namedParameters()
        precondition(
            mine.map(\.name) == theirs.map(\.name),
            "TinyLLaVA.copy: this model's modules were changed by a strategy; copy() reproduces the base architecture only"
        )
        for ((_, src), (_, dst)) in zip(mine, theirs) {
            dst.data.update(from: src.data, count: src.count)
            dst.requiresGrad = src.requiresGrad
        }
        return twin
    }

    // MARK: Files

    public func save(to directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(fullConfig), to: directory.appendingPathComponent("config.json"))
        try SafeTensors.write(
            namedParameters().map { ($0.name, $0.tensor) },
            metadata: ["format": "pt", "model_type": "tiny-llava"],
            to: directory.appendingPathComponent("model.safetensors"))
        try words.save(to: directory.appendingPathComponent("tokenizer.json"))
    }

    /// Loads a directory written by `save(to:)`.
    public static func load(from directory: URL) throws -> TinyLLaVA {
        let configURL = directory.appendingPathComponent("config.json")
        guard let data = FileManager.default.contents(atPath: configURL.path) else {
            throw TinyLLaVAError.unreadable(
                file: configURL.path,
                reason: "missing (a tiny-llava checkpoint has config.json, model.safetensors and tokenizer.json)")
        }
        let config: TinyLLaVAConfig
        do {
            config = try JSONNesting.decode(TinyLLaVAConfig.self, from: data, file: configURL.path)
        } catch {
            throw TinyLLaVAError.badConfig(file: configURL.path, problems: [describe(error)])
        }
        let problems = config.problems()
        guard problems.isEmpty else { throw TinyLLaVAError.badConfig(file: configURL.path, problems: problems) }
        // Refuse a model too large for memory before building it or reading a weight.
        try MemoryBudget.check(float32Bytes: float32Bytes(of: config), what: "the model described by \(configURL.path)")
        let tokenizer = try WordTokenizer.load(from: directory.appendingPathComponent("tokenizer.json"))
        guard tokenizer.vocabularySize == config.text.vocabularySize else {
            throw TinyLLaVAError.badConfig(
                file: configURL.path,
                problems: [
                    "text_config.vocab_size is \(config.text.vocabularySize) but tokenizer.json has \(tokenizer.vocabularySize) tokens"
                ])
        }
        let weightsURL = directory.appendingPathComponent("model.safetensors")
        let file = try SafeTensorsFile(url: weightsURL)
        try MemoryBudget.check(float32Bytes: file.float32ByteCount, what: "the weights of \(weightsURL.path)")
        let model = TinyLLaVA(config: config, tokenizer: tokenizer, seed: 0)
        try model.load(try file.tensorsByName(), source: weightsURL.path)
        return model
    }

    /// Whether a directory holds a tiny-llava checkpoint (its config.json says model_type "tiny-llava").
    public static func recognizes(_ directory: URL) -> Bool {
        guard let data = FileManager.default.contents(atPath: directory.appendingPathComponent("config.json").path),
            let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return false }
        return json["model_type"] as? String == "tiny-llava"
    }
}

/// A decoding error as "key 'x': expected Int" rather than Foundation's debug text.
func describe(_ error: Error) -> String {
    guard let e = error as? DecodingError else { return "\(error)" }
    func path(_ c: DecodingError.Context) -> String {
        c.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
    }
    switch e {
    case .typeMismatch(let type, let c): return "key '\(path(c))': expected \(type)"
    case .valueNotFound(let type, let c): return "key '\(path(c))': expected \(type), found null"
    case .keyNotFound(let key, let c):
        return "missing key '\((path(c).isEmpty ? "" : path(c) + ".") + key.stringValue)'"
    case .dataCorrupted(let c):
        return c.codingPath.isEmpty ? "not valid JSON" : "key '\(path(c))': \(c.debugDescription)"
    @unknown default: return "\(error)"
    }
}
