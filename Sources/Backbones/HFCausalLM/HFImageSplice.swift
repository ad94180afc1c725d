import ChatTemplate
import Foundation
import HFTokenizers
import Kernel
import Transformer

/// What LLaVA-family and Qwen2-VL backbones share: loading a checkpoint's weights under canonical names and its
/// language model, and putting images into a prompt: one placeholder token per image that stands for the image's
/// features, expanded to as many positions as the image has features (ids
/// already expanded the way transformers' processor expands them are taken as they are), and the decoder's
/// input embeddings with each image's features at its positions.
enum HFImageSplice {
    /// One expanded position of a row: its source row in concat(text embeddings, image features) and its
    /// target; `image` and `feature` say which image feature it is (nil for text).
    struct Position {
        var source: Int
        var target: Int32
        var image: Int?
        var feature: Int
    }

    // MARK: Loading

    /// A multimodal checkpoint's weights under the backbone's canonical names, after the memory checks (the files
    /// and the config's own estimate): the renamed weights and each canonical name's key in the files.
    static func weights(
        directory: URL, float32Bytes: UInt64, memoryLimit: UInt64, canonicalName: (String) -> String
    ) throws -> (weights: HFCheckpointWeights, sourceNames: [String: String]) {
        let files = try HFCheckpointWeights(directory: directory)
        try files.checkFitsInMemory(limit: memoryLimit)
        try MemoryBudget.check(
            float32Bytes: float32Bytes,
            what: "the model described by \(directory.appendingPathComponent("config.json").path)", limit: memoryLimit)
        var names: [String: String] = [:]
        for key in files.entries.keys.sorted() {
            let name = canonicalName(key)
            if let other = names[name] {
                throw HFCheckpointError(
                    file: files.sourceName, key: key,
                    message: "tensors '\(other)' and '\(key)' are the same parameter in two key layouts")
            }
            names[name] = key
        }
        return (files.renamed(names), names)
    }

    /// The language model of a multimodal checkpoint (tokenizer, chat template, a decoder to load weights into),
    /// after checking that the tokenizer's `placeholder` token is config.json's `configKey`.
    static func languageModel(
        directory: URL, config: HFModelConfig, placeholder: String, id: Int32, configKey: String
    ) throws -> HFCausalLM {
        let tokenizerURL = directory.appendingPathComponent("tokenizer.json")
        guard FileManager.default.fileExists(atPath: tokenizerURL.path) else {
            throw HFCheckpointError(file: tokenizerURL.path, key: nil, message: "file not found (the tokenizer)")
        }
        let tokenizer = try HFTokenizer(directory: directory)
        guard tokenizer.tokenID(placeholder) == id else {
            throw HFCheckpointError(
                file: tokenizerURL.path, key: nil,
                message:
                    "the tokenizer's \(placeholder) token is \(tokenizer.tokenID(placeholder).map(String.init) ?? "absent")"
                    + " but config.json \(configKey) is \(id)")
        }
        var generator = RandomGenerator(seed: 0)
        let language = HFCausalLM.makeLanguageModel(config, generator: &generator, randomize: false)
        return try HFCausalLM.assemble(
            config, language, tokenizer, try HFCausalLM.readCompanionFiles(directory),
            tokenizerSource: tokenizerURL.path)
    }

    /// Makes `twin` (built with the same structure and a copy of the language model) a deep copy of `model`:
    /// every parameter `fromText` does not claim gets `model`'s values and trainable flag, then the mode.
    static func finishCopy(of model: Module, into twin: Module, family: String, fromText: (String) -> Bool) {
        let source = model.namedParameters()
        let target = twin.namedParameters()
        precondition(
            source.map(\.name) == target.map(\.name),
            "\(family).copy: the model's modules were replaced, so its structure is not the base model's")
        for (s, t) in zip(source, target) where !fromText(s.name) {
            t.tensor.data.update(from: s.tensor.data, count: s.tensor.count)
            t.tensor.requiresGrad = s.tensor.requiresGrad
        }
        twin.setTraining(model.isTraining)
    }

    // MARK: Prompts

