import Foundation
import Kernel
import LoRA
import TinyLLaVA
import XCTest

final class LoRATests: XCTestCase {
    func testAdaptersSitAtTheLinearPathsAndOnlyTheyTrain() throws {
        let m = try Fixture.model()
        let baseNames = m.namedParameters().map(\.name)
        let lora = try LoRA()
        try lora.prepare(m, stage: Fixture.stage())
        let trainable = m.trainableParameters.map(\.name)
        XCTAssertEqual(
            trainable,
            (0..<2).flatMap { i in
                ["gate_proj", "up_proj", "down_proj"].flatMap { p in
                    ["model.layers.\(i).mlp.\(p).lora_A.weight", "model.layers.\(i).mlp.\(p).lora_B.weight"]
                }
            })
        XCTAssertEqual(m.parameterCounts.trainable, 4_608)  // per layer 3 x (8*32 + 64*8) ... = 2,304
        XCTAssertEqual(
            m.namedParameters().map(\.name).filter { !$0.contains(".lora_") }, baseNames, "base names unchanged")
        XCTAssertEqual(m.parameter(named: "model.layers.0.mlp.down_proj.lora_A.weight")!.shape, [8, 64])
        XCTAssertEqual(m.parameter(named: "model.layers.0.mlp.down_proj.lora_B.weight")!.shape, [32, 8])
        XCTAssertTrue(m.parameter(named: "model.layers.1.mlp.up_proj.lora_B.weight")!.array.allSatisfy { $0 == 0 })
        let a = m.parameter(named: "model.layers.1.mlp.up_proj.lora_A.weight")!.array
        XCTAssertTrue(
            a.allSatisfy { Swift.abs($0) <= 1 / Float(32).squareRoot() } && Set(a).count > 200, "kaiming-uniform A")
        XCTAssertEqual(lora.learningRateScale(forParameter: "model.layers.1.mlp.up_proj.lora_B.weight"), 10)

        let attention = try Fixture.model()
        try LoRA(options: ["targets": "q_proj,self_attn.v_proj", "rank": "2"]).prepare(
            attention, stage: Fixture.stage())
        XCTAssertEqual(
            attention.trainableParameters.map(\.name).filter { $0.hasSuffix("lora_A.weight") },
            [
                "model.layers.0.self_attn.q_proj.lora_A.weight", "model.layers.0.self_attn.v_proj.lora_A.weight",
                "model.layers.1.self_attn.q_proj.lora_A.weight", "model.layers.1.self_attn.v_proj.lora_A.weight",
            ],
            "the vision tower's q_proj is not a target")
        XCTAssertThrowsError(try LoRA(options: ["targets": "fc1"]).prepare(try Fixture.model(), stage: Fixture.stage()))
        { error in
            XCTAssertTrue(
                "\(error)".hasPrefix(
                    "strategy 'lora': LoRA target 'fc1' (a decoder linear layer's name) matches nothing "
                        + "in this tiny-llava model. Its names look like (N = any index): model.layers.N.self_attn.q_proj"
                ), "\(error)")
        }
    }

    func testMergedForwardEqualsTheUnmergedOne() throws {
        let m = try Fixture.model()
        let batch = Fixture.batch(for: m)
        let base = Fixture.logits(m, batch)
        try LoRA(options: ["merge": "false"]).prepare(m, stage: Fixture.stage())
        XCTAssertEqual(Fixture.logits(m, batch), base, "B = 0: the adapted model starts as the base model")
        var g = RandomGenerator(seed: 3)
        for (_, layer) in m.loraLayers { for i in 0..<layer.loraB.count { layer.loraB.data[i] = g.normal() * 0.3 } }
        let unmerged = Fixture.logits(m, batch)
        XCTAssertGreaterThan(Fixture.maxDifference(unmerged, base), 1e-3, "the adapters change the output")
        XCTAssertEqual(try m.mergeLoRAAdapters().count, 6)
        XCTAssertTrue(m.loraLayers.isEmpty)
        XCTAssertFalse(m.namedParameters().contains { $0.name.contains("lora_") })
        XCTAssertLessThan(Fixture.maxDifference(Fixture.logits(m, batch), unmerged), 1e-5)
    }

