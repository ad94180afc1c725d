import Kernel

/// Tunes a fixed set of the model's own parameters (a study recipe, or name patterns) with the plain
/// answer-token cross-entropy; everything else is frozen and gets neither gradients nor optimizer state.
///
/// The vision tower learns at `vision-lr-scale` times the base learning rate (the study: 2e-6 against 5e-6,
/// i.e. 0.4) in the recipes that can train it (`full`, `vision`, `components`).
public final class ComponentTuning: TuningStrategy {
    public let name: String
    public let options: [StrategyOption]
    /// What trains.
    public let selection: TrainableSelection
    /// Learning-rate multiplier for `vision_tower.*` parameters.
    public let visionLearningRateScale: Float

    /// The study's vision-encoder learning rate relative to the rest: 2e-6 / 5e-6.
    public static let referenceVisionLearningRateScale = "0.4"

    /// A study recipe. `full` and `vision` take `vision-lr-scale`; the others take no option.
    public init(recipe: ComponentRecipe, options given: [String: String] = [:]) throws {
        let tunesVision = recipe.name == ComponentRecipe.full.name || recipe.name == ComponentRecipe.vision.name
        let reader = try StrategyOptionReader(
            strategy: recipe.name, given: given,
            declared: tunesVision ? [Self.visionScaleOption] : [])
        name = recipe.name
        selection = .recipe(recipe)
        visionLearningRateScale = tunesVision ? Float(try reader.number("vision-lr-scale", atLeast: 0)) : 1
        options = reader.options
    }

    /// The `components` strategy: option `trainable` holds regular expressions matched against full
    /// parameter names (comma-separated at the top level, e.g. `self_attn.(q|v)_proj,mlp.down_proj`).
    public init(patternOptions given: [String: String]) throws {
        let reader = try StrategyOptionReader(
            strategy: "components", given: given,
            declared: [
                StrategyOption(
                    name: "trainable", defaultValue: "",
                    help: "regular expressions on full parameter names, searched anywhere in the name "
                        + "(e.g. 'self_attn.(q|v)_proj'); several separated by commas"),
                Self.visionScaleOption,
            ])
        let text = reader.string("trainable")
        let patterns = splitPatternList(text)
        let expected =
            "one or more regular expressions on parameter names, separated by commas "
            + "(e.g. trainable=self_attn.(q|v)_proj,mlp.down_proj)"
        guard !text.isEmpty, patterns.allSatisfy({ !$0.isEmpty }) else {
            throw reader.invalid("trainable", text, expected: expected)
        }
        do {
            selection = try .patterns(patterns)
        } catch let error as TrainableSelection.PatternError {
            throw reader.invalid("trainable", text, expected: expected + "; \(error)")
        }
        name = "components"
        visionLearningRateScale = Float(try reader.number("vision-lr-scale", atLeast: 0))
        options = reader.options
    }

    /// The options of a baseline that tunes one component recipe (LwF, WiSE-FT): which recipe trains, and
    /// the vision tower's learning-rate multiplier when that recipe reaches it.
    public static let recipeOptions = [
        StrategyOption(
            name: "trainable", defaultValue: "mlp",
            help: "which parameters train: a component recipe ("
                + ComponentRecipe.all.map(\.name).joined(separator: ", ") + ")"),
        StrategyOption(
            name: "vision-lr-scale", defaultValue: referenceVisionLearningRateScale,
            help: "learning-rate multiplier for vision_tower.* when the recipe trains it (the study: 2e-6 vs 5e-6)"),
    ]

    static let visionScaleOption = StrategyOption(
        name: "vision-lr-scale", defaultValue: referenceVisionLearningRateScale,
        help: "learning-rate multiplier for vision_tower.* (the study: 2e-6 vs 5e-6)")

    public func prepare(_ model: any Backbone, stage: StageContext) throws {
        try selection.apply(to: model, strategy: name)
    }

    public func learningRateScale(forParameter name: String) -> Float {
        name.hasPrefix("vision_tower.") ? visionLearningRateScale : 1
    }
}
