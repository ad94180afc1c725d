import Kernel

extension LoRA {
    /// Each targeted decoder linear `W [out, in]` gets `A [r, in]` and `B [out, r]`, which alone train.
    public func memoryEstimate(parameters: [ParameterShape]) -> TrainingMemory {
        let r = configuration.rank
        let adapted = parameters.filter { p in
            p.shape.count == 2 && p.name.hasSuffix(".weight")
                && LoRATargets.isDecoderLayerPath(String(p.componentName.dropLast(".weight".count)))
                && targets.contains { p.name.hasSuffix(".\($0).weight") }
        }
        let added = adapted.reduce(0) { $0 + r * ($1.shape[0] + $1.shape[1]) }
        return TrainingMemory(parameters: parameters.reduce(0) { $0 + $1.count }, trainable: 0, added: added)
    }
}
