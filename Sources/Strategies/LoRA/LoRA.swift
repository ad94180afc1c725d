import Foundation
import Kernel

/// Low-rank adapters (LoRA) on chosen decoder linear layers, base model frozen (the study's `lora` baseline:
/// r = 256, alpha = 32, dropout 0.05 on the MLP linears, learning rate 5e-5 against 5e-6).
///
/// `prepare` puts a `LoRALinear` at every target path (A kaiming-uniform, B zero, so the model is unchanged)
/// and makes only the adapters trainable. With `merge=true` (default) `finish` adds `alpha/r * B A` into the
/// base weights and puts plain `Linear`s back: each stage starts a fresh adapter on the merged model, and
/// between stages the model has its original structure. With `merge=false` the adapters stay and keep
/// training across stages; `installModules` recreates them on a fresh base model so that a checkpoint's
/// `...lora_A.weight`/`...lora_B.weight` load by name.
///
/// Defaults for our small models: rank 8 (the study's 256 exceeds the widths of the tiny presets) and
/// alpha 8, i.e. scaling 1. The study's alpha/r = 32/256 = 0.125 would shrink a rank-8 adapter's output by
/// another sqrt(256/8) ~ 5.7 (a random-A adapter's output grows like sqrt(r)); alpha = r keeps
/// alpha/sqrt(r) ~ 2.8, close to the study's 32/sqrt(256) = 2.
public final class LoRA: TuningStrategy {
    public let name = "lora"
    public let options: [StrategyOption]
    public let configuration: LoRAConfiguration
    /// Target names (PEFT `target_modules` style) among the decoder linears.
    public let targets: [String]
    public let mergesAtStageEnd: Bool
    public let learningRateMultiplier: Float
    /// If set, `finish` saves each stage's adapter here (`stage-<index>-<name>/`) in PEFT format before merging.
    public let adapterDirectory: URL?

    public static let declaredOptions = [
        StrategyOption(name: "rank", defaultValue: "8", help: "adapter rank r (the study: 256)"),
        StrategyOption(
            name: "alpha", defaultValue: "8",
            help: "lora_alpha; the update is scaled by alpha/r (the study: 32 with r=256)"),
        StrategyOption(
            name: "dropout", defaultValue: "0.05",
            help: "dropout on the adapter input in training, in [0, 1) (the study: 0.05)"),
        StrategyOption(
            name: "targets", defaultValue: LoRATargets.reference.joined(separator: ","),
            help: "comma-separated names of decoder linear layers to adapt (PEFT target_modules style)"),
        StrategyOption(
            name: "merge", defaultValue: "true",
            help: "true: merge into the base weights at the end of each stage; false: keep one adapter across stages"),
        StrategyOption(
            name: "lr-scale", defaultValue: "10",
            help: "learning-rate multiplier for the adapters (the study: 5e-5 vs 5e-6)"),
        StrategyOption(
            name: "adapter-dir", defaultValue: "", help: "if set, save each stage's adapter there in PEFT format"),
    ]

    public init(options given: [String: String] = [:]) throws {
        let reader = try StrategyOptionReader(strategy: "lora", given: given, declared: Self.declaredOptions)
        configuration = LoRAConfiguration(
            rank: try reader.integer("rank", atLeast: 1),
            alpha: try reader.number("alpha", above: 0),
            dropout: try reader.number("dropout", in: 0..<1))
        targets = try reader.list("targets")
        mergesAtStageEnd = try reader.boolean("merge")
        learningRateMultiplier = Float(try reader.number("lr-scale", atLeast: 0))
        let dir = reader.string("adapter-dir")
        adapterDirectory = dir.isEmpty ? nil : URL(fileURLWithPath: dir, isDirectory: true)
        options = reader.options
    }

    /// With `merge=false`, puts the adapters in place (idempotent). With `merge=true` adapters exist only
    /// during a stage, so there is nothing to install between stages.
    public func installModules(_ model: any Backbone, stage: StageContext) throws {
        guard !mergesAtStageEnd else { return }
        try installAdapters(model, stage: stage)
    }

    /// Adds a fresh adapter at every target path that has none yet; returns every target path.
    @discardableResult
    public func installAdapters(_ model: any Backbone, stage: StageContext) throws -> [String] {
        let paths = try LoRATargets.paths(in: model, targets: targets, strategy: name)
        let root = RandomGenerator(seed: stage.seed).fork("lora.stage-\(stage.index)")
        for path in paths where !(model.module(at: path) is LoRALinear) {
            guard let base = model.module(at: path) as? Linear else { continue }
            var generator = root.fork(path)
            try model.replaceModule(
                at: path, with: LoRALinear(wrapping: base, configuration: configuration, generator: &generator))
        }
        return paths
    }

    public func prepare(_ model: any Backbone, stage: StageContext) throws {
        let paths = Set(try installAdapters(model, stage: stage))
        let adapterNames = Set(
            model.loraLayers.filter { paths.contains($0.path) }
                .flatMap { [$0.path + ".lora_A.weight", $0.path + ".lora_B.weight"] })
        model.setTrainable { adapterNames.contains($0) }
    }

    public func finish(_ model: any Backbone, stage: StageContext) throws {
        if let adapterDirectory {
            let safeName = stage.name.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" }
            try PEFTAdapter.save(
                model, to: adapterDirectory.appendingPathComponent("stage-\(stage.index)-\(String(safeName))"),
                baseModel: model.family, renaming: model.adapterModulePath)
        }
        if mergesAtStageEnd { try model.mergeLoRAAdapters() }
    }

    public func learningRateScale(forParameter name: String) -> Float {
        name.hasSuffix(".lora_A.weight") || name.hasSuffix(".lora_B.weight") ? learningRateMultiplier : 1
    }
}

/// Registers `lora`.
public enum LoRAStrategies {
    public static func register(in registry: Registry<StrategyFactory>) throws {
        try registry.register(
            name: "lora",
            summary: "low-rank adapters on the decoder MLP linears, base frozen; merged at each stage end",
            options: StrategyOption.describe(LoRA.declaredOptions)
        ) { options in
            try LoRA(options: options)
        }
    }
}
