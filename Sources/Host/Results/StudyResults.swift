import Kernel

/// Everything a comparison produces, as written to `results.json` (schema documented in the README).
///
/// Deterministic content (settings, accuracies, metrics, probes) is kept apart from `timings`, so two runs
/// with the same seed and thread count give byte-identical files once `timings` is set aside.
public struct StudyResults: Codable, Equatable {
    public var schemaVersion: Int = 1
    public var tool: String = "skilltune \(SkillTuneHost.version)"
    public var settings: StudySettings
    /// Benchmarks in column order: targets (in training order), then held-out.
    public var benchmarks: [BenchmarkInfo]
    /// Row names of every accuracy matrix: "base", then one per target stage.
    public var stages: [String]
    /// One per strategy; with several seeds, each the mean over them (`SeedAggregate`).
    public var strategies: [StrategyResult]
    public var timings: Timings
    /// With several seeds: each seed's own strategy results, in seed order (nil for one seed).
    public var seedRuns: [SeedRun]? = nil
    /// With several seeds: each strategy's summary metrics as mean and 95% interval over the seeds.
    public var intervals: [StrategyIntervals]? = nil

    public init(
        settings: StudySettings, benchmarks: [BenchmarkInfo], stages: [String],
        strategies: [StrategyResult], timings: Timings
    ) {
        self.settings = settings
        self.benchmarks = benchmarks
        self.stages = stages
        self.strategies = strategies
        self.timings = timings
    }
}

public struct BenchmarkInfo: Codable, Equatable {
    public var name: String
    /// "target" or "held-out".
    public var role: String
    public init(name: String, role: String) {
        self.name = name
        self.role = role
    }
}

/// Every setting that affects the numbers.
public struct StudySettings: Codable, Equatable {
    public var backbone: String
    public var preset: String
    public var seed: UInt64
    public var threads: Int
    public var targets: [String]
    public var heldOut: [String]
    public var stepsPerStage: Int
    public var batchSize: Int
    public var learningRate: Double
    public var warmupFraction: Double
    public var weightDecay: Double
    public var gradientClip: Double
    public var trainExamplesPerTarget: Int
    public var evalExamplesPerBenchmark: Int
    public var maxNewTokens: Int
    public var probeExamples: Int
    public var baseModel: String
    /// The checkpoint directory studied (`--model`), nil for the built-in base model.
    public var model: String? = nil
    /// The seeds of a study run with several (`seed` is the first); nil for one.
    public var seeds: [UInt64]? = nil

    public init(
        backbone: String, preset: String, seed: UInt64, threads: Int, targets: [String], heldOut: [String],
        stepsPerStage: Int, batchSize: Int, learningRate: Double, warmupFraction: Double,
        weightDecay: Double, gradientClip: Double, trainExamplesPerTarget: Int,
        evalExamplesPerBenchmark: Int, maxNewTokens: Int, probeExamples: Int, baseModel: String
    ) {
        self.backbone = backbone
        self.preset = preset
        self.seed = seed
        self.threads = threads
        self.targets = targets
        self.heldOut = heldOut
        self.stepsPerStage = stepsPerStage
        self.batchSize = batchSize
        self.learningRate = learningRate
        self.warmupFraction = warmupFraction
        self.weightDecay = weightDecay
        self.gradientClip = gradientClip
        self.trainExamplesPerTarget = trainExamplesPerTarget
        self.evalExamplesPerBenchmark = evalExamplesPerBenchmark
        self.maxNewTokens = maxNewTokens
        self.probeExamples = probeExamples
        self.baseModel = baseModel
    }
}

