import Foundation

/// Optimisation settings for one stage, the same for every strategy in a comparison.
public struct TrainingSettings: Codable, Equatable, Sendable {
    public var steps: Int
    public var batchSize: Int
    public var learningRate: Double
    /// Fraction of `steps` spent in linear warmup (the study: 3%).
    public var warmupFraction: Double
    public var weightDecay: Double
    /// Global gradient-norm clip; 0 disables it.
    public var gradientClip: Double
    /// Skip (rather than stop at) a step whose loss or gradient is NaN or infinite.
    public var skipNonFiniteSteps: Bool

    public init(
        steps: Int, batchSize: Int, learningRate: Double, warmupFraction: Double = 0.03,
        weightDecay: Double = 0, gradientClip: Double = 1, skipNonFiniteSteps: Bool = false
    ) {
        self.steps = steps
        self.batchSize = batchSize
        self.learningRate = learningRate
        self.warmupFraction = warmupFraction
        self.weightDecay = weightDecay
        self.gradientClip = gradientClip
        self.skipNonFiniteSteps = skipNonFiniteSteps
    }

    public var schedule: LearningRateSchedule {
        .cosineWithWarmup(peak: learningRate, totalSteps: steps, warmupFraction: warmupFraction)
    }
}

/// What one stage of training did.
public struct TrainingReport: Sendable {
    /// The loss of every step (NaN where a step was skipped).
    public var losses: [Float]
    /// Steps skipped because their loss or gradient was not finite.
    public var skippedSteps: [Int]
    public var seconds: Double
}

/// A numerical fault that stopped training.
public struct TrainingError: Error, CustomStringConvertible {
    public var stage: String
    public var step: Int
    public var what: String
    public var description: String {
        "stage '\(stage)', step \(step): \(what) (the run stops; pass the skip-non-finite option to skip such steps)"
    }
}

/// Runs one stage: `strategy.prepare`, then `settings.steps` AdamW steps on the strategy's loss with a cosine
/// schedule, warmup and gradient clipping, then `strategy.finish`. Only parameters that require grad after
/// `prepare` get optimizer state or updates.
public enum StageTrainer {
    public static func run(
        model: any Backbone, strategy: any TuningStrategy, stage: StageContext, settings: TrainingSettings,
        batch: (_ step: Int) -> Batch, onStep: ((_ step: Int, _ loss: Float, _ learningRate: Double) -> Void)? = nil
    ) throws -> TrainingReport {
        let started = Date()
        try strategy.prepare(model, stage: stage)
        let optimizer = AdamW(
            parameters: model.namedParameters(), weightDecay: settings.weightDecay,
            learningRateScale: { Double(strategy.learningRateScale(forParameter: model.componentPath($0))) })
        // No schedule for a stage of zero steps (e.g. `--pretrain-steps 0`, an untrained base): there is nothing
        // to warm up or decay, and the schedule requires at least one step.
        let schedule: LearningRateSchedule? = settings.steps > 0 ? settings.schedule : nil
        model.setTraining(true)
        defer { model.setTraining(false) }
        var losses: [Float] = []
        var skipped: [Int] = []
        for step in 0..<settings.steps {
            try Interruption.check("stage '\(stage.name)', step \(step + 1)")
            FaultInjection.point("train \(stage.name) step \(step + 1)")
            let loss = strategy.loss(model, batch: batch(step), stage: stage)
            let value = loss.item
            var fault: String?
            // The clipping factor is applied as AdamW reads the gradients (the bits of clipGradNorm's in-place scaling).
            var gradientScale: Float = 1
            if !value.isFinite {
                fault = "the loss is \(value)"
            } else {
                loss.backward()
                let norm: Float
                if settings.gradientClip > 0 {
                    (norm, gradientScale) = optimizer.clipFactor(maxNorm: Float(settings.gradientClip))
                } else {
                    norm = Float(globalGradientNorm(optimizer.trainableParameters.compactMap(\.tensor.grad)))
                }
                if !norm.isFinite { fault = "the gradient norm is \(norm)" }
            }
            if let fault {
                optimizer.zeroGrad()
                guard settings.skipNonFiniteSteps else {
                    throw TrainingError(stage: stage.name, step: step + 1, what: fault)
                }
                skipped.append(step + 1)
                losses.append(.nan)
                continue
            }
            let lr = schedule!.learningRate(atStep: step)  // update number `step` from 0, as HF schedules count
            optimizer.step(learningRate: lr, gradientScale: gradientScale)
            optimizer.zeroGrad()
            losses.append(value)
            onStep?(step + 1, value, lr)
        }
        model.setTraining(false)
        try strategy.finish(model, stage: stage)
        return TrainingReport(losses: losses, skippedSteps: skipped, seconds: Date().timeIntervalSince(started))
    }
}

/// How `answerCrossEntropy` averages over a batch whose answers differ in length.
public enum AnswerLossWeighting: String, Codable, Sendable {
    /// Every answer token counts the same (the study's loss, PyTorch's mean): long answers weigh more.
    case perToken
    /// Every example counts the same: the mean over examples of each example's mean token loss. In a mixture of
    /// one-word answers and long descriptions, the descriptions would otherwise take most of the gradient.
    case perExample
}

/// Next-token cross-entropy on the answer tokens of `batch` (the study's loss with the default `.perToken`).
///
/// When the backbone exposes its head (`forwardToHead`) and `fuseHead` is true, the head and the loss run as one
/// op (`linearCrossEntropy`): only the answer positions' logits are computed, a chunk of rows at a time, so a
/// large vocabulary costs neither the [positions, vocabulary] logits nor their gradient. The loss and the
/// gradients are those of `crossEntropy(forward(batch).logits)` (see `linearCrossEntropy` for the rounding).
public func answerCrossEntropy(
    _ model: any Backbone, _ batch: Batch, weighting: AnswerLossWeighting = .perToken,
    fuseHead: Bool = true
) -> Tensor {
    if fuseHead, let head = model.forwardToHead(batch) {
        let weights = answerRowWeights(head.targets, rows: head.hidden.shape[0], weighting: weighting)
        return linearCrossEntropy(head.hidden, weight: head.headWeight, targets: head.targets, rowWeights: weights)
    }
    let out = model.forward(batch)
    let logits = out.logits.reshaped([-1, model.vocabularySize])
    let weights = answerRowWeights(out.targets, rows: out.logits.shape[0], weighting: weighting)
    return crossEntropy(logits, targets: out.targets, rowWeights: weights)
}

/// The row weights of `.perExample` (nil for `.perToken`): the backbone's targets are one right-padded row per
/// example; each kept token weighs 1 / (its row's kept tokens).
private func answerRowWeights(_ targets: [Int32], rows: Int, weighting: AnswerLossWeighting) -> [Float]? {
    guard weighting == .perExample, rows > 0, targets.count % rows == 0 else { return nil }
    let length = targets.count / rows
    var weights = [Float](repeating: 0, count: targets.count)
    for row in 0..<rows {
        let range = row * length..<(row + 1) * length
        let kept = targets[range].filter { $0 != Batch.ignoreIndex }.count
        for i in range where targets[i] != Batch.ignoreIndex { weights[i] = 1 / Float(kept) }
    }
    return weights
}

extension TuningStrategy {
    public func loss(_ model: any Backbone, batch: Batch, stage: StageContext) -> Tensor {
        answerCrossEntropy(model, batch)
    }
}
