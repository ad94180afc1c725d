import Kernel

/// Registers the component-tuning strategies: the study's recipes (`full`, `llm`, `vision`, `projector`,
/// `sa-proj`, `sa-qkv`, `mlp`, `mlp-gate-up`, `mlp-down`) and `components` (name patterns from an option).
public enum ComponentTuningStrategies {
    /// The registered names, in the study's order.
    public static let names = ComponentRecipe.all.map(\.name) + ["components"]

    public static func register(in registry: Registry<StrategyFactory>) throws {
        for recipe in ComponentRecipe.all {
            try registry.register(
                name: recipe.name, summary: recipe.summary,
                options: optionText(try ComponentTuning(recipe: recipe).options)
            ) { options in
                try ComponentTuning(recipe: recipe, options: options)
            }
        }
        try registry.register(
            name: "components", summary: "parameters whose names match regular expressions (option trainable)",
            options: StrategyOption.describe([
                StrategyOption(
                    name: "trainable", defaultValue: "",
                    help: "regular expressions on full parameter names, comma-separated (required)"),
                ComponentTuning.visionScaleOption,
            ])
        ) { options in
            try ComponentTuning(patternOptions: options)
        }
    }

    private static func optionText(_ options: [StrategyOption]) -> String? {
        options.isEmpty ? nil : StrategyOption.describe(options)
    }
}