    func testMergeAtStageEndRestoresTheStructureAndChangesOnlyTargets() throws {
        let m = try Fixture.model()
        let before = m.parameterSnapshot()
        let names = m.namedParameters().map(\.name)
        let report = try Fixture.runStage(m, try LoRA(), steps: 4, learningRate: 1e-2)
        XCTAssertEqual(m.namedParameters().map(\.name), names)
        let targets = Set(names.filter { $0.contains(".mlp.") && $0.hasPrefix("model.layers.") })
        assertUnchanged(m, except: targets, before: before, "lora merge=true")
        for name in targets {
            XCTAssertNotEqual(m.parameter(named: name)!.array, before[name]!.array, "\(name) got the merged update")
        }
        XCTAssertLessThan(report.losses.last!, report.losses.first!)
    }

    func testUnmergedAdaptersKeepTrainingAcrossStagesAndInstallRecreatesThem() throws {
        let lora = try LoRA(options: ["merge": "false"])
        let m = try Fixture.model()
        try Fixture.runStage(m, lora, index: 1, steps: 2)
        let afterFirst = m.parameterSnapshot()
        XCTAssertEqual(m.loraLayers.count, 6)
        try Fixture.runStage(m, lora, index: 2, steps: 2)
        XCTAssertEqual(m.loraLayers.count, 6, "the same adapters, not new ones")
        let b = "model.layers.0.mlp.gate_proj.lora_B.weight"
        XCTAssertNotEqual(m.parameter(named: b)!.array, afterFirst[b]!.array)
        // A fresh base model with the strategy's modules installed loads the checkpoint by name.
        let fresh = try Fixture.model()
        try lora.installModules(fresh, stage: Fixture.stage(3))
        try fresh.load(m.parameterSnapshot(), source: "checkpoint")
        let batch = Fixture.batch(for: m)
        XCTAssertEqual(Fixture.logits(fresh, batch), Fixture.logits(m, batch))
    }

    func testDropoutActsOnlyInTrainingAndIsSeeded() throws {
        func outputs(seed: UInt64) -> ([Float], [Float], [Float]) {
            var g = RandomGenerator(seed: 1)
            let base = Linear(6, 5, generator: &g)
            var ag = RandomGenerator(seed: seed)
            let layer = LoRALinear(
                wrapping: base, configuration: LoRAConfiguration(rank: 2, alpha: 4, dropout: 0.5), generator: &ag)
            for i in 0..<layer.loraB.count { layer.loraB.data[i] = Float(i % 3) - 1 }
            let x = Tensor(shape: [4, 6], values: (0..<24).map { Float($0) / 10 - 1 })
            layer.setTraining(true)
            let first = layer(x).array
            let second = layer(x).array
            layer.setTraining(false)
            return (first, second, layer(x).array)
        }
        let (a1, a2, evalA) = outputs(seed: 5)
        let (b1, _, evalB) = outputs(seed: 5)
        XCTAssertEqual(a1, b1, "same seed, same masks")
        XCTAssertNotEqual(a1, a2, "a new mask each call")
        XCTAssertNotEqual(a1, evalA)
        XCTAssertEqual(evalA, evalB)
    }

    func testLoRALinearGradientsMatchFiniteDifferences() throws {
        var g = RandomGenerator(seed: 2)
        let base = Linear(5, 4, generator: &g)
        let layer = LoRALinear(wrapping: base, configuration: LoRAConfiguration(rank: 3, alpha: 6), generator: &g)
        for i in 0..<layer.loraB.count { layer.loraB.data[i] = g.normal() }
        let x = Tensor(shape: [2, 3, 5], values: (0..<30).map { _ in g.normal() }, requiresGrad: true)
        let r = GradientCheck.check([x, layer.loraA, layer.loraB]) { _ in (layer(x) * layer(x)).sum() }
        XCTAssertTrue(r.passed, "\(r)")
    }

