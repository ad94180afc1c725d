import Foundation
import HFCausalLM
import HFTokenizers
import Kernel
import XCTest

/// Broken model directories, each made by copying a fixture and breaking one thing: one clear error each,
/// naming the file and the key.
final class HFCausalLMErrorTests: XCTestCase {
    /// Loads `directory` expecting an error whose description contains every one of `parts`.
    func expectError(
        _ directory: URL, _ parts: [String], memoryLimit: UInt64? = nil,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertThrowsError(
            try {
                if let memoryLimit {
                    _ = try HFCausalLM.load(directory: directory, memoryLimit: memoryLimit)
                } else {
                    _ = try HFCausalLM.load(directory: directory)
                }
            }(), file: file, line: line
        ) { error in
            let message = "\(error)"
            for part in parts {
                XCTAssertTrue(message.contains(part), "'\(part)' not in: \(message)", file: file, line: line)
            }
        }
    }

    func editedConfig(_ name: String = "llama-tiny", _ edit: (inout [String: Any]) -> Void) throws -> URL {
        let dir = try HFFixtures.copy(name, self)
        try HFFixtures.editJSON(dir.appendingPathComponent("config.json"), edit)
        return dir
    }

    func testMissingFiles() throws {
        let noConfig = try HFFixtures.copy("llama-tiny", self)
        try FileManager.default.removeItem(at: noConfig.appendingPathComponent("config.json"))
        expectError(noConfig, ["llama-tiny/config.json: file not found"])

        let noWeights = try HFFixtures.copy("llama-tiny", self)
        try FileManager.default.removeItem(at: noWeights.appendingPathComponent("model.safetensors"))
        expectError(noWeights, ["llama-tiny/model.safetensors: file not found", "model.safetensors.index.json"])

        let noShard = try HFFixtures.copy("llama-tiny-bf16-sharded", self)
        try FileManager.default.removeItem(at: noShard.appendingPathComponent("model-00002-of-00003.safetensors"))
        expectError(noShard, ["model-00002-of-00003.safetensors: shard file not found"])

        let noTokenizer = try HFFixtures.copy("qwen2-tiny", self)
        try FileManager.default.removeItem(at: noTokenizer.appendingPathComponent("tokenizer.json"))
        expectError(noTokenizer, ["qwen2-tiny/tokenizer.json: file not found"])
    }

    func testConfigFieldsOfTheWrongType() throws {
        expectError(
            try editedConfig { $0["hidden_size"] = "64" },
            ["config.json: hidden_size should be an integer, found the string \"64\""])
        expectError(
            try editedConfig { $0["tie_word_embeddings"] = 1 },
            ["config.json: tie_word_embeddings should be true or false, found the number 1"])
        expectError(
            try editedConfig { $0["num_attention_heads"] = true },
            ["config.json: num_attention_heads should be an integer, found true"])
        expectError(
            try editedConfig { $0["rope_theta"] = "big" },
            ["config.json: rope_theta should be a number"])
        expectError(try editedConfig { $0["vocab_size"] = nil }, ["config.json: missing vocab_size"])
        expectError(
            try editedConfig { $0["num_key_value_heads"] = 3 },
            ["config.json: num_attention_heads (4) must be a multiple of num_key_value_heads (3)"])
        let notJSON = try HFFixtures.copy("llama-tiny", self)
        try Data("{\"model_type\": ".utf8).write(to: notJSON.appendingPathComponent("config.json"))
        expectError(notJSON, ["config.json: not valid JSON"])
    }

    func testUnsupportedArchitectures() throws {
        expectError(
            try editedConfig { $0["model_type"] = "mistral" },
            ["config.json: model_type is \"mistral\"; supported: qwen2, llama"])
        expectError(
            try editedConfig { $0["hidden_act"] = "gelu" }, ["config.json: hidden_act is \"gelu\"; supported: silu"])
        expectError(try editedConfig { $0["mlp_bias"] = true }, ["config.json: mlp_bias is true"])
        expectError(
            try editedConfig("llama-tiny-bf16-sharded") {
                $0["rope_parameters"] = ["rope_theta": 10000.0, "rope_type": "llama3", "factor": 8.0]
            }, ["config.json: rope_parameters.rope_type is \"llama3\"; only \"default\""])
        expectError(
            try editedConfig { $0["rope_scaling"] = ["type": "linear", "factor": 2.0] },
            ["config.json: rope_scaling.type is \"linear\""])
        expectError(
            try editedConfig("qwen2-tiny") { $0["use_sliding_window"] = true },
            ["config.json: use_sliding_window is true"])
        // rope_scaling null and rope_type "default" are fine.
        XCTAssertNoThrow(try HFCausalLM.load(directory: try editedConfig { $0["rope_scaling"] = NSNull() }))
    }

