import Foundation
import Kernel

/// A Hugging Face `tokenizer.json` byte-level BPE tokenizer (GPT-2, Llama 3 / SmolLM, Qwen2 families), as the
/// `tokenizers` library writes it.
///
/// Encoding follows the library step by step: added tokens are cut out of the raw text first (those with
/// `normalized: false`), the rest is normalized (NFC) and cut again at normalized added tokens, then pre-tokenized
/// (`ByteLevel`, `Split`, `Digits`, `Sequence`) and each piece is BPE-merged. No special tokens are added: the
/// post-processor is ignored, the text is encoded as given. Decoding is the ByteLevel decoder: tokens back to
/// bytes, then UTF-8 with invalid sequences replaced by U+FFFD.
///
/// Thread safe: the only mutable state is the BPE word cache, behind a lock.
public final class HFTokenizer: Tokenizer {
    /// Token ids must be below this (16M; real vocabularies stay under 300k).
    public static let maximumTokenID: Int32 = 1 << 24

    /// Names that end generation when present and no explicit ids are given.
    public static let wellKnownEndOfSequenceTokens = [
        "<|endoftext|>", "<|im_end|>", "</s>", "<|end_of_text|>", "<|eot_id|>", "<|eom_id|>", "<eos>",
        "<end_of_turn>",
    ]

    public let vocabularySize: Int
    public let endOfSequenceIDs: Set<Int32>
    /// The `added_tokens` of the file, in file order.
    public let addedTokens: [AddedToken]

    private let model: BytePairModel
    private let normalizer: TextNormalizer?
    private let preTokenizer: PreTokenizer
    /// Added tokens matched in the raw text, then those matched in the normalized text.
    private let rawMatcher: AddedTokenMatcher
    private let normalizedMatcher: AddedTokenMatcher
    /// What each id decodes to (before UTF-8 repair); nil for ids that are not tokens.
    private let bytesForID: TokenBytesTable
    private let specialIDs: Set<Int32>
    private let addedIDsByContent: [String: Int32]

    /// Loads `tokenizer.json` from a model directory (and `tokenizer_config.json` beside it, if present).
    public convenience init(directory: URL, endOfSequenceIDs: Set<Int32>? = nil) throws {
        try self.init(file: directory.appendingPathComponent("tokenizer.json"), endOfSequenceIDs: endOfSequenceIDs)
    }

    /// Loads a `tokenizer.json` file; a `tokenizer_config.json` in the same directory adds its `eos_token` to the
    /// end-of-sequence ids (unless `endOfSequenceIDs` is given, which then is the whole set).
    public convenience init(file: URL, endOfSequenceIDs: Set<Int32>? = nil) throws {
        let data: Data
        do {
            data = try Data(contentsOf: file)
        } catch {
            throw TokenizerFileError(
                file: file.path, key: nil, message: "cannot read the file (\(error.localizedDescription))")
        }
        let configURL = file.deletingLastPathComponent().appendingPathComponent("tokenizer_config.json")
        let config = FileManager.default.fileExists(atPath: configURL.path) ? configURL : nil
        var configData: Data? = nil
        if let config {
            do {
                configData = try Data(contentsOf: config)
            } catch {
                throw TokenizerFileError(
                    file: config.path, key: nil, message: "cannot read the file (\(error.localizedDescription))")
            }
        }
        try self.init(
            json: data, fileName: file.path, tokenizerConfig: configData, configFileName: config?.path,
            endOfSequenceIDs: endOfSequenceIDs)
    }

