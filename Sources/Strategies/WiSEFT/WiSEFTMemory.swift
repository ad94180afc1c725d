import Kernel

extension WiSEFT {
    /// The recipe's parameters train, and their stage-start values are kept for the interpolation.
    public func memoryEstimate(parameters: [ParameterShape]) -> TrainingMemory {
        let trainable = parameters.filter(selection.contains).reduce(0) { $0 + $1.count }
        return TrainingMemory(
            parameters: parameters.reduce(0) { $0 + $1.count }, trainable: trainable,
            copied: trainable, copiesDescription: "the stage-start values")
    }
}
