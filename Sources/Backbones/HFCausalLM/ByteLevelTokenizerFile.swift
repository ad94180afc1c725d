import Foundation
import HFTokenizers

/// A minimal byte-level BPE `tokenizer.json` for models made in code (random weights, speed measurements):
/// the 256 byte tokens as ids 0-255, no merges, and the specials `<|endoftext|>` 256, `<|im_start|>` 257 and
/// `<|im_end|>` 258, so that every text encodes (one token per byte), decodes back, and the Qwen chat template
/// works. Needs a vocabulary of at least 259 ids.
public enum ByteLevelTokenizerFile {
    public static let specialTokens = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    /// Ids the file uses: 256 bytes and the specials.
    public static var idCount: Int { 256 + specialTokens.count }

    /// The bytes of the tokenizer.json.
    public static func data() -> Data {
        var vocabulary: [String: Int] = [:]
        for byte in 0..<256 { vocabulary[String(ByteLevelAlphabet.scalarForByte[byte])] = byte }
        let added: [[String: Any]] = specialTokens.enumerated().map { i, content in
            [
                "id": 256 + i, "content": content, "single_word": false, "lstrip": false, "rstrip": false,
                "normalized": false, "special": true,
            ]
        }
        let byteLevel: [String: Any] = [
            "type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true,
            "use_regex": true,
        ]
        let root: [String: Any] = [
            "version": "1.0", "truncation": NSNull(), "padding": NSNull(), "added_tokens": added,
            "normalizer": NSNull(), "pre_tokenizer": byteLevel, "post_processor": NSNull(), "decoder": byteLevel,
            "model": [
                "type": "BPE", "dropout": NSNull(), "unk_token": NSNull(), "continuing_subword_prefix": NSNull(),
                "end_of_word_suffix": NSNull(), "fuse_unk": false, "byte_fallback": false,
                "ignore_merges": false, "vocab": vocabulary, "merges": [String](),
            ] as [String: Any],
        ]
        // The dictionary is built from literals, so serialisation cannot fail.
        return try! JSONSerialization.data(withJSONObject: root, options: [.sortedKeys])
    }

    /// The matching tokenizer_config.json (eos `<|endoftext|>`).
    public static func configData() -> Data {
        Data(#"{"eos_token": "<|endoftext|>", "tokenizer_class": "PreTrainedTokenizerFast"}"#.utf8)
    }
}
