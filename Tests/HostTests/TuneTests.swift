import Foundation
import HFCausalLM
import Host
import Kernel
import LoRA
import SkillTuneCLI
import Transformer
import XCTest

/// `TuningRun` and its export: stages and accuracy rows, and exported checkpoints that our loader (and, by the
/// committed check script, transformers and peft) reads back with the tuned model's values.
final class TuneTests: XCTestCase {
    static let shipped = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("examples/data")
    let registries = SkillTuneRegistries.builtIn()
    var scratch: URL!

    override func setUpWithError() throws {
        Progress.isEnabled = false
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("tune-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(at: scratch) }

    // MARK: Helpers

    /// A fresh random Qwen2 (byte-level tokenizer, untied head) saved in Float32 under `scratch/name`.
    func makeCheckpoint(_ name: String = "base", tied: Bool = false) throws -> URL {
        let config = HFModelConfig(
            modelType: "qwen2",
            decoder: DecoderConfig(
                vocabularySize: 260, hiddenSize: 32, intermediateSize: 48, layers: 2, heads: 4, kvHeads: 2,
                tieWordEmbeddings: tied, maxPositions: 256))
        let directory = scratch.appendingPathComponent(name)
        try HFCausalLM.create(config: config, seed: 3).save(to: directory)
        return directory
    }

    /// Two tiny data files and a watch file, every line with an explicit split.
    func writeData() throws -> (first: URL, second: URL, watch: URL) {
        func file(_ name: String, _ rows: [(String, String, Bool)]) throws -> URL {
            let url = scratch.appendingPathComponent(name)
            let lines = rows.map { prompt, answer, eval in
                "{\"prompt\": \"\(prompt)\", \"answer\": \"\(answer)\", \"split\": \"\(eval ? "eval" : "train")\"}"
            }
            try lines.joined(separator: "\n").write(to: url, atomically: true, encoding: .utf8)
            return url
        }
        let parity = try file("parity.jsonl", (0..<20).map { ("Is \($0) odd?", $0 % 2 == 1 ? "yes" : "no", $0 >= 16) })
        let sign = try file("sign.jsonl", (1..<21).map { ("Is -\($0) below zero?", "yes", $0 >= 17) })
        let watch = try file(
            "facts.jsonl", [("Sky?", "blue", true), ("Grass?", "green", true), ("Snow?", "white", false)])
        return (parity, sign, watch)
    }

    func tuningRun(
        _ model: any Backbone, strategy: String, options: [String: String] = [:], steps: Int = 4,
        data: [URL]? = nil
    ) throws -> TuningRun {
        let files = try writeData()
        let stages = try registries.tuningData((data ?? [files.first, files.second]).map(\.path))
        return try TuningRun(
            model: model, strategy: registries.tuningStrategy(strategy, options: options), data: stages,
            watch: [registries.benchmark(reference: files.watch.path, role: .heldOut)],
            settings: TuningSettings(steps: steps, batchSize: 4, learningRate: 1e-2, maxNewTokens: 4))
    }

    func logits(_ model: any Backbone, _ ids: [Int32] = [5, 70, 101, 33, 250, 9, 12]) -> [Float] {
        model.setTraining(false)
        let t = ids.count
        return Autograd.withNoGrad {
            let out = model.forward(Batch(tokens: ids, targets: ids, lengths: [t], batchSize: 1, sequenceLength: t))
                .logits
            return Array(UnsafeBufferPointer(start: out.data, count: out.count))
        }
    }

    func rawBytes(_ file: SafeTensorsFile, _ name: String) throws -> [UInt8] {
        try file.withRawBytes(ofTensorNamed: name) { Array($0) }
    }

    // MARK: Runs

    func testTwoStagesGiveRowsAndTheExportReloadsWithIdenticalLogitsAndFrozenBytes() throws {
        let input = try makeCheckpoint()
        let model = try HFCausalLM.load(directory: input)
        let run = try tuningRun(model, strategy: "sa-proj")
        let result = try run.run()
        XCTAssertEqual(result.stages.map(\.name), ["parity", "sign"])
        XCTAssertEqual(result.stages.map(\.losses.count), [4, 4])
        XCTAssertTrue(result.stages.allSatisfy { $0.losses.allSatisfy { $0 != nil && $0!.isFinite } })
        XCTAssertEqual(result.accuracy.map(\.benchmark), ["parity", "sign", "facts"])
        XCTAssertEqual(result.accuracy.map(\.role), ["data", "data", "watch"])
        XCTAssertEqual(result.accuracy.map(\.evalExamples), [4, 4, 3], "explicit eval lines; every watch line")
        for row in result.accuracy {
            XCTAssertEqual(row.afterStage.count, 2)
            XCTAssertEqual(row.after, row.afterStage.last)
            XCTAssertEqual(row.change, row.after - row.before, accuracy: 1e-12)
        }
        XCTAssertTrue(result.table().contains("after parity"), result.table())

        let out = scratch.appendingPathComponent("out")
        let export = try run.export(to: out)
        XCTAssertEqual(export.format, .checkpoint)
        XCTAssertEqual(export.files, ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"])
        XCTAssertEqual(
            try Data(contentsOf: out.appendingPathComponent("config.json")),
            try Data(contentsOf: input.appendingPathComponent("config.json")), "config.json unchanged")
        let reloaded = try HFCausalLM.load(directory: out)
        XCTAssertEqual(logits(reloaded), logits(model), "F32 in, F32 out: the tuned model's exact values")

        let before = try SafeTensorsFile(url: input.appendingPathComponent("model.safetensors"))
        let after = try SafeTensorsFile(url: out.appendingPathComponent("model.safetensors"))
        XCTAssertEqual(after.tensorNames.sorted(), before.tensorNames.sorted())
        var frozen = 0
        var tuned = 0
        for name in before.tensorNames {
            let same = try rawBytes(before, name) == rawBytes(after, name)
            if name.contains(".self_attn.") && name.hasSuffix(".weight") {
                XCTAssertFalse(same, "\(name) was tuned")
                tuned += 1
            } else if !name.contains(".self_attn.") {
                XCTAssertTrue(same, "\(name) was frozen: the input's bytes")
                frozen += 1
            }
        }
        XCTAssertEqual(tuned, 8)
        XCTAssertGreaterThan(frozen, 8)
    }

    func testSameSeedGivesTheSameBits() throws {
        let input = try makeCheckpoint()
        var losses: [[Double?]] = []
        var weights: [Data] = []
        for k in 0..<2 {
            let run = try tuningRun(try HFCausalLM.load(directory: input), strategy: "mlp")
            losses.append(try run.run().stages.flatMap(\.losses))
            let out = scratch.appendingPathComponent("out-\(k)")
            try run.export(to: out)
            weights.append(try Data(contentsOf: out.appendingPathComponent("model.safetensors")))
        }
        XCTAssertEqual(losses[0], losses[1])
        XCTAssertEqual(weights[0], weights[1])
    }

    /// `--probe-at` prints the forgetting monitor as it trains, logs it per stage, and leaves the bits alone.
    func testProbeAtPrintsTheMonitorAndLeavesTrainingBitIdentical() throws {
        let input = try makeCheckpoint()
        let plain = try tuningRun(try HFCausalLM.load(directory: input), strategy: "lora").run()
        let probed = try tuningRun(try HFCausalLM.load(directory: input), strategy: "lora")
        var settings = probed.settings
        settings.probeAt = [2]
        let run = try TuningRun(
            model: probed.model, strategy: probed.strategy, data: probed.data, watch: probed.watch, settings: settings)
        var lines: [String] = []
        run.log = { lines.append($0) }
        let result = try run.run()
        XCTAssertEqual(result.stages.map(\.losses), plain.stages.map(\.losses), "the same training")
        XCTAssertEqual(result.accuracy, plain.accuracy, "the same accuracies")
        XCTAssertEqual(result.stages.map { $0.monitor?.map(\.step) }, [[2, 4], [2, 4]])
        let printed = lines.filter { $0.contains("KL to base") }
        XCTAssertEqual(printed.count, 4, "\(lines)")
        XCTAssertTrue(printed[0].hasPrefix("parity step 2: KL to base "), printed[0])
        XCTAssertTrue(printed[0].contains("(3 watch prompts)"), printed[0])
        XCTAssertGreaterThan(result.stages[1].monitor!.last!.klToBase, 0, "lr 1e-2 for 8 steps moves the model")
        XCTAssertNil(plain.stages[0].monitor)
    }

    // MARK: Export formats

    func testShippedBFloat16CheckpointKeepsItsDTypeTiedHeadAndFrozenBytes() throws {
        let input = Self.shipped.appendingPathComponent("tiny-qwen2")
        let model = try HFCausalLM.load(directory: input)
        let run = try tuningRun(model, strategy: "sa-proj", steps: 3)
        try run.run()
        let out = scratch.appendingPathComponent("bf16")
        try run.export(to: out)
        for name in ["config.json", "tokenizer.json", "tokenizer_config.json", "generation_config.json"] {
            XCTAssertEqual(
                try Data(contentsOf: out.appendingPathComponent(name)),
                try Data(contentsOf: input.appendingPathComponent(name)), name)
        }
        let before = try SafeTensorsFile(url: input.appendingPathComponent("model.safetensors"))
        let after = try SafeTensorsFile(url: out.appendingPathComponent("model.safetensors"))
        XCTAssertEqual(Set(after.tensorNames), Set(before.tensorNames))
        XCTAssertNil(after.info(named: "lm_head.weight"), "a tied head stays tied")
        XCTAssertTrue(after.tensorInfos.allSatisfy { $0.dtype == .bfloat16 })
        for name in before.tensorNames where !name.contains(".self_attn.") {
            XCTAssertEqual(try rawBytes(before, name), try rawBytes(after, name), name)
        }
        // The reloaded weights are the tuned Float32 values rounded to bfloat16.
        let reloaded = try HFCausalLM.load(directory: out).parameterSnapshot()
        for (name, tensor) in model.namedParameters() {
            let back = try XCTUnwrap(reloaded[name])
            for i in stride(from: 0, to: tensor.count, by: 7) {
                let rounded = Float16Conversion.float(
                    fromBFloat16Bits: Float16Conversion.bfloat16Bits(from: tensor.data[i]))
                XCTAssertEqual(back.data[i].bitPattern, rounded.bitPattern, name)
            }
        }
    }

    func testDTypeConversionAndFloat16FrozenBytes() throws {
        let input = try makeCheckpoint()
        // An F16 input: the untuned model exported as float16.
        let base = try HFCausalLM.load(directory: input)
        let half = scratch.appendingPathComponent("half")
        try AtomicDirectory.write(to: half) {
            try base.exportCheckpoint(to: $0, options: CheckpointExportOptions(dtype: .float16))
        }
        let config =
            try JSONSerialization.jsonObject(with: Data(contentsOf: half.appendingPathComponent("config.json")))
            as? [String: Any]
        XCTAssertEqual(config?["dtype"] as? String, "float16")
        let model = try HFCausalLM.load(directory: half)
        let run = try tuningRun(model, strategy: "mlp-gate-up", steps: 3)
        try run.run()
        let out = scratch.appendingPathComponent("out")
        try run.export(to: out)
        let before = try SafeTensorsFile(url: half.appendingPathComponent("model.safetensors"))
        let after = try SafeTensorsFile(url: out.appendingPathComponent("model.safetensors"))
        XCTAssertTrue(after.tensorInfos.allSatisfy { $0.dtype == .float16 })
        for name in before.tensorNames where !name.contains("gate_proj") && !name.contains("up_proj") {
            XCTAssertEqual(try rawBytes(before, name), try rawBytes(after, name), name)
        }
        // --dtype f32 from the F16 input: every value widened exactly, config says float32.
        let wide = scratch.appendingPathComponent("wide")
        try run.export(to: wide, options: CheckpointExportOptions(dtype: .float32))
        let wideConfig =
            try JSONSerialization.jsonObject(with: Data(contentsOf: wide.appendingPathComponent("config.json")))
            as? [String: Any]
        XCTAssertEqual(wideConfig?["dtype"] as? String, "float32")
        XCTAssertEqual(logits(try HFCausalLM.load(directory: wide)), logits(model))
    }

    func testShardingWithATinyThresholdWritesAnIndexOurLoaderReads() throws {
        let input = try makeCheckpoint(tied: true)
        let model = try HFCausalLM.load(directory: input)
        let run = try tuningRun(model, strategy: "full", steps: 2)
        try run.run()
        let out = scratch.appendingPathComponent("sharded")
        let export = try run.export(to: out, options: CheckpointExportOptions(maxShardBytes: 20_000))
        let shards = export.files.filter { $0.hasPrefix("model-") }
        XCTAssertGreaterThan(shards.count, 2)
        XCTAssertEqual(shards.first, "model-00001-of-\(String(format: "%05d", shards.count)).safetensors")
        XCTAssertFalse(export.files.contains("model.safetensors"))
        let index = try XCTUnwrap(
            JSONSerialization.jsonObject(
                with: Data(contentsOf: out.appendingPathComponent("model.safetensors.index.json"))) as? [String: Any])
        let map = try XCTUnwrap(index["weight_map"] as? [String: String])
        let total = try XCTUnwrap((index["metadata"] as? [String: Any])?["total_size"] as? Int)
        XCTAssertEqual(Set(map.keys), Set(model.namedParameters().map(\.name)))
        XCTAssertEqual(Set(map.values), Set(shards))
        XCTAssertEqual(total, model.parameterCounts.total * 4)
        for shard in shards {
            let file = try SafeTensorsFile(url: out.appendingPathComponent(shard))
            let bytes = file.tensorInfos.reduce(0) { $0 + $1.byteCount }
            XCTAssertTrue(bytes <= 20_000 || file.tensorInfos.count == 1, "\(shard): \(bytes) bytes")
            XCTAssertEqual(file.metadata, ["format": "pt"])
        }
        XCTAssertEqual(logits(try HFCausalLM.load(directory: out)), logits(model))
    }

    func testShardPlanFollowsHuggingFace() {
        XCTAssertEqual(SafeTensors.shardPlan(byteCounts: [4, 4, 4], maxShardBytes: 8), [[0, 1], [2]])
        // A tensor over the limit gets a shard of its own at once; the others fill shards in order.
        XCTAssertEqual(SafeTensors.shardPlan(byteCounts: [3, 20, 3, 3], maxShardBytes: 8), [[1], [0, 2], [3]])
        XCTAssertEqual(SafeTensors.shardPlan(byteCounts: [], maxShardBytes: 8), [[]])
    }

    func testLoRAExportsAPEFTAdapterAndMergesOnRequest() throws {
        let input = try makeCheckpoint()
        let model = try HFCausalLM.load(directory: input)
        let run = try tuningRun(model, strategy: "lora", options: ["rank": "4"], steps: 3)
        XCTAssertEqual(
            run.strategy.options.first { $0.name == "merge" }?.value, "false", "one adapter through every stage")
        try run.run()
        let tuned = logits(model)
        let out = scratch.appendingPathComponent("adapter")
        let export = try run.export(to: out)
        XCTAssertEqual(export.format, .adapter)
        XCTAssertEqual(export.files, ["adapter_config.json", "adapter_model.safetensors"])
        let fresh = try HFCausalLM.load(directory: input)
        XCTAssertNotEqual(logits(fresh), tuned, "the adapter changed the model")
        let adapted = try PEFTAdapter.load(from: out, into: fresh)
        XCTAssertEqual(adapted.count, 6, "gate/up/down of 2 layers")
        XCTAssertEqual(logits(fresh), tuned)

        let merged = scratch.appendingPathComponent("merged")
        XCTAssertEqual(try run.export(to: merged, merge: true).format, .checkpoint)
        let reloaded = try HFCausalLM.load(directory: merged)
        XCTAssertNil(reloaded.module(at: "model.layers.0.mlp.gate_proj") as? LoRALinear)
        for (a, b) in zip(logits(reloaded), tuned) { XCTAssertEqual(a, b, accuracy: 1e-4) }
        XCTAssertThrowsError(try run.export(to: scratch.appendingPathComponent("again")), "merged: no adapter left")
    }

    // MARK: Errors

    func testErrorsNameWhatIsWrong() throws {
        XCTAssertThrowsError(try registries.tuningStrategy("sa-porj")) { error in
            XCTAssertTrue("\(error)".contains("sa-proj"), "\(error)")
        }
        XCTAssertThrowsError(try registries.tuningData([scratch.appendingPathComponent("missing.jsonl").path])) {
            error in
            XCTAssertTrue("\(error)".contains("missing.jsonl: data file not found"), "\(error)")
        }
        let files = try writeData()
        XCTAssertThrowsError(
            try registries.tuningData([files.first.path, files.second.path], evalData: [files.watch.path])
        ) { error in
            XCTAssertTrue("\(error)".contains("one --eval-data per --data"), "\(error)")
        }
        let input = try makeCheckpoint()
        let moe = try tuningRun(try HFCausalLM.load(directory: input), strategy: "moe")
        XCTAssertThrowsError(try moe.checkExportable()) { error in
            XCTAssertTrue("\(error)".contains("model.layers.0.mlp.experts.0"), "\(error)")
            XCTAssertTrue("\(error)".contains("unexpected keys"), "\(error)")
        }
        let plain = try tuningRun(try HFCausalLM.load(directory: input), strategy: "sa-proj", steps: 1)
        XCTAssertThrowsError(try plain.checkExportable(merge: true)) {
            XCTAssertTrue("\($0)".contains("--merge applies"), "\($0)")
        }
        let folded = try tuningRun(try HFCausalLM.load(directory: input), strategy: "lora", options: ["merge": "true"])
        XCTAssertThrowsError(try folded.checkExportable()) {
            XCTAssertTrue("\($0)".contains("lora.merge=false"), "\($0)")
        }
        XCTAssertEqual(try folded.checkExportable(merge: true), .checkpoint)

        // An existing OUT is refused unless replacing; replacing swaps in a complete directory.
        try plain.run()
        let out = scratch.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        try Data("old".utf8).write(to: out.appendingPathComponent("old.txt"))
        XCTAssertThrowsError(try plain.export(to: out)) { XCTAssertTrue($0 is AtomicDirectory.ExistsError, "\($0)") }
        try plain.export(to: out, replacing: true)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.appendingPathComponent("old.txt").path))
        XCTAssertNoThrow(try HFCausalLM.load(directory: out))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: scratch.path).filter { $0.hasPrefix(".") }
        XCTAssertEqual(leftovers, [], "no temporary directory left behind")
    }

    func testAFailedExportLeavesNoDirectory() throws {
        let out = scratch.appendingPathComponent("never")
        struct Stop: Error {}
        XCTAssertThrowsError(
            try AtomicDirectory.write(to: out) { directory in
                try Data("half".utf8).write(to: directory.appendingPathComponent("config.json"))
                throw Stop()
            })
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: scratch.path), [])
    }
}
