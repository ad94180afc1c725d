import Foundation
import Kernel

/// The examples of one comparison, drawn once from the seed and shared by every strategy.
public struct StudyData {
    public var targets: [any Benchmark]
    public var heldOut: [any Benchmark]
    public var caption: any Benchmark
    /// Train examples per target, by name.
    public var train: [String: [Example]]
    /// Eval examples per benchmark (targets and held-out), by name.
    public var eval: [String: [Example]]
    /// Counting-bias probe prompts: held-out captions and counting questions.
    public var probeCaptions: [Example]
    public var probeCounting: [Example]
    /// Held-out examples for the layer-shift probe (prompt and reference answer).
    public var layerShiftExamples: [Example]

    /// Every benchmark in column order: targets in training order, then held-out.
    public var columns: [any Benchmark] { targets + heldOut }

    public init(config: StudyConfig, registries: SkillTuneRegistries) throws {
        targets = try config.targets.map { try registries.benchmark($0) }
        heldOut = try config.heldOut.map { try registries.benchmark($0) }
        caption = try registries.benchmark(config.captionBenchmark)
        let seed = config.seed
        var train: [String: [Example]] = [:], eval: [String: [Example]] = [:]
        for b in targets {
            train[b.name] = try b.examples(.train, count: config.trainExamplesPerTarget, seed: seed)
        }
        for b in targets + heldOut {
            eval[b.name] = try b.examples(.eval, count: config.evalExamplesPerBenchmark, seed: seed)
        }
        self.train = train
        self.eval = eval
        probeCaptions = try caption.examples(.eval, count: config.probeExamples, seed: seed)
        let counting = try registries.benchmark(config.countingBenchmark)
        probeCounting = try counting.examples(.eval, count: config.probeExamples, seed: seed &+ 1)
        // A few eval examples of every held-out benchmark, in a fixed order.
        let perBenchmark = max(1, config.probeExamples / max(1, heldOut.count))
        layerShiftExamples = heldOut.flatMap { Array((eval[$0.name] ?? []).prefix(perBenchmark)) }
    }

    /// Every word the study's benchmarks declare, every word of every prompt and answer it will show a model,
    /// and the number words (so the counting-bias probe finds them), sorted: a word-level backbone's vocabulary.
    public static func vocabulary(of examples: [[Example]], benchmarks: [any Benchmark]) -> [String] {
        var words = Set(NumberTokens.words)
        for b in benchmarks { words.formUnion(b.vocabulary) }
        for list in examples {
            for e in list {
                words.formUnion(WordText.words(in: e.prompt))
                words.formUnion(WordText.words(in: e.answer))
            }
        }
        return words.sorted()
    }
}
