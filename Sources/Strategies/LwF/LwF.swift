import ComponentTuning
import Kernel

/// Learning without Forgetting: distillation from the model as it was when the stage started (the previous
/// stage's model), `loss = CE + lambda * T^2 * KL(softmax(teacher/T) || softmax(student/T))`, the KL averaged
/// over the answer positions (those whose target is not ignored, the same rows the cross-entropy counts).
///
/// `prepare` takes the teacher as a frozen `model.copy()` and makes the `trainable` recipe's parameters train
/// (default `mlp`, as in the study); the teacher runs under no-grad and is dropped in `finish`. The study's
/// settings are lambda = 1, T = 2 (the defaults). The backbone's `copy()` must support the model's structure:
/// LwF is not combined with strategies that change it (MoE).
public final class LwF: TuningStrategy {
    public let name = "lwf"
    public let options: [StrategyOption]
    /// Weight of the distillation term.
    public let lambda: Float
    /// Softmax temperature T.
    public let temperature: Float
    public let selection: TrainableSelection
    public let visionLearningRateScale: Float
    /// The frozen model of the stage start, while a stage runs.
    public private(set) var teacher: (any Backbone)?

    public static let declaredOptions =
        [
            StrategyOption(
                name: "lambda", defaultValue: "1", help: "weight of the distillation term, >= 0 (the study: 1)"),
            StrategyOption(name: "T", defaultValue: "2", help: "softmax temperature, > 0 (the study: 2)"),
        ] + ComponentTuning.recipeOptions

    public init(options given: [String: String] = [:]) throws {
        let reader = try StrategyOptionReader(strategy: "lwf", given: given, declared: Self.declaredOptions)
        lambda = Float(try reader.number("lambda", atLeast: 0))
        temperature = Float(try reader.number("T", above: 0))
        selection = .recipe(try reader.recipe("trainable"))
        visionLearningRateScale = Float(try reader.number("vision-lr-scale", atLeast: 0))
        options = reader.options
    }

    public func prepare(_ model: any Backbone, stage: StageContext) throws {
        try selection.apply(to: model, strategy: name)
        let frozen = model.copy()
        frozen.freeze()
        frozen.setTraining(false)
        teacher = frozen
    }

    public func loss(_ model: any Backbone, batch: Batch, stage: StageContext) -> Tensor {
        guard let teacher else {
            preconditionFailure("LwF.loss: prepare(_:stage:) must run first (it takes the teacher)")
        }
        let student = model.forward(batch)
        let studentLogits = student.logits.reshaped([-1, model.vocabularySize])
        let teacherLogits = Autograd.withNoGrad { teacher.forward(batch).logits.reshaped([-1, model.vocabularySize]) }
        let crossEntropyLoss = crossEntropy(studentLogits, targets: student.targets)
        guard lambda > 0 else { return crossEntropyLoss }
        let distillation = klDivergence(
            student: studentLogits, teacher: teacherLogits, temperature: temperature,
            targets: student.targets)
        return crossEntropyLoss + distillation * (lambda * temperature * temperature)
    }

    public func finish(_ model: any Backbone, stage: StageContext) throws {
        teacher = nil
    }

    public func learningRateScale(forParameter name: String) -> Float {
        name.hasPrefix("vision_tower.") ? visionLearningRateScale : 1
    }
}

/// Registers `lwf`.
public enum LwFStrategies {
    public static func register(in registry: Registry<StrategyFactory>) throws {
        try registry.register(
            name: "lwf",
            summary: "MLP tuned with distillation from the stage-start model: CE + lambda*T^2*KL on answer tokens",
            options: StrategyOption.describe(LwF.declaredOptions)
        ) { options in
            try LwF(options: options)
        }
    }
}