    /// The number of `<image>` placeholders in `content` and the text without them (and without the line breaks
    /// that follow them).
    static func splitPlaceholders(_ content: String) -> (images: Int, text: String) {
        let parts = content.components(separatedBy: "<image>")
        guard parts.count > 1 else { return (0, content) }
        var text = parts[0]
        for part in parts.dropFirst() { text += part.hasPrefix("\n") ? String(part.dropFirst()) : part }
        return (parts.count - 1, text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Renders messages whose `<image>` placeholders become image parts: each message's content is a list of
    /// `{"type": "image"}` parts (one per placeholder) then `{"type": "text", "text": ...}`, as transformers'
    /// processors pass conversations to LLaVA and Qwen2-VL templates.
    static func renderChat(
        _ text: HFCausalLM, _ messages: [ChatMessage], addGenerationPrompt: Bool, family: String
    ) throws -> String {
        guard let template = text.template else {
            throw ChatTemplateError(source: family, line: nil, column: nil, message: "the model has no chat template")
        }
        let values = messages.map { message -> Value in
            let (images, rest) = splitPlaceholders(message.content)
            return ChatTemplate.message(message.role, text: rest, images: images)
        }
        return try template.apply(
            messages: values, addGenerationPrompt: addGenerationPrompt, specialTokens: text.templateSpecialTokens,
            now: text.chatTemplateDate ?? Date())
    }

    /// The conversation with `imageCount` images: `<image>` placeholders already in the turns count; missing ones
    /// go at the start of the last user message (LLaVA's data puts `<image>` in the first human turn). With the
    /// chat template off, the turns are lines and each `<image>` is written as `plainImage`.
    static func encodeConversation(
        _ text: HFCausalLM, system: String?, history: [ChatTurn], prompt: String, imageCount: Int,
        plainImage: String, family: String, render: ([ChatMessage], Bool) throws -> String
    ) -> [Int32] {
        let present = ([prompt] + history.map(\.user)).reduce(0) { $0 + splitPlaceholders($1).images }
        let missing = max(0, imageCount - present)
        let last = String(repeating: "<image>\n", count: missing) + prompt
        guard text.useChatTemplate else {
            var lines: [String] = system.map { [$0] } ?? []
            for turn in history { lines += [turn.user, turn.assistant] }
            let plain = (lines + [last]).joined(separator: "\n")
            return text.hfTokenizer.encode(
                plainImage == "<image>" ? plain : plain.replacingOccurrences(of: "<image>", with: plainImage))
        }
        var messages = system.map { [ChatMessage(role: "system", content: $0)] } ?? []
        for turn in history {
            messages += [
                ChatMessage(role: "user", content: turn.user), ChatMessage(role: "assistant", content: turn.assistant),
            ]
        }
        messages.append(ChatMessage(role: "user", content: last))
        do {
            return text.hfTokenizer.encode(try render(messages, true))
        } catch {
            preconditionFailure("\(family): the chat template cannot render this conversation: \(error)")
        }
    }

    /// `tokens` with each `placeholder` repeated `counts[i]` times for image i; ids already expanded (as many
    /// placeholders as features, when that differs from the image count) come back unchanged.
    static func expand(_ tokens: [Int32], placeholder: Int32, counts: [Int]) throws -> [Int32] {
        let placeholders = tokens.filter { $0 == placeholder }.count
        if placeholders == counts.reduce(0, +) && placeholders != counts.count { return tokens }
        guard placeholders == counts.count else {
            throw ImagePlaceholderError(placeholders: placeholders, images: counts.count)
        }
        var out: [Int32] = []
        var next = 0
        for t in tokens {
            if t == placeholder {
                out += [Int32](repeating: t, count: counts[next])
                next += 1
            } else {
                out.append(t)
            }
        }
        return out
    }

    /// One row's expanded positions: text tokens read their embedding, each placeholder its image's features
    /// (only the last feature keeps the placeholder's target).
    static func rowLayout(
        tokens: ArraySlice<Int32>, targets: ArraySlice<Int32>?, placeholder: Int32, textOffset: Int,
        featureOffset: Int, featureCounts: [Int], family: String
    ) -> [Position] {
        let placeholders = tokens.filter { $0 == placeholder }.count
        let total = featureCounts.reduce(0, +)
        let expandEach = placeholders == featureCounts.count && placeholders != total
        precondition(
            expandEach || placeholders == total,
            "\(family): \(ImagePlaceholderError(placeholders: placeholders, images: featureCounts.count))")
        var out: [Position] = []
        var image = 0
        var feature = 0
        var source = featureOffset
        for (j, t) in zip(tokens.indices, tokens) {
            let target = targets?[j] ?? Batch.ignoreIndex
            let local = j - tokens.startIndex
            guard t == placeholder else {
                out.append(Position(source: textOffset + local, target: target, image: nil, feature: 0))
                continue
            }
            if expandEach {
                let n = featureCounts[image]
                for p in 0..<n {
                    out.append(
                        Position(
                            source: source + p, target: p == n - 1 ? target : Batch.ignoreIndex, image: image,
                            feature: p))
                }
                source += n
                image += 1
            } else {
                out.append(Position(source: source, target: target, image: image, feature: feature))
                source += 1
                feature += 1
                if feature == featureCounts[image] {
                    image += 1
                    feature = 0
                }
            }
        }
        return out
    }

    /// The decoder's input embeddings [rows, T, hidden] with every image's features at its placeholders, the
    /// targets re-aligned to them, and each row's expanded positions. Rows are right-padded to the longest.
    static func inputEmbeddings(
        text: HFCausalLM, placeholder: Int32, family: String, tokens: [Int32], targets: [Int32]?, rows: Int,
        length: Int, lengths: [Int], imageLists: [[Image]], features: ([Image]) -> [Tensor]
    ) -> (embeddings: Tensor, targets: [Int32], length: Int, layouts: [[Position]]) {
        text.syncLanguageModel()
        let hidden = text.configuration.decoder.hiddenSize
        let embedded = embedding(text.language.model.embedTokens, ids: tokens)
        var all: [Tensor] = []
        var layouts: [[Position]] = []
        var featureOffset = rows * length
        for r in 0..<rows {
            let perImage = features(imageLists[r])
            all += perImage
            let range = (r * length)..<(r * length + lengths[r])
            layouts.append(
                rowLayout(
                    tokens: tokens[range], targets: targets.map { $0[range] }, placeholder: placeholder,
                    textOffset: r * length, featureOffset: featureOffset, featureCounts: perImage.map { $0.shape[0] },
                    family: family))
            featureOffset += perImage.reduce(0) { $0 + $1.shape[0] }
        }
        let expanded = layouts.map(\.count).max() ?? 0
        var indices: [Int] = []
        var out: [Int32] = []
        for (r, layout) in layouts.enumerated() {
            let pad = layout.last?.source ?? r * length
            for j in 0..<expanded {
                indices.append(j < layout.count ? layout[j].source : pad)
                out.append(j < layout.count ? layout[j].target : Batch.ignoreIndex)
            }
        }
        let source = all.isEmpty ? embedded : concat([embedded] + all, axis: 0)
        let x = source.indexSelect(axis: 0, indices: indices).reshaped([rows, expanded, hidden])
        return (x, out, expanded, layouts)
    }
}
