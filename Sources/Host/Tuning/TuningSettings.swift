import Foundation
import Kernel

/// The settings of one tuning run (`TuningRun`, `skilltune tune`): the optimisation of every stage, how many
/// examples to draw, and the seed. Same settings, seed and thread count give the same bits.
public struct TuningSettings: Codable, Equatable, Sendable {
    /// Steps, batch size, learning rate (cosine with warmup), weight decay, clipping: the same for every stage.
    public var training: TrainingSettings
    /// Seed of the batch order and of any randomness a strategy draws (adapter initialisation, dropout).
    public var seed: UInt64
    /// At most this many train examples per data file (a file holds what it holds).
    public var trainExamples: Int
    /// At most this many eval examples per data file and watch benchmark.
    public var evalExamples: Int
    /// Longest greedy answer at evaluation, in tokens.
    public var maxNewTokens: Int
    /// Steps of every stage (from 1) after which the label-free forgetting monitor runs and is printed (and after
    /// the stage's last step); nil for none.
    public var probeAt: [Int]? = nil

    public init(
        steps: Int = 100, batchSize: Int = 8, learningRate: Double = 1e-4, seed: UInt64 = 0,
        trainExamples: Int = 10_000, evalExamples: Int = 200, maxNewTokens: Int = 16
    ) {
        training = TrainingSettings(steps: steps, batchSize: batchSize, learningRate: learningRate)
        self.seed = seed
        self.trainExamples = trainExamples
        self.evalExamples = evalExamples
        self.maxNewTokens = maxNewTokens
    }

    /// Every setting out of range, as "name must be ..." phrases (empty when all are fine).
    public func problems() -> [String] {
        var out: [String] = []
        for (name, value) in [
            ("steps", training.steps), ("batch size", training.batchSize), ("train examples", trainExamples),
            ("eval examples", evalExamples), ("max new tokens", maxNewTokens),
        ] where value < 1 {
            out.append("\(name) must be at least 1, got \(value)")
        }
        if !(training.learningRate > 0 && training.learningRate.isFinite) {
            out.append("learning rate must be a finite number > 0, got \(training.learningRate)")
        }
        if let probeAt, let bad = probeAt.first(where: { $0 < 1 }) {
            out.append("probe steps count from 1, got \(bad)")
        }
        return out
    }
}

/// One stage's data: the benchmark it trains on and, optionally, a separate benchmark whose every example is
/// evaluated instead of the train benchmark's eval split (`--eval-data`); then the train benchmark gives both of
/// its splits to training. The stage and its accuracy row are named after the train benchmark.
public struct TuningData {
    public var train: any Benchmark
    public var eval: (any Benchmark)?
    /// How the data was named (a file path with `@scoring`, or a registered name), for the result record.
    public var reference: String
    public var evalReference: String?

    public init(
        train: any Benchmark, eval: (any Benchmark)? = nil, reference: String? = nil, evalReference: String? = nil
    ) {
        self.train = train
        self.eval = eval
        self.reference = reference ?? train.name
        self.evalReference = evalReference ?? eval?.name
    }

    public var name: String { train.name }
}

extension SkillTuneRegistries {
    /// The stages of `skilltune tune`: one per data reference (a data file such as `arith.jsonl@numeric`, or a
    /// registered benchmark name), each paired with the eval file of the same position in `evalData` when given
    /// (`evalData` is empty, or as long as `data`).
    public func tuningData(_ data: [String], evalData: [String] = []) throws -> [TuningData] {
        guard evalData.isEmpty || evalData.count == data.count else {
            throw HostError(
                "\(evalData.count) eval file(s) for \(data.count) data file(s): give one --eval-data per --data, in the same order, or none"
            )
        }
        return try data.enumerated().map { i, reference in
            let eval = evalData.isEmpty ? nil : evalData[i]
            return TuningData(
                train: try benchmark(reference: reference, role: .target),
                eval: try eval.map { try benchmark(reference: $0, role: .target) },
                reference: reference, evalReference: eval)
        }
    }

    /// The strategy `name` with `options`, set up to be taken away after tuning: a strategy that trains adapters
    /// keeps one adapter through every stage (its `singleAdapterOptions`, e.g. `lora.merge=false`) unless the
    /// options say otherwise, so the adapter can be exported or merged at the end.
    public func tuningStrategy(_ name: String, options: [String: String] = [:]) throws -> any TuningStrategy {
        let strategy = try self.strategy(name, options: options)
        guard let adapters = strategy as? AdapterExporting, !adapters.keepsAdapters else { return strategy }
        let single = type(of: adapters).singleAdapterOptions
        if single.keys.contains(where: { options[$0] != nil }) { return strategy }
        return try self.strategy(name, options: options.merging(single) { given, _ in given })
    }
}
