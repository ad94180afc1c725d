/// One parameter as a memory estimate sees it: its full (HF) name and its shape.
public struct ParameterShape: Sendable, Equatable {
    public var name: String
    public var shape: [Int]
    /// The name in the component scheme (`Backbone.componentPath`), which recipes select by.
    public var componentName: String
    public init(name: String, shape: [Int], componentName: String? = nil) {
        self.name = name
        self.shape = shape
        self.componentName = componentName ?? name
    }
    /// Number of elements (0 for an overflowing or negative shape, which no real tensor has).
    public var count: Int { MemoryBudget.product(shape).map { Int(clamping: $0) } ?? 0 }
}

/// The bytes one tuning run holds, activations aside, all Float32 (4 bytes a value):
/// `weights` = every parameter of the tuned model (with the modules the strategy adds),
/// `gradients` = one value per trainable parameter, `optimizer` = AdamW's two moments per trainable parameter,
/// `copies` = frozen copies the strategy keeps besides the model (LwF's teacher, MoE's frozen experts,
/// WiSE-FT's stage-start values).
public struct TrainingMemory: Sendable, Equatable {
    public var weights: UInt64
    public var gradients: UInt64
    public var optimizer: UInt64
    public var copies: UInt64
    /// Trainable parameter count, for messages.
    public var trainableParameters: Int
    /// What `copies` holds, for messages ("the teacher (a copy of the model)"); empty when nothing.
    public var copiesDescription: String

    /// Memory of tuning `trainable` of `parameters` values (the model's own weights), with `added` values of new
    /// modules (trainable, counted in the weights too) and `copied` values held in frozen copies.
    public init(parameters: Int, trainable: Int, added: Int = 0, copied: Int = 0, copiesDescription: String = "") {
        let bytes = { (n: Int) -> UInt64 in UInt64(max(0, n)) &* 4 }
        let trained = trainable + added
        weights = bytes(parameters + added)
        gradients = bytes(trained)
        optimizer = bytes(trained) &* 2
        copies = bytes(copied)
        trainableParameters = trained
        self.copiesDescription = copiesDescription
    }

    /// Everything above, in bytes.
    public var total: UInt64 { weights &+ gradients &+ optimizer &+ copies }

    /// "weights 1.20 GB + gradients 0.30 GB + AdamW state 0.60 GB + the teacher 1.20 GB".
    public var breakdown: String {
        var parts = [
            "weights \(gigabytes(weights))", "gradients \(gigabytes(gradients))",
            "AdamW state \(gigabytes(optimizer))",
        ]
        if copies > 0 {
            parts.append("\(copiesDescription.isEmpty ? "copies" : copiesDescription) \(gigabytes(copies))")
        }
        return parts.joined(separator: " + ")
    }
}

/// Bytes as "1.23 GB" (powers of ten, as `MemoryBudgetError` writes them).
public func gigabytes(_ bytes: UInt64) -> String {
    let gb = Double(bytes) / 1e9
    return gb < 0.01 && bytes > 0 ? "\(bytes / 1000) KB" : String(format: "%.2f GB", gb)
}

extension TuningStrategy {
    /// Full fine-tuning: every parameter trains (an upper bound for a strategy that does not say).
    public func memoryEstimate(parameters: [ParameterShape]) -> TrainingMemory {
        let total = parameters.reduce(0) { $0 + $1.count }
        return TrainingMemory(parameters: total, trainable: total)
    }

    /// The estimate of a strategy that trains the parameters `trains` selects and adds nothing.
    public func memoryEstimate(parameters: [ParameterShape], trains: (ParameterShape) -> Bool) -> TrainingMemory {
        TrainingMemory(
            parameters: parameters.reduce(0) { $0 + $1.count },
            trainable: parameters.filter(trains).reduce(0) { $0 + $1.count })
    }
}
