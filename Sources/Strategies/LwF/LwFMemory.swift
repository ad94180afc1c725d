import Kernel

extension LwF {
    /// The recipe's parameters train, and the teacher is a frozen copy of the whole model during a stage.
    public func memoryEstimate(parameters: [ParameterShape]) -> TrainingMemory {
        let all = parameters.reduce(0) { $0 + $1.count }
        return TrainingMemory(
            parameters: all, trainable: parameters.filter(selection.contains).reduce(0) { $0 + $1.count },
            copied: all, copiesDescription: "the teacher (a copy of the model)")
    }
}