    /// Builds a tokenizer from the bytes of a `tokenizer.json` (and optionally of a `tokenizer_config.json`);
    /// the file names are only used in error messages.
    public init(
        json: Data, fileName: String = "tokenizer.json", tokenizerConfig: Data? = nil,
        configFileName: String? = nil, endOfSequenceIDs explicitEndOfSequenceIDs: Set<Int32>? = nil
    ) throws {
        let root = try JSONObject.parse(json, file: fileName)
        model = try BytePairModel(try root.object("model"))
        normalizer = try root.optionalObject("normalizer").map(TextNormalizer.parse)

        guard let preTokenizerJSON = try root.optionalObject("pre_tokenizer") else {
            throw TokenizerFileError(
                file: fileName, key: "pre_tokenizer",
                message: "pre_tokenizer is null; a byte-level BPE needs one with a ByteLevel step")
        }
        preTokenizer = try PreTokenizer.parse(preTokenizerJSON)
        guard preTokenizer.containsByteLevel else {
            throw TokenizerFileError(
                file: fileName, key: "pre_tokenizer",
                message: "pre_tokenizer has no ByteLevel step; only byte-level BPE is supported")
        }
        try HFTokenizer.checkDecoder(root)

        addedTokens = root.has("added_tokens") ? try root.objects("added_tokens").map(AddedToken.parse) : []
        let normalizer = self.normalizer
        rawMatcher = AddedTokenMatcher(addedTokens.filter { !$0.normalized }.map { ($0.content, $0) })
        normalizedMatcher = AddedTokenMatcher(
            addedTokens.filter(\.normalized).map { (normalizer?.apply($0.content) ?? $0.content, $0) })
        specialIDs = Set(addedTokens.filter(\.special).map(\.id))
        var addedIDs: [String: Int32] = [:]
        for token in addedTokens { addedIDs[token.content] = token.id }
        addedIDsByContent = addedIDs

        // What each id decodes to: an added token wins over the model's token with the same id. Normalized added
        // tokens decode from their normalized form, as Hugging Face does.
        let largestID = max(model.vocabulary.values.max() ?? -1, addedTokens.map(\.id).max() ?? -1)
        var entries: [(Int32, [UInt8])] = model.vocabulary.map { ($0.value, ByteLevelAlphabet.decode($0.key)) }
        for token in addedTokens {
            let shown = token.normalized ? (normalizer?.apply(token.content) ?? token.content) : token.content
            entries.append((token.id, ByteLevelAlphabet.decode(shown)))
        }
        bytesForID = TokenBytesTable(idCount: Int(largestID) + 1, entries: entries)
        vocabularySize = Int(largestID) + 1

        if let explicitEndOfSequenceIDs {
            endOfSequenceIDs = explicitEndOfSequenceIDs
        } else {
            var names = HFTokenizer.wellKnownEndOfSequenceTokens
            if let tokenizerConfig {
                let config = try JSONObject.parse(tokenizerConfig, file: configFileName ?? "tokenizer_config.json")
                if let eos = try HFTokenizer.eosTokenName(config) { names.append(eos) }
            }
            var ids = Set<Int32>()
            for name in names {
                if let id = addedIDs[name] ?? model.vocabulary[name] { ids.insert(id) }
            }
            endOfSequenceIDs = ids
        }
    }

    /// `eos_token` of a tokenizer_config.json: a string, or an object with `content` (older transformers).
    private static func eosTokenName(_ config: JSONObject) throws -> String? {
        guard let value = config.value("eos_token") else { return nil }
        if let name = value as? String { return name }
        if value is [String: Any] { return try config.object("eos_token").string("content") }
        throw TokenizerFileError.wrongType(
            config.file, "eos_token", expected: "a string or an object with \"content\"", found: value)
    }

    /// The decoder must be ByteLevel (alone or as the only kind of step in a Sequence).
    private static func checkDecoder(_ root: JSONObject) throws {
        guard let decoder = try root.optionalObject("decoder") else {
            throw TokenizerFileError(
                file: root.file, key: "decoder", message: "decoder is null; supported: ByteLevel")
        }
        let type = try decoder.string("type")
        switch type {
        case "ByteLevel":
            return
        case "Sequence":
            for step in try decoder.objects("decoders") {
                let stepType = try step.string("type")
                guard stepType == "ByteLevel" else {
                    throw TokenizerFileError.unsupported(
                        root.file, step.keyPath("type"), value: stepType, supported: ["ByteLevel"])
                }
            }
        default:
            throw TokenizerFileError.unsupported(
                root.file, decoder.keyPath("type"), value: type, supported: ["ByteLevel", "Sequence"])
        }
    }

    // MARK: Tokenizer

    public func encode(_ text: String) -> [Int32] {
        var ids: [Int32] = []
        ids.reserveCapacity(text.utf8.count / 3 + 1)
        for segment in rawMatcher.split(text) {
            switch segment {
            case .token(let id):
                ids.append(id)
            case .text(let raw):
                let normalized = normalizer?.apply(raw) ?? raw
                for inner in normalizedMatcher.split(normalized) {
                    switch inner {
                    case .token(let id):
                        ids.append(id)
                    case .text(let piece):
                        for word in preTokenizer.apply([piece]) { ids.append(contentsOf: model.tokenize(word)) }
                    }
                }
            }
        }
        return ids
    }

    public func decode(_ ids: [Int32]) -> String {
        decode(ids, skippingSpecialTokens: false)
    }

    /// Decodes ids, optionally leaving out special tokens; ids that are not tokens are skipped.
    public func decode(_ ids: [Int32], skippingSpecialTokens: Bool) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(ids.count * 4)
        for id in ids {
            if skippingSpecialTokens && specialIDs.contains(id) { continue }
            if let tokenBytes = bytesForID[id] { bytes.append(contentsOf: tokenBytes) }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    public func tokenText(_ id: Int32) -> String? {
        guard let bytes = bytesForID[id] else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    // MARK: Lookups

    /// The id of a token given as written in the file: an added token's content (`<|im_start|>`) or a vocabulary
    /// entry in byte-level form (`Ġhello`).
    public func tokenID(_ token: String) -> Int32? {
        addedIDsByContent[token] ?? model.vocabulary[token]
    }

    /// Whether `id` is a special added token.
    public func isSpecial(_ id: Int32) -> Bool { specialIDs.contains(id) }
}

/// All state is immutable after loading except the word cache, which has its own lock.
extension HFTokenizer: @unchecked Sendable {}
