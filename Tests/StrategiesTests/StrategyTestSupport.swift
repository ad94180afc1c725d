import ComponentTuning
import Kernel
import LoRA
import LwF
import MoE
import TinyLLaVA
import WiSEFT
import XCTest

/// Shared pieces of the strategy tests: a tiny model and batch, a registry of every built-in strategy, and a
/// short stage run.
enum Fixture {
    static let vocabulary = [
        "how", "many", "circles", "are", "there", "in", "this", "image", "?", ".", "red", "blue",
        "0", "1", "2", "3", "a", "b",
    ]

    static func model(_ preset: String = "tiny", seed: UInt64 = 4) throws -> TinyLLaVA {
        try TinyLLaVA(preset: preset, vocabulary: vocabulary, seed: seed)
    }

    static func image(seed: UInt64) -> Image {
        var g = RandomGenerator(seed: seed)
        return Image(width: 32, height: 32, pixels: (0..<3072).map { _ in UInt8(g.int(below: 256)) })
    }

    /// Two rows, one with an image.
    static func batch(for m: TinyLLaVA) -> Batch {
        Batch(
            prompts: [m.encodePrompt("how many circles ?", hasImage: true), m.encodePrompt("a b", hasImage: false)],
            answers: [m.encodeAnswer("there are 2 circles ."), m.encodeAnswer("red blue")],
            images: [image(seed: 9), nil])
    }

    static func stage(_ index: Int = 1, steps: Int = 3) -> StageContext {
        StageContext(index: index, name: "count", totalSteps: steps, seed: 11)
    }

    /// Runs one short stage on a repeated batch.
    @discardableResult
    static func runStage(
        _ m: TinyLLaVA, _ strategy: any TuningStrategy, index: Int = 1, steps: Int = 3,
        learningRate: Double = 1e-2
    ) throws -> TrainingReport {
        let batch = batch(for: m)
        return try StageTrainer.run(
            model: m, strategy: strategy, stage: stage(index, steps: steps),
            settings: TrainingSettings(steps: steps, batchSize: 2, learningRate: learningRate)
        ) { _ in batch }
    }

    /// Every built-in strategy, registered the way the host does it.
    static func registry() throws -> Registry<StrategyFactory> {
        let registry = Registry<StrategyFactory>(kind: "strategy")
        try ComponentTuningStrategies.register(in: registry)
        try LoRAStrategies.register(in: registry)
        try LwFStrategies.register(in: registry)
        try WiSEFTStrategies.register(in: registry)
        try MoEStrategies.register(in: registry)
        return registry
    }

    /// Logits of `m` on `batch` in evaluation mode, no grad.
    static func logits(_ m: TinyLLaVA, _ batch: Batch) -> [Float] {
        m.setTraining(false)
        return Autograd.withNoGrad { m.forward(batch).logits.array }
    }

    static func maxDifference(_ a: [Float], _ b: [Float]) -> Float {
        precondition(a.count == b.count)
        return zip(a, b).map { Swift.abs($0 - $1) }.max() ?? 0
    }
}

extension XCTestCase {
    /// Every parameter named in `before` that is not in `trainable` has exactly its old bits.
    func assertUnchanged(
        _ m: Module, except trainable: Set<String>, before: [String: Tensor],
        _ context: String, file: StaticString = #filePath, line: UInt = #line
    ) {
        var checked = 0
        for (name, t) in m.namedParameters() where !trainable.contains(name) {
            guard let old = before[name] else { continue }
            checked += 1
            let same = t.array.withUnsafeBytes { a in old.array.withUnsafeBytes { b in a.elementsEqual(b) } }
            XCTAssertTrue(same, "\(context): frozen \(name) changed", file: file, line: line)
        }
        XCTAssertGreaterThan(checked, 0, "\(context): nothing frozen was checked", file: file, line: line)
    }
}
