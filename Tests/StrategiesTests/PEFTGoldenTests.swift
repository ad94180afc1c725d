import Foundation
import HFCausalLM
import Kernel
import LoRA
import XCTest

/// PEFT interoperability on the tiny Qwen2 fixture: an adapter PEFT saved gives PEFT's logits here, and an
/// adapter trained and saved here is written for PEFT (checked in Python by check_skilltune_adapter.py).
final class PEFTGoldenTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../Fixtures").standardizedFileURL
    static let qwen2 = fixtures.appendingPathComponent("hf/qwen2-tiny")

    struct Reference: Decodable {
        struct Prompt: Decodable {
            let text: String
            let ids: [Int32]
            let logits: [[Float]]
            let max_abs_change_from_base: Float
        }
        let prompts: [Prompt]
    }

    static func logits(_ model: HFCausalLM, _ ids: [Int32]) -> Tensor {
        model.setTraining(false)
        return Autograd.withNoGrad {
            model.forward(
                Batch(tokens: ids, targets: ids, lengths: [ids.count], batchSize: 1, sequenceLength: ids.count)
            ).logits
        }
    }

    func testAnAdapterTrainedWithPEFTGivesPEFTsLogits() throws {
        let reference = try JSONDecoder().decode(
            Reference.self,
            from: Data(contentsOf: Self.fixtures.appendingPathComponent("peft/qwen2-tiny-lora-reference.json")))
        XCTAssertEqual(reference.prompts.count, 2)
        let model = try HFCausalLM.load(directory: Self.qwen2)
        let adapted = try PEFTAdapter.load(
            from: Self.fixtures.appendingPathComponent("peft/qwen2-tiny-lora"), into: model)
        XCTAssertEqual(adapted.count, 6)
        for prompt in reference.prompts {
            XCTAssertEqual(model.tokenizer.encode(prompt.text), prompt.ids)
            let logits = Self.logits(model, prompt.ids)
            XCTAssertEqual(logits.shape, [1, prompt.ids.count, model.vocabularySize])
            let expected = prompt.logits.flatMap { $0 }
            let worst = zip(logits.array, expected).map { Swift.abs($0 - $1) }.max()!
            XCTAssertLessThan(
                worst, 1e-4, "\(prompt.text): the adapter changes logits by up to \(prompt.max_abs_change_from_base)")
            print(
                "PEFT golden logits, \(prompt.text.debugDescription): max |SkillTune - PEFT| = \(worst) "
                    + "(the adapter moves logits by up to \(prompt.max_abs_change_from_base))")
        }
        // Merged into the base weights, the same function.
        let unmerged = Self.logits(model, reference.prompts[1].ids).array
        try model.mergeLoRAAdapters()
        XCTAssertLessThan(Fixture.maxDifference(Self.logits(model, reference.prompts[1].ids).array, unmerged), 1e-5)
    }
}

/// An adapter trained and saved here, written for PEFT. With `SKILLTUNE_PEFT_CHECK_DIR` set, the adapter and
/// SkillTune's logits go there for `Tests/Fixtures/peft/check_skilltune_adapter.py` to load in PEFT.
final class PEFTCrossCheckTests: XCTestCase {
    func testAnAdapterTrainedHereIsSavedForPEFT() throws {
        let model = try HFCausalLM.load(directory: PEFTGoldenTests.qwen2)
        let lora = try LoRA(options: [
            "rank": "4", "alpha": "8", "merge": "false", "lr-scale": "1",
            "targets": "q_proj,v_proj,gate_proj,up_proj,down_proj",
        ])
        let batch = Batch(
            prompts: [
                model.encodePrompt("Hello world", hasImage: false), model.encodePrompt("The quick", hasImage: false),
            ],
            answers: [model.encodeAnswer(" brown fox"), model.encodeAnswer(" jumps over")])
        try StageTrainer.run(
            model: model, strategy: lora, stage: StageContext(index: 1, name: "peft-check", totalSteps: 5, seed: 3),
            settings: TrainingSettings(steps: 5, batchSize: 2, learningRate: 1e-2)
        ) { _ in batch }
        XCTAssertEqual(model.loraLayers.count, 10)
        XCTAssertTrue(model.loraLayers.allSatisfy { $0.layer.loraB.array.contains { $0 != 0 } }, "the adapters trained")

        let directory =
            ProcessInfo.processInfo.environment["SKILLTUNE_PEFT_CHECK_DIR"].map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("peft-check-\(UUID().uuidString)")
        let keep = ProcessInfo.processInfo.environment["SKILLTUNE_PEFT_CHECK_DIR"] != nil
        defer { if !keep { try? FileManager.default.removeItem(at: directory) } }
        try PEFTAdapter.save(
            model, to: directory.appendingPathComponent("adapter"), baseModel: "Tests/Fixtures/hf/qwen2-tiny")
        let config =
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: directory.appendingPathComponent("adapter/adapter_config.json")))
            as! [String: Any]
        XCTAssertEqual(
            config["target_modules"] as? [String], ["down_proj", "gate_proj", "q_proj", "up_proj", "v_proj"],
            "on a text-only model the short names select exactly the adapted layers")

        var prompts: [[String: Any]] = []
        for ids in [model.tokenizer.encode("Hello world"), model.tokenizer.encode("The quick brown fox")] {
            let logits = PEFTGoldenTests.logits(model, ids)
            let v = model.vocabularySize
            prompts.append([
                "ids": ids.map(Int.init),
                "logits": (0..<ids.count).map { t in (0..<v).map { Double(logits.data[t * v + $0]) } },
            ])
        }
        let json = try JSONSerialization.data(withJSONObject: [
            "base_model": "Tests/Fixtures/hf/qwen2-tiny", "prompts": prompts,
        ])
        try json.write(to: directory.appendingPathComponent("skilltune-logits.json"))

        // It loads back here with the same logits.
        let fresh = try HFCausalLM.load(directory: PEFTGoldenTests.qwen2)
        try PEFTAdapter.load(from: directory.appendingPathComponent("adapter"), into: fresh)
        let ids = model.tokenizer.encode("The quick brown fox")
        XCTAssertEqual(PEFTGoldenTests.logits(fresh, ids).array, PEFTGoldenTests.logits(model, ids).array)
    }
}
