import Foundation
import Kernel

/// A single tuning run on a model the caller holds: one stage per data benchmark, in order, with one strategy,
/// and the accuracy of every data benchmark's eval split and of every watch benchmark (all its examples, up to
/// `evalExamples`: it is never trained on) before tuning and after each stage; then `export(to:)` writes the tuned model where another tool can load it.
///
/// ```swift
/// let registries = SkillTuneRegistries.builtIn()
/// let model = try registries.backbone(reference: "examples/data/tiny-qwen2")
/// let run = try TuningRun(model: model, strategy: registries.tuningStrategy("sa-proj"),
///                         data: registries.tuningData(["examples/data/parity.jsonl"]),
///                         watch: [registries.benchmark(reference: "examples/data/facts.jsonl", role: .heldOut)],
///                         settings: TuningSettings(steps: 100, learningRate: 3e-3))
/// print(try run.run().table())
/// try run.export(to: URL(fileURLWithPath: "tuned"))
/// ```
///
/// Stage k trains `settings.training.steps` AdamW steps (`StageTrainer`) on minibatches drawn from the stage's
/// train examples in a seeded order; the strategy's `prepare`/`finish` run at each stage's ends, so recipes that
/// merge, interpolate or distil per stage behave as in the study. The model is changed in place.
public final class TuningRun {
    public let model: any Backbone
    public let strategy: any TuningStrategy
    public let data: [TuningData]
    public let watch: [any Benchmark]
    public let settings: TuningSettings
    /// How the model was named (a checkpoint path), recorded in the result and as a PEFT adapter's base model.
    public var modelReference: String
    /// Where progress messages go (standard error by default).
    public var log: (String) -> Void = { Terminal.error($0) }
    /// The result of `run()`, with the export once there is one.
    public internal(set) var result: TuningResult?
    /// The model's parameter names before any strategy touched it: an export must have exactly these.
    let baseParameterNames: [String]

    public init(
        model: any Backbone, strategy: any TuningStrategy, data: [TuningData], watch: [any Benchmark] = [],
        settings: TuningSettings = TuningSettings(), modelReference: String? = nil
    ) throws {
        guard !data.isEmpty else { throw HostError("no data to tune on: give at least one data file (--data FILE)") }
        let problems = settings.problems()
        guard problems.isEmpty else { throw HostError("bad settings: " + problems.joined(separator: "; ")) }
        var seen = Set<String>()
        for name in data.map(\.name) + watch.map(\.name) where !seen.insert(name).inserted {
            throw HostError(
                "'\(name)' is named twice among the data and watch benchmarks; each row of the accuracy table needs its own name (rename one file)"
            )
        }
        if !model.acceptsImages {
            for b in data.map(\.train) + data.compactMap(\.eval) + watch {
                if let first = try Self.examplesOf(b).first(where: { $0.image != nil }) {
                    throw HostError(
                        "\(b.name): example \(first.id) has an image, but \(model.family) is a text-only model")
                }
            }
        }
        self.model = model
        self.strategy = strategy
        self.data = data
        self.watch = watch
        self.settings = settings
        self.modelReference = modelReference ?? model.family
        baseParameterNames = model.namedParameters().map(\.name)
    }

    /// A few examples of each split, to check their kind before any work.
    private static func examplesOf(_ b: any Benchmark) throws -> [Example] {
        try b.examples(.train, count: 4, seed: 0) + b.examples(.eval, count: 4, seed: 0)
    }

    func context(_ k: Int) -> StageContext {
        StageContext(index: k, name: data[k - 1].name, totalSteps: settings.training.steps, seed: settings.seed)
    }

    /// The examples every stage trains on and every column is scored on, drawn once from the seed.
    struct Examples {
        var train: [[Example]]
        /// Per column (data files in stage order, then watch): examples and scoring rule.
        var columns: [(name: String, role: String, examples: [Example], benchmark: any Benchmark)]
    }

    func drawExamples() throws -> Examples {
        let seed = settings.seed
        let trainCount = settings.trainExamples
        let evalCount = settings.evalExamples
        var train: [[Example]] = []
        var columns: [(String, String, [Example], any Benchmark)] = []
        for d in data {
            var examples = try d.train.examples(.train, count: trainCount, seed: seed)
            if d.eval != nil { examples += try d.train.examples(.eval, count: trainCount, seed: seed) }
            examples = Array(examples.prefix(trainCount))
            guard !examples.isEmpty else {
                throw HostError(
                    "\(d.reference): no train examples (every line is in the eval split; remove some \"split\": \"eval\" fields, or give the eval lines as --eval-data)"
                )
            }
            train.append(examples)
            let scorer = d.eval ?? d.train
            var eval = try scorer.examples(.eval, count: evalCount, seed: seed)
            if let explicit = d.eval {
                eval = Array((eval + (try explicit.examples(.train, count: evalCount, seed: seed))).prefix(evalCount))
            }
            guard !eval.isEmpty else {
                throw HostError(
                    "\(d.evalReference ?? d.reference): no eval examples (lines without a \"split\" go to eval one in five, by a hash; add lines, mark some \"split\": \"eval\", or give --eval-data FILE)"
                )
            }
            columns.append((d.name, "data", eval, scorer))
        }
        // A watch benchmark is never trained on: every example of it counts (eval split first).
        for w in watch {
            let eval = Array(
                (try w.examples(.eval, count: evalCount, seed: seed)
                    + w.examples(.train, count: evalCount, seed: seed)).prefix(evalCount))
            guard !eval.isEmpty else { throw HostError("\(w.name): the watch benchmark has no examples") }
            columns.append((w.name, "watch", eval, w))
        }
        return Examples(train: train, columns: columns)
    }

