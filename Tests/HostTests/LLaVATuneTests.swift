import ComponentTuning
import Foundation
import HFCausalLM
import Host
import Kernel
import LoRA
import SkillTuneCLI
import XCTest

/// Tuning and studying the tiny LLaVA-1.5, LLaVA-OneVision, Qwen2-VL and Qwen2.5-VL checkpoints (Tests/Fixtures/hf)
/// on image data: the recipes select the parts the paper means, a tuned model is exported in the input's key layout
/// with frozen tensors' bytes unchanged, reloads to the same logits, and a study runs on it. (Tests/Fixtures/export's
/// check script confirmed transformers and peft load such exports: see its README.)
final class LLaVATuneTests: ScratchTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/hf")
    let registries = SkillTuneRegistries.builtIn()
    override class var scratchPrefix: String { "llava-tune" }

    /// Solid images of three colours of varied sizes, "What colour is it?" -> the colour's name: `colors.jsonl`
    /// (SkillTune's lines), or with `llava` LLaVA's JSON (`colors.json`, an array of items with `conversations`).
    func colorData(count: Int = 36, llava: Bool = false) throws -> URL {
        let colors: [(String, (UInt8, UInt8, UInt8))] = [
            ("red", (220, 30, 30)), ("green", (30, 200, 40)), ("blue", (30, 40, 220)),
        ]
        var items: [String] = []
        for i in 0..<count {
            let (name, rgb) = colors[i % 3]
            let image = Image(width: 20 + (i * 7) % 41, height: 20 + (i * 11) % 37, fill: rgb)
            let file = "img\(i).png"
            try Data(PNG.encode(image)).write(to: scratch.appendingPathComponent(file))
            items.append(
                llava
                    ? "{\"id\": \"c\(i)\", \"image\": \"\(file)\", \"conversations\": [{\"from\": \"human\", "
                        + "\"value\": \"<image>\\nWhat colour is it?\"}, {\"from\": \"gpt\", \"value\": \"\(name)\"}]}"
                    : "{\"image\": \"\(file)\", \"prompt\": \"What colour is it?\", \"answer\": \"\(name)\"}")
        }
        let url = scratch.appendingPathComponent(llava ? "colors.json" : "colors.jsonl")
        let text = llava ? "[\n" + items.joined(separator: ",\n") + "\n]" : items.joined(separator: "\n")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    /// The names of the tensors whose bytes differ between two checkpoint directories with the same names.
    func changedTensors(from input: URL, to output: URL) throws -> [String] {
        let before = try HFCheckpointWeights(directory: input)
        let after = try HFCheckpointWeights(directory: output)
        XCTAssertEqual(Set(after.entries.keys), Set(before.entries.keys), "the input's key layout")
        var changed: [String] = []
        for (key, entry) in before.entries {
            let old = try entry.file.withRawBytes(ofTensorNamed: key) { Array($0) }
            let new = try XCTUnwrap(after.entries[key]).file.withRawBytes(ofTensorNamed: key) { Array($0) }
            if old != new { changed.append(key) }
        }
        return changed.sorted()
    }

    /// The logits of "What colour is it?" about a red picture.
    func colourLogits(_ m: some Backbone & ImagePrompting) throws -> [Float] {
        let image = Image(width: 30, height: 22, fill: (200, 40, 40))
        m.setTraining(false)
        let ids = try m.expandImagePlaceholders(m.encodePrompt("What colour is it?", imageCount: 1), images: [image])
        let out = Autograd.withNoGrad {
            m.forward(
                Batch(
                    tokens: ids, targets: ids, lengths: [ids.count], imageLists: [[image]], batchSize: 1,
                    sequenceLength: ids.count)
            ).logits
        }
        return Array(UnsafeBufferPointer(start: out.data, count: out.count))
    }

    func load(_ name: String) throws -> HFLLaVA {
        try HFLLaVA.load(directory: Self.fixtures.appendingPathComponent(name))
    }

    func testRecipesSelectTheVisionTowerProjectorAndLanguageModel() throws {
        for name in ["llava-tiny", "llava-onevision-tiny"] {
            let model = try load(name)
            func trained(_ recipe: ComponentRecipe) throws -> [String] {
                try TrainableSelection.recipe(recipe).apply(to: model, strategy: recipe.name)
            }
            let vision = try trained(.vision)
            XCTAssertFalse(vision.isEmpty)
            XCTAssertTrue(vision.allSatisfy { $0.hasPrefix("vision_tower.vision_model.") }, "\(vision)")
            let projector = try trained(.projector)
            XCTAssertEqual(
                Set(projector),
                Set(
                    ["weight", "bias"].flatMap { w in
                        ["linear_1", "linear_2"].map { "multi_modal_projector.\($0).\(w)" }
                    }
                        + (name == "llava-onevision-tiny" ? ["image_newline"] : [])))
            let llm = try trained(.llm)
            XCTAssertEqual(
                Set(llm), Set(model.namedParameters().map(\.name).filter { $0.hasPrefix("language_model.") }))
            let mlp = try trained(.mlpGateUp)
            XCTAssertEqual(mlp.count, 4, "gate and up of 2 decoder layers, no vision MLP: \(mlp)")
            XCTAssertTrue(mlp.allSatisfy { $0.hasPrefix("language_model.model.layers.") })
            let sa = try trained(.saProj)
            XCTAssertEqual(
                sa.count, name == "llava-tiny" ? 2 * 4 : 2 * 7,
                "q/k/v/o weights of 2 layers (and Qwen2's q/k/v biases), no vision attention: \(sa)")
        }
    }

    func testTuneLearnsFromImagesAndExportsInTheInputLayoutWithFrozenBytes() throws {
        let data = try colorData()
        for (name, recipe) in [("llava-tiny", "sa-proj"), ("llava-onevision-tiny", "vision")] {
            let input = Self.fixtures.appendingPathComponent(name)
            let model = try load(name)
            let run = try TuningRun(
                model: model, strategy: registries.tuningStrategy(recipe, options: [:]),
                data: registries.tuningData([data.path]), watch: [],
                settings: TuningSettings(
                    steps: recipe == "sa-proj" ? 30 : 4, batchSize: 6, learningRate: 3e-3, maxNewTokens: 3))
            let result = try run.run()
            XCTAssertTrue(result.stages[0].losses.allSatisfy { $0?.isFinite == true })
            if recipe == "sa-proj" {
                XCTAssertGreaterThan(
                    result.accuracy[0].after, result.accuracy[0].before + 50, "\(name): \(result.table())")
            }
            let out = scratch.appendingPathComponent("out-\(name)")
            _ = try run.export(to: out)
            let changed = try changedTensors(from: input, to: out)
            let expected: (String) -> Bool =
                recipe == "sa-proj"
                ? { $0.contains(".self_attn.") && $0.hasPrefix("language_model.") }
                : { $0.hasPrefix("vision_tower.") && !$0.contains("post_layernorm") && !$0.contains(".head.") }
            XCTAssertFalse(changed.isEmpty)
            XCTAssertTrue(changed.allSatisfy(expected), "\(name) \(recipe): changed \(changed.sorted())")
            // Unused tensors (SigLIP's head and post_layernorm) are copied; the reloaded model gives the tuned logits.
            let reloaded = try HFLLaVA.load(directory: out)
            let tuned = try colourLogits(model)
            let back = try colourLogits(reloaded)
            // BF16 input: the export rounds changed tensors to BF16, so compare loosely there.
            let tolerance: Float = name == "llava-tiny" ? 0.5 : 0
            XCTAssertLessThanOrEqual(zip(tuned, back).map { abs($0 - $1) }.max() ?? 0, tolerance, name)
        }
    }

    func testStudyOfALLaVACheckpointOnLLaVAJSONImageData() throws {
        let data = try colorData(count: 24, llava: true)
        var config = try StudyConfig.defaults(preset: "tiny")
        config.model = Self.fixtures.appendingPathComponent("llava-onevision-tiny").path
        config.targets = [data.path]
        config.heldOut = [scratch.appendingPathComponent("facts.jsonl").path]
        try (0..<10).map { "{\"prompt\": \"Fact \($0): the sky is\", \"answer\": \"blue\"}" }.joined(separator: "\n")
            .write(to: URL(fileURLWithPath: config.heldOut[0]), atomically: true, encoding: .utf8)
        config.strategies = ["projector", "lora"]
        config.training.steps = 2
        let study = Study(
            config: config, registries: registries, outputDirectory: scratch.appendingPathComponent("study"))
        study.log = { _ in }
        let results = try study.run()
        XCTAssertEqual(results.settings.backbone, "llava_onevision")
        XCTAssertEqual(results.stages, ["base", "colors"])
        for strategy in results.strategies {
            XCTAssertEqual(strategy.status, "complete", strategy.failure ?? "")
            XCTAssertEqual(strategy.layerShift.map(\.attention.count), [2], "2 decoder layers")
        }
    }

    // MARK: Qwen2-VL and Qwen2.5-VL

    func testQwenRecipesSelectTheVisionTowerMergerAndLanguageModel() throws {
        for name in ["qwen2-vl-tiny", "qwen2.5-vl-tiny"] {
            let model = try HFQwen2VL.load(directory: Self.fixtures.appendingPathComponent(name))
            func trained(_ recipe: ComponentRecipe) throws -> [String] {
                try TrainableSelection.recipe(recipe).apply(to: model, strategy: recipe.name)
            }
            let vision = try trained(.vision)
            XCTAssertFalse(vision.isEmpty)
            XCTAssertTrue(
                vision.allSatisfy { $0.hasPrefix("visual.") && !$0.hasPrefix("visual.merger.") }, "\(vision)")
            XCTAssertEqual(
                Set(try trained(.projector)),
                Set(model.namedParameters().map(\.name).filter { $0.hasPrefix("visual.merger.") }))
            let llm = try trained(.llm)
            XCTAssertEqual(Set(llm), Set(model.namedParameters().map(\.name).filter { !$0.hasPrefix("visual.") }))
            let mlp = try trained(.mlpGateUp)
            XCTAssertEqual(mlp.count, 4, "gate and up of 2 decoder layers, no vision MLP: \(mlp)")
            XCTAssertTrue(mlp.allSatisfy { $0.hasPrefix("model.layers.") })
            let sa = try trained(.saProj)
            XCTAssertEqual(sa.count, 2 * 7, "q/k/v/o weights and q/k/v biases of 2 layers, no vision qkv: \(sa)")
        }
    }

    func testTuneOfQwen25VLLearnsFromImagesAndExportsInTheInputLayoutWithFrozenBytes() throws {
        let data = try colorData()
        let name = "qwen2.5-vl-tiny"
        let input = Self.fixtures.appendingPathComponent(name)
        let model = try HFQwen2VL.load(directory: input)
        let run = try TuningRun(
            model: model, strategy: registries.tuningStrategy("sa-proj", options: [:]),
            data: registries.tuningData([data.path]), watch: [],
            settings: TuningSettings(steps: 30, batchSize: 6, learningRate: 3e-3, maxNewTokens: 3))
        let result = try run.run()
        XCTAssertTrue(result.stages[0].losses.allSatisfy { $0?.isFinite == true })
        XCTAssertGreaterThan(result.accuracy[0].after, result.accuracy[0].before + 50, result.table())
        let out = scratch.appendingPathComponent("out-\(name)")
        _ = try run.export(to: out)
        let changed = try changedTensors(from: input, to: out)
        XCTAssertFalse(changed.isEmpty)
        XCTAssertTrue(
            changed.allSatisfy { $0.hasPrefix("model.language_model.layers.") && $0.contains(".self_attn.") },
            "changed \(changed.sorted())")
        let reloaded = try HFQwen2VL.load(directory: out)
        XCTAssertEqual(
            try colourLogits(model), try colourLogits(reloaded), "F32 input: the export holds the tuned weights exactly"
        )
    }

    /// A LoRA adapter names modules as transformers >= 4.52 holds them in memory (`model.language_model.*`), which
    /// PEFT needs (Tests/Fixtures/export: peft loads it), and loads back onto the base to the tuned logits.
    func testQwenLoRAAdapterUsesTransformersModuleNamesAndLoadsBack() throws {
        let data = try colorData(count: 12)
        let input = Self.fixtures.appendingPathComponent("qwen2.5-vl-tiny")
        let model = try HFQwen2VL.load(directory: input)
        let run = try TuningRun(
            model: model, strategy: registries.tuningStrategy("lora", options: [:]),
            data: registries.tuningData([data.path]), watch: [],
            settings: TuningSettings(steps: 3, batchSize: 4, learningRate: 1e-2, maxNewTokens: 2))
        _ = try run.run()
        let out = scratch.appendingPathComponent("adapter")
        _ = try run.export(to: out)
        let names = try SafeTensorsFile(url: out.appendingPathComponent(PEFTAdapter.weightsFile)).tensorNames
        XCTAssertEqual(names.count, 12, "lora_A and lora_B of gate/up/down in 2 layers: \(names)")
        XCTAssertTrue(names.allSatisfy { $0.hasPrefix("base_model.model.model.language_model.layers.") }, "\(names)")
        let config = try String(contentsOf: out.appendingPathComponent(PEFTAdapter.configFile), encoding: .utf8)
        XCTAssertTrue(config.contains(#"model\\.language_model\\.layers"#), "no vision MLP matches: \(config)")
        let fresh = try HFQwen2VL.load(directory: input)
        let adapted = try PEFTAdapter.load(from: out, into: fresh, renaming: fresh.modulePath(fromAdapter:))
        XCTAssertEqual(adapted.count, 6)
        XCTAssertTrue(adapted.allSatisfy { $0.hasPrefix("model.layers.") })
        let ids = model.encodePrompt("Hi", imageCount: 0)
        func logits(_ m: HFQwen2VL) -> [Float] {
            m.setTraining(false)
            let out = Autograd.withNoGrad {
                m.forward(
                    Batch(
                        tokens: ids, targets: ids, lengths: [ids.count], imageLists: [[]], batchSize: 1,
                        sequenceLength: ids.count)
                ).logits
            }
            return Array(UnsafeBufferPointer(start: out.data, count: out.count))
        }
        XCTAssertEqual(logits(model), logits(fresh))
    }

    func testStudyOfQwen2VLAndQwen25VLCheckpointsOnLLaVAJSONImageData() throws {
        let data = try colorData(count: 24, llava: true)
        let facts = scratch.appendingPathComponent("facts.jsonl")
        try (0..<10).map { "{\"prompt\": \"Fact \($0): the sky is\", \"answer\": \"blue\"}" }.joined(separator: "\n")
            .write(to: facts, atomically: true, encoding: .utf8)
        for (name, family) in [("qwen2-vl-tiny", "qwen2_vl"), ("qwen2.5-vl-tiny", "qwen2_5_vl")] {
            var config = try StudyConfig.defaults(preset: "tiny")
            config.model = Self.fixtures.appendingPathComponent(name).path
            config.targets = [data.path]
            config.heldOut = [facts.path]
            config.strategies = ["projector", "lora", "sa-qkv"]
            config.training.steps = 2
            let study = Study(
                config: config, registries: registries, outputDirectory: scratch.appendingPathComponent("study-\(name)")
            )
            study.log = { _ in }
            let results = try study.run()
            XCTAssertEqual(results.settings.backbone, family)
            XCTAssertEqual(results.stages, ["base", "colors"])
            for strategy in results.strategies {
                XCTAssertEqual(strategy.status, "complete", "\(name): \(strategy.failure ?? "")")
                XCTAssertEqual(strategy.layerShift.map(\.attention.count), [2], "2 decoder layers")
            }
        }
    }
}
