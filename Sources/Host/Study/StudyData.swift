import Foundation
import Kernel

/// The examples of one comparison, drawn once from the seed and shared by every strategy.
public struct StudyData {
    public var targets: [any Benchmark]
    public var heldOut: [any Benchmark]
    /// The caption benchmark the built-in base model pretrains on (and whose prompts form the counting-bias
    /// probe's held-out split); nil for a study of an outside model (`StudyConfig.model`).
    public var caption: (any Benchmark)?
    /// Train examples per target, by name.
    public var train: [String: [Example]]
    /// Eval examples per benchmark (targets and held-out), by name.
    public var eval: [String: [Example]]
    /// Counting-bias probe prompts: the held-out split (captions, else held-out prompts) and the counting
    /// split (empty when the study has no counting benchmark).
    public var probeCaptions: [Example]
    public var probeCounting: [Example]
    /// Held-out examples for the layer-shift probe (prompt and reference answer).
    public var layerShiftExamples: [Example]

    /// Every benchmark in column order: targets in training order, then held-out.
    public var columns: [any Benchmark] { targets + heldOut }
    /// Stage names: the targets' names in training order (a data file's stem).
    public var targetNames: [String] { targets.map(\.name) }
    public var heldOutNames: [String] { heldOut.map(\.name) }

    public init(config: StudyConfig, registries: SkillTuneRegistries) throws {
        let evalData = config.evalData ?? [:]
        func benchmark(_ reference: String, _ role: BenchmarkRole) throws -> any Benchmark {
            let plain = try registries.benchmark(reference: reference, role: role)
            guard let evalFile = evalData[plain.name] else { return plain }
            return try registries.benchmark(reference: reference, role: role, evalFile: evalFile)
        }
        targets = try config.targets.map { try benchmark($0, .target) }
        heldOut = try config.heldOut.map { try benchmark($0, .heldOut) }
        let names = (targets + heldOut).map(\.name)
        for name in evalData.keys.sorted() where !names.contains(name) {
            throw HostError(
                "evalData names '\(name)', which is none of the targets or held-out benchmarks "
                    + "(\(names.joined(separator: ", "))); a data file is named by its file name without the extension")
        }
        if let repeated = names.first(where: { name in names.filter { $0 == name }.count > 1 }) {
            throw HostError(
                "targets/held-out: two benchmarks are named '\(repeated)' (a data file is named by its "
                    + "file name without the extension); rename one of the files")
        }
        caption = config.model == nil ? try registries.benchmark(config.captionBenchmark) : nil
        let seed = config.seed
        var train: [String: [Example]] = [:]
        var eval: [String: [Example]] = [:]
        for b in targets {
            train[b.name] = try b.examples(.train, count: config.trainExamplesPerTarget, seed: seed)
            guard !(train[b.name] ?? []).isEmpty else {
                throw HostError("target '\(b.name)': no train examples (a data file needs lines in its train split)")
            }
        }
        for b in targets + heldOut {
            eval[b.name] = try b.examples(.eval, count: config.evalExamplesPerBenchmark, seed: seed)
        }
        self.train = train
        self.eval = eval
        // A few eval examples of every held-out benchmark, in a fixed order.
        let perBenchmark = max(1, config.probeExamples / max(1, heldOut.count))
        layerShiftExamples = heldOut.flatMap { Array((eval[$0.name] ?? []).prefix(perBenchmark)) }
        probeCaptions = try caption?.examples(.eval, count: config.probeExamples, seed: seed) ?? layerShiftExamples
        probeCounting = try Self.countingPrompts(config: config, registries: registries, targets: targets)
    }

    /// The counting split: the registered counting benchmark for the built-in model; for an outside model the
    /// target named like it (`count`) if the study has one, else none.
    static func countingPrompts(
        config: StudyConfig, registries: SkillTuneRegistries,
        targets: [any Benchmark]
    ) throws -> [Example] {
        let counting: (any Benchmark)?
        if config.model == nil {
            counting = try registries.benchmark(config.countingBenchmark)
        } else {
            counting = targets.first { $0.name == config.countingBenchmark }
        }
        return try counting?.examples(.eval, count: config.probeExamples, seed: config.seed &+ 1) ?? []
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
