import Foundation
import HFCausalLM
import Kernel
import XCTest

/// The loaded models against transformers' own outputs (Tests/Fixtures/hf): token ids and greedy continuations
/// exactly, logits at every position within 1e-4.
final class HFCausalLMGoldenTests: XCTestCase {
    static let tolerance: Float = 1e-4

    func logits(_ model: HFCausalLM, _ ids: [Int32]) -> Tensor {
        Autograd.withNoGrad {
            model.forward(
                Batch(tokens: ids, targets: ids, lengths: [ids.count], batchSize: 1, sequenceLength: ids.count)
            ).logits
        }
    }

    /// Largest |ours - reference| over every position and vocabulary entry.
    func maxDifference(_ ours: Tensor, _ reference: [[Float]]) -> Float {
        let v = ours.shape[2]
        var worst: Float = 0
        for (t, row) in reference.enumerated() {
            XCTAssertEqual(row.count, v)
            for j in 0..<v { worst = max(worst, abs(ours.data[t * v + j] - row[j])) }
        }
        return worst
    }

    func checkAgainstReference(_ name: String) throws {
        let model = try HFCausalLM.load(directory: HFFixtures.directory(name))
        let reference = try HFFixtures.reference(name)
        XCTAssertEqual(model.endOfSequenceIDs, Set(reference.eos_token_ids), name)
        for prompt in reference.prompts {
            let ids = model.encodePrompt(prompt.text, hasImage: false)
            XCTAssertEqual(ids, prompt.ids, "\(name): ids of \(prompt.text.debugDescription)")
            let out = logits(model, prompt.ids)
            XCTAssertEqual(out.shape, [1, prompt.ids.count, model.vocabularySize])
            let worst = maxDifference(out, prompt.logits)
            XCTAssertLessThanOrEqual(worst, Self.tolerance, "\(name): logits of \(prompt.text.debugDescription)")
            let generated = model.generate(
                [GenerationRequest(tokens: prompt.ids)],
                maxNewTokens: prompt.greedy.max_new_tokens)
            XCTAssertEqual(
                generated[0], prompt.greedy.new_ids, "\(name): greedy continuation of \(prompt.text.debugDescription)")
            XCTAssertEqual(model.tokenizer.decode(generated[0]), prompt.greedy.text)
        }
        // All prompts at once: left-padded batched generation gives the same continuations.
        let batched = model.generate(
            reference.prompts.map { GenerationRequest(tokens: $0.ids) },
            maxNewTokens: reference.prompts[0].greedy.max_new_tokens)
        XCTAssertEqual(batched, reference.prompts.map(\.greedy.new_ids), "\(name): batched generation")
    }

    func testQwen2MatchesTransformers() throws { try checkAgainstReference("qwen2-tiny") }
    func testLlamaMatchesTransformers() throws { try checkAgainstReference("llama-tiny") }
    func testShardedBFloat16LlamaMatchesTransformers() throws { try checkAgainstReference("llama-tiny-bf16-sharded") }

    func testParameterNamesAreExactlyTheCheckpointNames() throws {
        for (name, file) in [("qwen2-tiny", "model.safetensors"), ("llama-tiny", "model.safetensors")] {
            let model = try HFCausalLM.load(directory: HFFixtures.directory(name))
            let stored = try SafeTensorsFile(url: HFFixtures.directory(name).appendingPathComponent(file)).tensorNames
            XCTAssertEqual(Set(model.namedParameters().map(\.name)), Set(stored), name)
        }
        let qwen = try HFCausalLM.load(directory: HFFixtures.directory("qwen2-tiny"))
        XCTAssertNotNil(qwen.parameter(named: "model.layers.0.self_attn.q_proj.bias"))
        XCTAssertNotNil(qwen.parameter(named: "lm_head.weight"))
        XCTAssertEqual(qwen.family, "qwen2")
        XCTAssertEqual(qwen.decoderLayerCount, 2)
        XCTAssertEqual(qwen.hiddenSize, 64)
        let llama = try HFCausalLM.load(directory: HFFixtures.directory("llama-tiny"))
        XCTAssertNil(llama.parameter(named: "lm_head.weight"), "tied: the head is the embedding")
        XCTAssertEqual(llama.family, "llama")
    }