    func testPEFTFilesRoundTrip() throws {
        let m = try Fixture.model()
        try LoRA(options: ["targets": "q_proj,down_proj", "rank": "4", "alpha": "8", "merge": "false"]).prepare(
            m, stage: Fixture.stage())
        var g = RandomGenerator(seed: 8)
        for (_, layer) in m.loraLayers { for i in 0..<layer.loraB.count { layer.loraB.data[i] = g.normal() * 0.2 } }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("peft-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try PEFTAdapter.save(m, to: dir, baseModel: "tiny-llava")
        let config =
            try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("adapter_config.json")))
            as! [String: Any]
        XCTAssertEqual(config["r"] as? Int, 4)
        XCTAssertEqual(config["lora_alpha"] as? Int, 8)
        XCTAssertEqual(config["peft_type"] as? String, "LORA")
        XCTAssertEqual(config["task_type"] as? String, "CAUSAL_LM")
        XCTAssertEqual(config["bias"] as? String, "none")
        XCTAssertEqual(config["base_model_name_or_path"] as? String, "tiny-llava")
        XCTAssertEqual(config["lora_dropout"] as? Double, 0.05)
        // The vision tower also has q_proj layers, so short names would over-select: a full-match pattern instead.
        XCTAssertEqual(
            config["target_modules"] as? String,
            #"model\.layers\.\d+\.self_attn\.q_proj|model\.layers\.\d+\.mlp\.down_proj"#)
        let keys = try SafeTensorsFile(url: dir.appendingPathComponent("adapter_model.safetensors")).tensorNames
        XCTAssertEqual(keys.count, 8)
        XCTAssertTrue(keys.contains("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"))
        XCTAssertTrue(keys.contains("base_model.model.model.layers.1.mlp.down_proj.lora_B.weight"))

        let batch = Fixture.batch(for: m)
        let adapted = Fixture.logits(m, batch)
        let fresh = try Fixture.model()
        XCTAssertEqual(try PEFTAdapter.load(from: dir, into: fresh).count, 4)
        XCTAssertEqual(Fixture.logits(fresh, batch), adapted)
        XCTAssertTrue(
            fresh.namedParameters().filter { $0.name.contains("lora_") }.allSatisfy { !$0.tensor.requiresGrad })
        XCTAssertThrowsError(try PEFTAdapter.load(from: dir, into: fresh)) { error in
            XCTAssertTrue("\(error)".contains("not a plain linear layer (already adapted?)"), "\(error)")
        }
        let quick = try Fixture.model("quick")
        XCTAssertThrowsError(try PEFTAdapter.load(from: dir, into: quick)) { error in
            XCTAssertTrue(
                "\(error)".contains(
                    "model.layers.0.mlp.down_proj is 160 -> 64 but its lora_A is [4, 64] and lora_B [32, 4]"),
                "\(error)")
        }
        XCTAssertTrue(quick.loraLayers.isEmpty, "a failed load changes nothing")
        XCTAssertThrowsError(try PEFTAdapter.load(from: dir.appendingPathComponent("nope"), into: quick)) { error in
            XCTAssertTrue("\(error)".contains("adapter_config.json is missing"), "\(error)")
        }
    }

    func testAdapterDirectorySavesEachStageBeforeMerging() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lora-stages-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let m = try Fixture.model()
        try Fixture.runStage(m, try LoRA(options: ["adapter-dir": dir.path]), steps: 1)
        let saved = dir.appendingPathComponent("stage-1-count")
        XCTAssertEqual(try PEFTAdapter.read(from: saved).layers.map(\.path).count, 6)
        XCTAssertTrue(m.loraLayers.isEmpty)
    }
}

final class PEFTFixtureTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../Fixtures/peft").standardizedFileURL

    func testReadsTheAdapterPEFTWrote() throws {
        let contents = try PEFTAdapter.read(from: Self.fixtures.appendingPathComponent("qwen2-tiny-lora"))
        XCTAssertEqual(contents.baseModel, "Tests/Fixtures/hf/qwen2-tiny")
        XCTAssertEqual(
            contents.layers.map(\.path),
            (0..<2).flatMap { i in
                ["mlp.down_proj", "self_attn.q_proj", "self_attn.v_proj"].map { "model.layers.\(i).\($0)" }
            })
        for layer in contents.layers {
            XCTAssertEqual(layer.configuration, LoRAConfiguration(rank: 4, alpha: 8, dropout: 0))
            XCTAssertEqual(layer.configuration.scaling, 2)
        }
        XCTAssertEqual(contents.layers[0].loraA.shape, [4, 128])
        XCTAssertEqual(contents.layers[2].loraB.shape, [32, 4])
    }
}