    /// Accuracy (percent) of the model as it is now on every column.
    func evaluate(_ examples: Examples, label: String) throws -> [Double] {
        let progress = Progress("  eval \(label)", total: examples.columns.count, unit: "benchmark")
        var out: [Double] = []
        for (i, column) in examples.columns.enumerated() {
            try Interruption.check("the evaluation \(label) on \(column.name)")
            out.append(
                Evaluator.evaluate(
                    model, on: column.benchmark, examples: column.examples,
                    maxNewTokens: settings.maxNewTokens
                ).accuracy)
            progress.update(i + 1)
        }
        return out
    }

    /// Evaluates the model, tunes it stage by stage (evaluating after each), and returns the result.
    /// The forgetting monitor on the watch benchmarks' eval prompts (held out: never trained on), else on the data's
    /// eval prompts; at most 32 prompts. Measured on the model before tuning, which is the base.
    func makeMonitor(_ examples: Examples) -> (StageMonitorRun, String) {
        let watch = examples.columns.filter { $0.role == "watch" }
        let columns = watch.isEmpty ? examples.columns : watch
        let prompts = Array(columns.flatMap(\.examples).prefix(32))
        let what = "\(prompts.count) \(watch.isEmpty ? "eval prompts of the data" : "watch prompts")"
        return (StageMonitorRun(base: model, heldOut: prompts, captions: prompts, counting: nil), what)
    }

    @discardableResult
    public func run() throws -> TuningResult {
        let started = Date()
        let examples = try drawExamples()
        log("evaluating \(modelReference) before tuning on \(examples.columns.count) benchmark(s)")
        var accuracy = [try evaluate(examples, label: "before")]
        var stages: [TuningResult.Stage] = []
        let monitorSteps = ForgettingMonitor.steps(settings.probeAt, stageSteps: settings.training.steps)
        let (monitor, monitored) = monitorSteps.isEmpty ? (nil, "") : makeMonitor(examples)
        for k in 1...data.count {
            let name = data[k - 1].name
            let stageStart = Date()
            var schedule = BatchSchedule(
                examples: examples.train[k - 1], batchSize: settings.training.batchSize,
                generator: RandomGenerator(seed: settings.seed).fork("tune.stage.\(k).\(name)"))
            let progress = Progress("\(strategy.name) \(k)/\(data.count) \(name)", total: settings.training.steps)
            var counts = (trainable: 0, total: 0)
            var recent: [Float] = []
            var points: [MonitorPoint] = []
            let report = try StageTrainer.run(
                model: model, strategy: strategy, stage: context(k), settings: settings.training,
                batch: { step in
                    if step == 0 { counts = self.model.parameterCounts }
                    return makeBatch(self.model, schedule.next())
                }
            ) { step, loss, _ in
                recent.append(loss)
                if recent.count > 20 { recent.removeFirst() }
                progress.update(step, detail: String(format: "loss %.3f", recent.reduce(0, +) / Float(recent.count)))
                if let monitor, monitorSteps.contains(step) {
                    let point = monitor.point(step, model: self.model, maxNewTokens: self.settings.maxNewTokens)
                    self.model.setTraining(true)
                    points.append(point)
                    self.log(
                        String(
                            format: "%@ step %d: KL to base %.4f nats, number-token mass %.3f (%@)", name, step,
                            point.klToBase, point.heldOutNumberMass, monitored))
                }
            }
            accuracy.append(try evaluate(examples, label: "after \(name)"))
            let finite = report.losses.filter(\.isFinite).map(Double.init)
            stages.append(
                TuningResult.Stage(
                    name: name, trainExamples: examples.train[k - 1].count,
                    losses: report.losses.map { $0.isFinite ? Double($0) : nil },
                    meanLoss: finite.isEmpty ? 0 : finite.reduce(0, +) / Double(finite.count),
                    trainableParameters: counts.trainable, totalParameters: counts.total,
                    seconds: Date().timeIntervalSince(stageStart), monitor: monitor == nil ? nil : points))
        }
        let rows = examples.columns.enumerated().map { i, column in
            TuningResult.Row(
                benchmark: column.name, role: column.role, evalExamples: column.examples.count,
                before: accuracy[0][i], after: accuracy.last![i], change: accuracy.last![i] - accuracy[0][i],
                afterStage: accuracy.dropFirst().map { $0[i] })
        }
        let record = TuningResult.Record(
            model: modelReference, family: model.family, strategy: strategy.name,
            options: Dictionary(uniqueKeysWithValues: strategy.options.map { ($0.name, $0.value) }),
            data: data.map(\.reference), evalData: data.map(\.evalReference), watch: watch.map(\.name),
            settings: settings, threads: Parallel.threads,
            chatTemplate: (model as? ChatTemplating)?.useChatTemplate ?? false)
        let result = TuningResult(
            tool: "skilltune \(SkillTuneHost.version)", settings: record, stages: stages,
            accuracy: rows, export: nil, seconds: Date().timeIntervalSince(started))
        self.result = result
        return result
    }
}
