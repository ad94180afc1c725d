import ComponentTuning
import Kernel

/// WiSE-FT across stages: tune (default the MLP), then interpolate the tuned parameters with their values
/// at the stage start, `theta = alpha * theta_prev + (1 - alpha) * theta_tuned`; the merged model starts the
/// next stage. Only the trainable parameters change (the others are frozen, so they equal theta_prev).
///
/// Default alpha = 0.1, the study's setting for this baseline (so our comparison reproduces it): the merged
/// model keeps 90% of each stage's update. WiSE-FT's usual 0.5 is one option away (`alpha=0.5`).
/// alpha = 0 gives the tuned weights and alpha = 1 the previous ones, exactly.
public final class WiSEFT: TuningStrategy {
    public let name = "wise-ft"
    public let options: [StrategyOption]
    /// Weight of the stage-start parameters in the interpolation, in [0, 1].
    public let alpha: Float
    public let selection: TrainableSelection
    public let visionLearningRateScale: Float
    /// The trainable parameters' values taken in `prepare`, while a stage runs.
    public private(set) var previous: [String: Tensor] = [:]

    public static let declaredOptions =
        [
            StrategyOption(
                name: "alpha", defaultValue: "0.1",
                help: "weight of the previous stage's parameters, in [0, 1] (the study: 0.1; WiSE-FT's usual: 0.5)")
        ] + ComponentTuning.recipeOptions

    public init(options given: [String: String] = [:]) throws {
        let reader = try StrategyOptionReader(strategy: "wise-ft", given: given, declared: Self.declaredOptions)
        alpha = Float(try reader.number("alpha", in: 0...1))
        selection = .recipe(try reader.recipe("trainable"))
        visionLearningRateScale = Float(try reader.number("vision-lr-scale", atLeast: 0))
        options = reader.options
    }

    public func prepare(_ model: any Backbone, stage: StageContext) throws {
        try selection.apply(to: model, strategy: name)
        previous = [:]
        for (name, tensor) in model.trainableParameters { previous[name] = tensor.detached() }
    }

    public func finish(_ model: any Backbone, stage: StageContext) throws {
        defer { previous = [:] }
        guard alpha > 0 else { return }  // the tuned weights, bit for bit
        let a = alpha
        let b = 1 - alpha
        for (name, tensor) in model.namedParameters() {
            guard let before = previous[name] else { continue }
            precondition(before.shape == tensor.shape, "WiSEFT.finish: \(name) changed shape during the stage")
            let p = before.data
            let t = tensor.data
            if alpha == 1 {
                t.update(from: p, count: tensor.count)  // the previous weights, bit for bit
            } else {
                for i in 0..<tensor.count { t[i] = a * p[i] + b * t[i] }
            }
        }
    }

    public func learningRateScale(forParameter name: String) -> Float {
        name.hasPrefix("vision_tower.") ? visionLearningRateScale : 1
    }
}

/// Registers `wise-ft`.
public enum WiSEFTStrategies {
    public static func register(in registry: Registry<StrategyFactory>) throws {
        try registry.register(
            name: "wise-ft",
            summary: "MLP tuned, then weights interpolated with the stage start: alpha*prev + (1-alpha)*tuned",
            options: StrategyOption.describe(WiSEFT.declaredOptions)
        ) { options in
            try WiSEFT(options: options)
        }
    }
}