/// One strategy's run through every stage.
public struct StrategyResult: Codable, Equatable {
    public var name: String
    public var summary: String
    public var options: [StrategyOption]
    public var trainableParameters: Int
    public var totalParameters: Int
    /// "complete", or "failed" with `failure` saying where and why.
    public var status: String
    public var failure: String?
    /// accuracy[stage][benchmark] in percent; stage 0 is the base model.
    public var accuracy: [[Double]]
    public var metrics: StudyMetrics
    /// One entry per stage (base included).
    public var countingBias: [CountingBiasResult]
    /// One entry per tuned stage (the shift of that stage's model from the base).
    public var layerShift: [LayerShiftResult]
    /// Mean training loss per stage, then a few points along each stage for curves.
    public var trainingLoss: [StageLoss]
    /// With `--probe-at`: per tuned stage, the label-free forgetting monitor at those steps (nil without it).
    public var monitor: [StageMonitor]? = nil

    public init(
        name: String, summary: String, options: [StrategyOption], trainableParameters: Int,
        totalParameters: Int, status: String, failure: String? = nil, accuracy: [[Double]],
        metrics: StudyMetrics, countingBias: [CountingBiasResult], layerShift: [LayerShiftResult],
        trainingLoss: [StageLoss], monitor: [StageMonitor]? = nil
    ) {
        self.name = name
        self.summary = summary
        self.options = options
        self.trainableParameters = trainableParameters
        self.totalParameters = totalParameters
        self.status = status
        self.failure = failure
        self.accuracy = accuracy
        self.metrics = metrics
        self.countingBias = countingBias
        self.layerShift = layerShift
        self.trainingLoss = trainingLoss
        self.monitor = monitor
    }
}

/// The study's summary numbers, in accuracy points (percent).
public struct StudyMetrics: Codable, Equatable {
    /// Mean over targets of (accuracy right after training on it - base accuracy).
    public var learning: Double
    /// Mean over held-out benchmarks of (accuracy after the last stage - base); negative means forgotten.
    public var heldOutForgettingFinal: Double
    /// The same after every stage (index 0 = base, always 0).
    public var heldOutForgettingPerStage: [Double]
    /// Mean held-out accuracy after every stage (the study's Figure 1 lines).
    public var heldOutAveragePerStage: [Double]
    /// Mean over targets of (final accuracy - accuracy right after training on it).
    public var targetForgetting: Double
    /// Backward transfer over targets trained before the last stage.
    public var backwardTransfer: Double
    /// Chaudhry et al. forgetting: mean over earlier targets of (best accuracy since trained - final).
    public var chaudhryForgetting: Double
    /// Mean final accuracy over targets.
    public var averageTargetAccuracy: Double

    public init(
        learning: Double, heldOutForgettingFinal: Double, heldOutForgettingPerStage: [Double],
        heldOutAveragePerStage: [Double], targetForgetting: Double, backwardTransfer: Double,
        chaudhryForgetting: Double, averageTargetAccuracy: Double
    ) {
        self.learning = learning
        self.heldOutForgettingFinal = heldOutForgettingFinal
        self.heldOutForgettingPerStage = heldOutForgettingPerStage
        self.heldOutAveragePerStage = heldOutAveragePerStage
        self.targetForgetting = targetForgetting
        self.backwardTransfer = backwardTransfer
        self.chaudhryForgetting = chaudhryForgetting
        self.averageTargetAccuracy = averageTargetAccuracy
    }
}

/// Mean and standard deviation over samples.
public struct MeanStd: Codable, Equatable {
    public var mean: Double
    public var std: Double
    public init(mean: Double, std: Double) {
        self.mean = mean
        self.std = std
    }
}

/// The counting-bias probe on one split: per-sample mean and max over generated steps, then mean/std over samples.
public struct CountingBiasSplit: Codable, Equatable {
    public var samples: Int
    /// Probability mass on number tokens: per-sample mean over steps, and per-sample max over steps.
    public var numberMassMean: MeanStd
    public var numberMassMax: MeanStd
    /// Largest single number-token probability.
    public var maxNumberProbabilityMean: MeanStd
    public var maxNumberProbabilityMax: MeanStd
    /// Largest number-token logit.
    public var maxNumberLogitMean: MeanStd
    public var maxNumberLogitMax: MeanStd

