import Kernel

extension ComponentTuning {
    /// The selected parameters train; nothing is added or copied.
    public func memoryEstimate(parameters: [ParameterShape]) -> TrainingMemory {
        memoryEstimate(parameters: parameters, trains: selection.contains)
    }
}