    func testChatTemplateAndAnswers() throws {
        let qwen = try HFCausalLM.load(directory: HFFixtures.directory("qwen2-tiny"))
        let reference = try HFFixtures.reference("qwen2-tiny")
        XCTAssertTrue(qwen.supportsChatTemplate)
        XCTAssertEqual(qwen.encodeAnswer("Hi"), qwen.tokenizer.encode("Hi") + [602])
        qwen.chatTemplate = true
        XCTAssertEqual(qwen.encodePrompt("Hi", hasImage: false), reference.prompts[2].ids)
        XCTAssertEqual(qwen.encodeAnswer("Hi").last, qwen.hfTokenizer.tokenID("<|im_end|>"))
        let llama = try HFCausalLM.load(directory: HFFixtures.directory("llama-tiny"))
        XCTAssertFalse(llama.supportsChatTemplate)
        XCTAssertEqual(llama.encodeAnswer("Hello"), llama.tokenizer.encode("Hello") + [1])
    }

    func testSaveThenLoadGivesIdenticalLogits() throws {
        for name in HFFixtures.modelNames {
            let model = try HFCausalLM.load(directory: HFFixtures.directory(name))
            let saved = try HFFixtures.temporaryDirectory(self).appendingPathComponent("saved")
            try model.save(to: saved)
            for file in ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"] {
                XCTAssertTrue(FileManager.default.fileExists(atPath: saved.appendingPathComponent(file).path), file)
            }
            let reloaded = try HFCausalLM.load(directory: saved)
            XCTAssertEqual(reloaded.configuration.decoder, model.configuration.decoder, name)
            XCTAssertEqual(reloaded.configuration.usesRopeParameters, model.configuration.usesRopeParameters)
            let ids = try HFFixtures.reference(name).prompts[1].ids
            XCTAssertEqual(logits(reloaded, ids).array, logits(model, ids).array, name)
            XCTAssertEqual(reloaded.endOfSequenceIDs, model.endOfSequenceIDs)
        }
    }

    func testBothRopeFormsGiveTheSameModel() throws {
        // llama-tiny has the older top-level rope_theta; rewrite it in the newer rope_parameters form.
        let original = try HFCausalLM.load(directory: HFFixtures.directory("llama-tiny"))
        XCTAssertFalse(original.configuration.usesRopeParameters)
        let dir = try HFFixtures.copy("llama-tiny", self)
        try HFFixtures.editJSON(dir.appendingPathComponent("config.json")) {
            $0["rope_parameters"] = ["rope_theta": $0["rope_theta"]!, "rope_type": "default"]
            $0["rope_theta"] = nil
        }
        let rewritten = try HFCausalLM.load(directory: dir)
        XCTAssertTrue(rewritten.configuration.usesRopeParameters)
        XCTAssertEqual(rewritten.configuration.decoder, original.configuration.decoder)
        let ids = try HFFixtures.reference("llama-tiny").prompts[0].ids
        XCTAssertEqual(logits(rewritten, ids).array, logits(original, ids).array)
    }

    func testRandomModelFromConfigSavesLoadsAndCopies() throws {
        let config = HFModelConfig(
            modelType: "llama",
            decoder: .init(
                vocabularySize: 300, hiddenSize: 32, intermediateSize: 48, layers: 2, heads: 4, kvHeads: 2,
                attentionBias: true, tieWordEmbeddings: false))
        let model = try HFCausalLM.create(config: config, seed: 5)
        XCTAssertNotNil(
            model.parameter(named: "model.layers.1.self_attn.o_proj.bias"), "Llama attention_bias covers o_proj")
        let text = "héllo <|im_end|>"
        XCTAssertEqual(model.tokenizer.decode(model.tokenizer.encode(text)), text)
        let ids = model.encodePrompt("abc", hasImage: false)
        XCTAssertEqual(ids, [97, 98, 99])
        let dir = try HFFixtures.temporaryDirectory(self).appendingPathComponent("random")
        try model.save(to: dir)
        let reloaded = try HFCausalLM.load(directory: dir)
        XCTAssertEqual(logits(reloaded, ids).array, logits(model, ids).array)
        XCTAssertEqual(reloaded.configuration.outputProjectionBias, true)

        model.setTrainable { $0.contains("mlp") }
        let copy = model.copyModel()
        XCTAssertEqual(logits(copy, ids).array, logits(model, ids).array)
        XCTAssertEqual(copy.trainableParameters.map(\.name), model.trainableParameters.map(\.name))
        copy.parameter(named: "model.norm.weight")!.data[0] += 1
        XCTAssertNotEqual(logits(copy, ids).array, logits(model, ids).array, "the copy is independent")
    }

    func testReplacingTheHeadByPathReachesTheDecoder() throws {
        let model = try HFCausalLM.load(directory: HFFixtures.directory("qwen2-tiny"))
        try model.replaceModule(at: "lm_head", with: Linear(weight: Tensor(zeros: [605, 64]), bias: nil))
        XCTAssertTrue(logits(model, [1, 2, 3]).array.allSatisfy { $0 == 0 })
    }
}