    public init(
        samples: Int, numberMassMean: MeanStd, numberMassMax: MeanStd, maxNumberProbabilityMean: MeanStd,
        maxNumberProbabilityMax: MeanStd, maxNumberLogitMean: MeanStd, maxNumberLogitMax: MeanStd
    ) {
        self.samples = samples
        self.numberMassMean = numberMassMean
        self.numberMassMax = numberMassMax
        self.maxNumberProbabilityMean = maxNumberProbabilityMean
        self.maxNumberProbabilityMax = maxNumberProbabilityMax
        self.maxNumberLogitMean = maxNumberLogitMean
        self.maxNumberLogitMax = maxNumberLogitMax
    }
}

public struct CountingBiasResult: Codable, Equatable {
    public var stage: String
    /// Held-out caption-style prompts.
    public var heldOut: CountingBiasSplit
    /// Counting prompts (the target split).
    public var counting: CountingBiasSplit
    public init(stage: String, heldOut: CountingBiasSplit, counting: CountingBiasSplit) {
        self.stage = stage
        self.heldOut = heldOut
        self.counting = counting
    }
}

/// Per decoder layer: the shift of the attention and MLP outputs in output-token space,
/// ||W_tuned h_tuned - W_base h_base|| with each model's own lm_head, the mean over a held-out example's answer
/// tokens, then over examples (`LayerShiftProbe`).
public struct LayerShiftResult: Codable, Equatable {
    public var stage: String
    public var attention: [Double]
    public var mlp: [Double]
    public init(stage: String, attention: [Double], mlp: [Double]) {
        self.stage = stage
        self.attention = attention
        self.mlp = mlp
    }
}

public struct StageLoss: Codable, Equatable {
    public var stage: String
    public var mean: Double
    /// Loss averaged over consecutive windows of steps, in order (a short curve).
    public var curve: [Double]
    public init(stage: String, mean: Double, curve: [Double]) {
        self.stage = stage
        self.mean = mean
        self.curve = curve
    }
}

/// Wall-clock facts, kept apart so the rest of the file is reproducible bit for bit.
public struct Timings: Codable, Equatable {
    public var startedAt: String
    public var totalSeconds: Double
    public var pretrainSeconds: Double
    /// Seconds per strategy, by name.
    public var strategySeconds: [String: Double]
    public init(startedAt: String, totalSeconds: Double, pretrainSeconds: Double, strategySeconds: [String: Double]) {
        self.startedAt = startedAt
        self.totalSeconds = totalSeconds
        self.pretrainSeconds = pretrainSeconds
        self.strategySeconds = strategySeconds
    }
}

/// The forgetting monitor of one stage: a point at each `--probe-at` step (and the stage's last step).
public struct StageMonitor: Codable, Equatable {
    public var stage: String
    public var points: [MonitorPoint]

    public init(stage: String, points: [MonitorPoint]) {
        self.stage = stage
        self.points = points
    }
}

/// The label-free forgetting signals after one training step (`ForgettingMonitor`).
public struct MonitorPoint: Codable, Equatable, Sendable {
    /// The step within its stage, from 1.
    public var step: Int
    /// Mean KL(tuned ‖ base) of the first answer token's distribution on held-out prompts, nats.
    public var klToBase: Double
    /// The counting-bias probe's number-token mass (mean over prompts) on held-out and on counting prompts (nil
    /// where there are none, as in `tune`).
    public var heldOutNumberMass: Double
    public var countingNumberMass: Double?

    public init(step: Int, klToBase: Double, heldOutNumberMass: Double, countingNumberMass: Double?) {
        self.step = step
        self.klToBase = klToBase
        self.heldOutNumberMass = heldOutNumberMass
        self.countingNumberMass = countingNumberMass
    }
}