    func testTensorProblemsNameTheFileAndTheTensor() throws {
        let missing = try HFFixtures.copy("llama-tiny", self)
        try HFFixtures.editWeights(missing) { $0["model.layers.1.mlp.up_proj.weight"] = nil }
        expectError(missing, ["model.safetensors: tensor 'model.layers.1.mlp.up_proj.weight' is missing"])

        let wrongShape = try HFFixtures.copy("qwen2-tiny", self)
        try HFFixtures.editWeights(wrongShape) { $0["model.layers.0.self_attn.k_proj.bias"] = Tensor(zeros: [16]) }
        expectError(
            wrongShape,
            ["model.safetensors: tensor 'model.layers.0.self_attn.k_proj.bias' has shape [16], expected [32]"])

        let unexpected = try HFFixtures.copy("llama-tiny", self)
        try HFFixtures.editWeights(unexpected) { $0["model.layers.0.self_attn.o_proj.bias"] = Tensor(zeros: [64]) }
        expectError(
            unexpected, ["model.safetensors: tensor 'model.layers.0.self_attn.o_proj.bias' matches no parameter"])

        // Known harmless extras are ignored, and so is a copy of the tied head.
        let harmless = try HFFixtures.copy("llama-tiny", self)
        try HFFixtures.editWeights(harmless) {
            $0["model.layers.0.self_attn.rotary_emb.inv_freq"] = Tensor(zeros: [8])
            $0["lm_head.weight"] = $0["model.embed_tokens.weight"]!
        }
        XCTAssertNoThrow(try HFCausalLM.load(directory: harmless))

        let badIndex = try HFFixtures.copy("llama-tiny-bf16-sharded", self)
        try HFFixtures.editJSON(badIndex.appendingPathComponent("model.safetensors.index.json")) {
            var map = $0["weight_map"] as! [String: Any]
            map["model.norm.weight"] = "model-00001-of-00003.safetensors"
            $0["weight_map"] = map
        }
        // model.norm.weight really is in shard 3.
        expectError(badIndex, ["model-00001-of-00003.safetensors: tensor 'model.norm.weight' is not in this shard"])
    }

    func testTokenizerOfAnUnsupportedModelType() throws {
        let dir = try HFFixtures.copy("llama-tiny", self)
        try HFFixtures.editJSON(dir.appendingPathComponent("tokenizer.json")) {
            var model = $0["model"] as! [String: Any]
            model["type"] = "WordPiece"
            $0["model"] = model
        }
        expectError(dir, ["tokenizer.json: model.type is \"WordPiece\"; supported: BPE"])

        let tooBig = try editedConfig { $0["vocab_size"] = 100 }
        expectError(tooBig, ["tokenizer.json: the tokenizer has ids up to 601 but config.json vocab_size is 100"])
    }

    func testCheckpointsLargerThanMemoryAreRefusedBeforeLoading() throws {
        // llama-tiny holds 113 000 floats = 452 kB as Float32.
        expectError(
            HFFixtures.directory("llama-tiny"), ["refusing to load", "model.safetensors"], memoryLimit: 100_000)
        expectError(
            HFFixtures.directory("llama-tiny-bf16-sharded"), ["refusing to load", "model.safetensors.index.json"],
            memoryLimit: 100_000)
        XCTAssertNoThrow(try HFCausalLM.load(directory: HFFixtures.directory("llama-tiny"), memoryLimit: 1_000_000))
    }

    func testRecognizesItsDirectories() throws {
        XCTAssertTrue(HFCausalLM.recognizes(HFFixtures.directory("qwen2-tiny")))
        XCTAssertTrue(HFCausalLM.recognizes(HFFixtures.directory("llama-tiny-bf16-sharded")))
        XCTAssertFalse(HFCausalLM.recognizes(HFFixtures.root))
        XCTAssertFalse(HFCausalLM.recognizes(try editedConfig { $0["model_type"] = "mistral" }))
    }
}
