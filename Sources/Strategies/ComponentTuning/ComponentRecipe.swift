import Kernel

/// A named set of trainable parameters of the study (`paper.md`, "The recipes compared"): a predicate on
/// Hugging Face parameter names.
///
/// Decoder recipes are anchored on `model.layers.N.`, so the vision tower's own `self_attn` and `mlp` never
/// match. Multimodal recipes use LLaVA's names: `vision_tower.*`, `mm_projector.*`, and the language model's
/// `model.*` and `lm_head.*`.
public struct ComponentRecipe: Sendable {
    /// The registry name ("sa-proj").
    public let name: String
    /// One line for listings.
    public let summary: String
    /// What the predicate selects, in words, for messages.
    public let selection: String
    /// Whether the parameter with this full name trains.
    public let trains: @Sendable (String) -> Bool

    public init(name: String, summary: String, selection: String, trains: @escaping @Sendable (String) -> Bool) {
        self.name = name
        self.summary = summary
        self.selection = selection
        self.trains = trains
    }
}

extension ComponentRecipe {
    public static let full = ComponentRecipe(
        name: "full", summary: "everything trains: vision encoder, projector and language model",
        selection: "every parameter"
    ) { _ in true }
    public static let llm = ComponentRecipe(
        name: "llm", summary: "the whole language model (embeddings, norms, lm_head included)",
        selection: "names starting with model. or lm_head."
    ) { $0.hasPrefix("model.") || $0.hasPrefix("lm_head.") }
    public static let vision = ComponentRecipe(
        name: "vision", summary: "the vision encoder only",
        selection: "names starting with vision_tower."
    ) { $0.hasPrefix("vision_tower.") }
    public static let projector = ComponentRecipe(
        name: "projector", summary: "the multimodal projector only",
        selection: "names starting with mm_projector."
    ) { $0.hasPrefix("mm_projector.") }
    public static let saProj = decoder(
        "sa-proj", summary: "self-attention q/k/v/o projections of every decoder layer (weights and biases)",
        modules: ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj"])
    public static let saQKV = decoder(
        "sa-qkv", summary: "self-attention q/k/v projections of every decoder layer (o_proj frozen)",
        modules: ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"])
    public static let mlp = decoder(
        "mlp", summary: "MLP gate/up/down projections of every decoder layer",
        modules: ["mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"])
    public static let mlpGateUp = decoder(
        "mlp-gate-up", summary: "MLP gate and up projections of every decoder layer (down_proj frozen)",
        modules: ["mlp.gate_proj", "mlp.up_proj"])
    public static let mlpDown = decoder(
        "mlp-down", summary: "MLP down projection of every decoder layer only",
        modules: ["mlp.down_proj"])

    /// Every recipe of the study, in the order of its table.
    public static let all: [ComponentRecipe] = [full, llm, vision, projector, saProj, saQKV, mlp, mlpGateUp, mlpDown]

    /// The recipe registered under `name`, or nil.
    public static func named(_ name: String) -> ComponentRecipe? { all.first { $0.name == name } }

    /// A recipe training the given sub-modules (`self_attn.q_proj`) of every decoder layer `model.layers.N.`.
    public static func decoder(_ name: String, summary: String, modules: [String]) -> ComponentRecipe {
        let prefixes = modules.map { $0 + "." }
        return ComponentRecipe(
            name: name, summary: summary,
            selection: "names model.layers.N.{\(modules.joined(separator: ","))}.*"
        ) { fullName in
            guard let rest = decoderLayerRemainder(fullName) else { return false }
            return prefixes.contains { rest.hasPrefix($0) }
        }
    }
}

/// The part of a parameter name after `model.layers.<digits>.`, or nil if it is not a decoder-layer name.
public func decoderLayerRemainder(_ name: String) -> Substring? {
    let prefix = "model.layers."
    guard name.hasPrefix(prefix) else { return nil }
    let afterPrefix = name.dropFirst(prefix.count)
    let digits = afterPrefix.prefix { $0.isASCII && $0.isNumber }
    guard !digits.isEmpty else { return nil }
    let rest = afterPrefix.dropFirst(digits.count)
    guard rest.first == "." else { return nil }
    return rest.dropFirst()
}

extension StrategyOptionReader {
    /// The component recipe named by option `name`; an unknown name is an error listing the recipes.
    public func recipe(_ name: String) throws -> ComponentRecipe {
        let value = string(name)
        guard let recipe = ComponentRecipe.named(value) else {
            throw invalid(
                name, value, expected: "a component recipe: " + ComponentRecipe.all.map(\.name).joined(separator: ", "))
        }
        return recipe
    }
}
