import Foundation
import Kernel
import Transformer

/// The study's mixture-of-experts baseline: every decoder MLP (`model.layers.N.mlp`) becomes a
/// `MixtureOfExperts` of the frozen original and a trainable copy, with a per-token linear router; only the
/// copies and the routers train. Soft top-2 in training, hard top-1 at evaluation.
///
/// Router initialisation: weight zero, bias (logit(p0), 0) with p0 = `original-prior` (default 0.75). Every
/// token then prefers the original expert at first: evaluation (hard top-1) gives exactly the base model, and
/// training starts from the base model's function (the copy equals the original) with the copy receiving
/// a (1 - p0) share of the gradient. The router learns to send tokens to the copy where that lowers the loss.
///
/// The structure persists across stages: `installModules` builds it on a fresh base model (idempotently) so
/// that a checkpoint's expert and router tensors load by name; `prepare` calls it.
public final class MoE: TuningStrategy {
    public let name = "moe"
    public let options: [StrategyOption]
    /// The router's initial probability of the original expert.
    public let originalPrior: Double

    public static let declaredOptions = [
        StrategyOption(
            name: "original-prior", defaultValue: "0.75",
            help: "initial router probability of the original expert, in (0.5, 1): the router starts preferring it")
    ]

    public init(options given: [String: String] = [:]) throws {
        let reader = try StrategyOptionReader(strategy: "moe", given: given, declared: Self.declaredOptions)
        originalPrior = try reader.number("original-prior", above: 0.5, below: 1)
        options = reader.options
    }

    /// Turns every decoder MLP that is not a mixture yet into one. Throws if a decoder MLP is not a `GatedMLP`.
    public func installModules(_ model: any Backbone, stage: StageContext) throws {
        let paths = mlpPaths(model)
        guard !paths.isEmpty else {
            throw StrategyError.nothingSelected(
                strategy: name, selection: "decoder MLPs (model.layers.N.mlp)",
                family: model.family, available: model.parameterNameShapes)
        }
        for path in paths {
            let module = model.module(at: path)!
            if module is MixtureOfExperts { continue }
            guard let original = module as? GatedMLP else {
                throw StrategyError.unsupportedModel(
                    strategy: name,
                    reason:
                        "\(path) is a \(type(of: module)), expected the decoder's GatedMLP (gate_proj, up_proj, down_proj)"
                )
            }
            try model.replaceModule(
                at: path,
                with: MixtureOfExperts(
                    original: original, copy: try duplicate(original, path: path),
                    router: makeRouter(hidden: model.hiddenSize)))
        }
    }

    public func prepare(_ model: any Backbone, stage: StageContext) throws {
        try installModules(model, stage: stage)
        let prefixes = mlpPaths(model).flatMap { [$0 + ".experts.1.", $0 + ".router."] }
        model.setTrainable { name in prefixes.contains { name.hasPrefix($0) } }
    }

    /// `model.layers.N.mlp` (the model's own path of it) for every decoder layer.
    func mlpPaths(_ model: any Backbone) -> [String] {
        (0..<model.decoderLayerCount).map { model.decoderLayerPath($0) + ".mlp" }.filter { model.module(at: $0) != nil }
    }

    /// A GatedMLP of the same shape with copied values (and the original's trainable flags).
    private func duplicate(_ mlp: GatedMLP, path: String) throws -> GatedMLP {
        guard let gate = mlp.child("gate_proj") as? Linear, type(of: gate) == Linear.self else {
            throw StrategyError.unsupportedModel(
                strategy: name, reason: "\(path).gate_proj is not a plain Linear (adapted?)")
        }
        var unused = RandomGenerator(seed: 0)
        let twin = GatedMLP(
            hidden: gate.inFeatures, intermediate: gate.outFeatures, bias: gate.bias != nil, generator: &unused)
        guard twin.namedParameters().map(\.name) == mlp.namedParameters().map(\.name) else {
            throw StrategyError.unsupportedModel(
                strategy: name,
                reason: "\(path) has parameters a plain GatedMLP does not: "
                    + mlp.namedParameters().map(\.name).joined(separator: ", "))
        }
        try twin.load(mlp.parameterSnapshot(), source: path)
        for ((_, src), (_, dst)) in zip(mlp.namedParameters(), twin.namedParameters()) {
            dst.requiresGrad = src.requiresGrad
        }
        twin.setTraining(mlp.isTraining)
        return twin
    }

    private func makeRouter(hidden: Int) -> Linear {
        let weight = Tensor(zeros: [MixtureOfExperts.expertCount, hidden], requiresGrad: true)
        let bias = Tensor(zeros: [MixtureOfExperts.expertCount], requiresGrad: true)
        bias.data[0] = Float(Foundation.log(originalPrior / (1 - originalPrior)))
        return Linear(weight: weight, bias: bias)
    }
}

/// Registers `moe`.
public enum MoEStrategies {
    public static func register(in registry: Registry<StrategyFactory>) throws {
        try registry.register(
            name: "moe", summary: "each decoder MLP becomes frozen original + trainable copy with a per-token router",
            options: StrategyOption.describe(MoE.declaredOptions)
        ) { options in
            try MoE(options: options)
        }
    }
}
