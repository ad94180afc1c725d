import Kernel

extension MoE {
    /// Every decoder MLP (`model.layers.N.mlp.*`) gets a trainable copy and a router (2 x hidden weights and 2
    /// biases); only those train, the original MLPs stay in the model frozen.
    public func memoryEstimate(parameters: [ParameterShape]) -> TrainingMemory {
        let mlp = parameters.filter {
            $0.componentName.hasPrefix("model.layers.") && $0.componentName.contains(".mlp.")
        }
        let layers = Set(mlp.map { $0.componentName.components(separatedBy: ".mlp.")[0] }).count
        let hidden = mlp.first { $0.name.hasSuffix("down_proj.weight") }?.shape.first ?? 0
        let added = mlp.reduce(0) { $0 + $1.count } + layers * MixtureOfExperts.expertCount * (hidden + 1)
        return TrainingMemory(parameters: parameters.reduce(0) { $0 + $1.count }, trainable: 0, added: added)
    }
}
