import Foundation
import Kernel

/// A word-level tokenizer over a closed vocabulary, splitting text by `WordText`'s rule.
///
/// Ids: `<pad>` 0, `<unk>` 1, `<eos>` 2 (end of answer), `<image>` 3, then the words in the order given.
/// Saved as a `tokenizer.json` in the shape of Hugging Face's WordLevel model.
public final class WordTokenizer: Tokenizer {
    public static let pad = "<pad>", unknown = "<unk>", endOfAnswer = "<eos>", image = "<image>"
    public static let specialTokens = [pad, unknown, endOfAnswer, image]

    public let words: [String]
    private let ids: [String: Int32]

    public var padID: Int32 { 0 }
    public var unknownID: Int32 { 1 }
    public var endOfAnswerID: Int32 { 2 }
    public var imageID: Int32 { 3 }

    /// - Parameter vocabulary: the words (duplicates and the special tokens are dropped; order kept).
    public init(vocabulary: [String]) {
        var list = WordTokenizer.specialTokens
        var seen = Set(list)
        for w in vocabulary where seen.insert(w).inserted { list.append(w) }
        words = list
        var map: [String: Int32] = [:]
        for (i, w) in list.enumerated() { map[w] = Int32(i) }
        ids = map
    }

    public var vocabularySize: Int { words.count }
    public var endOfSequenceIDs: Set<Int32> { [endOfAnswerID] }

    public func encode(_ text: String) -> [Int32] { WordText.words(in: text).map { ids[$0] ?? unknownID } }

    public func decode(_ ids: [Int32]) -> String {
        WordText.join(
            ids.compactMap { id -> String? in
                guard id >= 0 && Int(id) < words.count, id != padID, id != endOfAnswerID else { return nil }
                return words[Int(id)]
            })
    }

    public func tokenText(_ id: Int32) -> String? { id >= 0 && Int(id) < words.count ? words[Int(id)] : nil }

    public func id(of word: String) -> Int32? { ids[word] }

    /// Words of `text` the vocabulary lacks (they would encode as `<unk>`).
    public func unknownWords(in text: String) -> [String] { WordText.words(in: text).filter { ids[$0] == nil } }

    // MARK: File

    public func save(to url: URL) throws {
        var vocab: [String: Int] = [:]
        for (i, w) in words.enumerated() { vocab[w] = i }
        let json: [String: Any] = [
            "version": "1.0",
            "model": ["type": "WordLevel", "vocab": vocab, "unk_token": WordTokenizer.unknown],
            "pre_tokenizer": ["type": "SkillTuneWordText"],
            "added_tokens": WordTokenizer.specialTokens.enumerated().map {
                ["id": $0.offset, "content": $0.element, "special": true] as [String: Any]
            },
        ]
        let data = try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys, .prettyPrinted])
        try AtomicFile.write(data, to: url)
    }

    public static func load(from url: URL) throws -> WordTokenizer {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw TinyLLaVAError.unreadable(file: url.path, reason: "cannot read the file")
        }
        return try parse(data, file: url.lastPathComponent)
    }

    /// Parses the bytes of a tiny-llava `tokenizer.json`; `file` names it in errors.
    public static func parse(_ data: Data, file: String = "tokenizer.json") throws -> WordTokenizer {
        guard JSONNesting.depth(of: data) <= JSONNesting.limit,
            let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else {
            throw TinyLLaVAError.unreadable(file: file, reason: "not a JSON object")
        }
        guard let model = root["model"] as? [String: Any], model["type"] as? String == "WordLevel" else {
            throw TinyLLaVAError.unreadable(
                file: file, reason: "model.type must be \"WordLevel\" for a tiny-llava tokenizer")
        }
        guard let vocab = model["vocab"] as? [String: Int] else {
            throw TinyLLaVAError.unreadable(file: file, reason: "model.vocab must be an object of word -> id")
        }
        var ordered = [String?](repeating: nil, count: vocab.count)
        for (w, i) in vocab {
            guard i >= 0 && i < vocab.count && ordered[i] == nil else {
                throw TinyLLaVAError.unreadable(
                    file: file,
                    reason: "model.vocab ids must be 0..<\(vocab.count) without gaps or repeats (\"\(w)\": \(i))")
            }
            ordered[i] = w
        }
        let list = ordered.map { $0! }
        guard Array(list.prefix(4)) == specialTokens else {
            throw TinyLLaVAError.unreadable(
                file: file, reason: "ids 0-3 must be \(specialTokens.joined(separator: ", "))")
        }
        return WordTokenizer(vocabulary: Array(list.dropFirst(4)))
    }
}
