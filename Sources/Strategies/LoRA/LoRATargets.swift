import Kernel

/// Which linear layers get adapters: those of the decoder layers (`model.layers.N.`) whose path ends with
/// one of the target names, PEFT-style (`gate_proj` matches `model.layers.3.mlp.gate_proj`; a longer suffix
/// such as `self_attn.q_proj` works too). The vision tower and `lm_head` are never targeted, as in the study.
public enum LoRATargets {
    /// The study's targets: the decoder MLP linears.
    public static let reference = ["gate_proj", "up_proj", "down_proj"]

    /// Paths of the linear layers (plain or already adapted) selected by `targets`, in module order. Throws
    /// `StrategyError.nothingSelected` naming a target that matches no decoder linear.
    public static func paths(in model: any Backbone, targets: [String], strategy: String) throws -> [String] {
        let decoderLinears = linearPaths(in: model).filter { isDecoderLayerPath(model.componentPath($0)) }
        var selected = Set<String>()
        for target in targets {
            let hits = decoderLinears.filter { $0.hasSuffix("." + target) }
            guard !hits.isEmpty else {
                throw StrategyError.nothingSelected(
                    strategy: strategy, selection: "LoRA target '\(target)' (a decoder linear layer's name)",
                    family: model.family, available: nameShapes(decoderLinears))
            }
            selected.formUnion(hits)
        }
        return decoderLinears.filter(selected.contains)
    }

    /// Paths of every `Linear` in the tree, adapted ones included, not counting the adapters' own parts.
    public static func linearPaths(in model: Module) -> [String] {
        model.namedModules().filter { $0.module is Linear }.map(\.path)
    }

    static func isDecoderLayerPath(_ path: String) -> Bool {
        let prefix = "model.layers."
        guard path.hasPrefix(prefix) else { return false }
        let rest = path.dropFirst(prefix.count)
        let digits = rest.prefix { $0.isASCII && $0.isNumber }
        return !digits.isEmpty && rest.dropFirst(digits.count).first == "."
    }
}
