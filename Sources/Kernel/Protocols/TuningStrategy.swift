/// Where a strategy is in the sequence of target stages.
public struct StageContext: Sendable {
    /// 1-based stage number (stage 0 is the untouched base model).
    public var index: Int
    /// The target skill trained in this stage.
    public var name: String
    /// Optimizer steps this stage will take.
    public var totalSteps: Int
    /// The run's seed (strategies that draw random numbers fork it).
    public var seed: UInt64

    public init(index: Int, name: String, totalSteps: Int, seed: UInt64) {
        self.index = index
        self.name = name
        self.totalSteps = totalSteps
        self.seed = seed
    }
}

/// One declared option of a strategy, with its default and current value (as text, for the command line,
/// `skilltune list` and result files).
public struct StrategyOption: Codable, Sendable, Equatable {
    public var name: String
    public var value: String
    public var defaultValue: String
    public var help: String

    public init(name: String, value: String? = nil, defaultValue: String, help: String) {
        self.name = name
        self.value = value ?? defaultValue
        self.defaultValue = defaultValue
        self.help = help
    }
}

/// A tuning recipe: what trains, how the loss is computed, and what happens at the end of a stage.
///
/// The host calls, for every stage: `prepare` once, then per step `loss` (and backward/optimizer), then
/// `finish` once. Strategies may add modules (adapters, experts) in `prepare` by replacing sub-modules by
/// name, change the loss (distillation), and merge or interpolate weights in `finish`.
public protocol TuningStrategy: AnyObject {
    /// The registry name ("sa-proj", "lora", ...).
    var name: String { get }
    /// Declared options with their values.
    var options: [StrategyOption] { get }

    /// Adds the modules this strategy needs (adapters, experts, routers) if they are not there yet; does
    /// nothing if they are. The host calls it on a fresh base model before loading a checkpoint this strategy
    /// saved mid-study, so that parameter names match; `prepare` should call it too.
    func installModules(_ model: any Backbone, stage: StageContext) throws
    /// Decides what trains (sets `requiresGrad` on parameters) and may add modules.
    func prepare(_ model: any Backbone, stage: StageContext) throws
    /// The training loss for one batch. The default is next-token cross-entropy on answer tokens.
    func loss(_ model: any Backbone, batch: Batch, stage: StageContext) -> Tensor
    /// Runs once after the last step of a stage (merge adapters, interpolate weights...).
    func finish(_ model: any Backbone, stage: StageContext) throws
    /// Multiplier on the learning rate for one parameter (1 unless the recipe says otherwise). `name` is the
    /// parameter's name in the component scheme (`Backbone.componentPath`: `vision_tower.*`, `mm_projector.*`,
    /// `model.*`), so a recipe means the same parts on every backbone.
    func learningRateScale(forParameter name: String) -> Float
    /// What tuning a model with these parameters (names and shapes of the untouched base) holds in memory,
    /// activations aside. The default (in TrainingMemory.swift) counts every parameter as trainable.
    func memoryEstimate(parameters: [ParameterShape]) -> TrainingMemory
}

extension TuningStrategy {
    public func installModules(_ model: any Backbone, stage: StageContext) throws {}
    public func finish(_ model: any Backbone, stage: StageContext) throws {}
    public func learningRateScale(forParameter name: String) -> Float { 1 }
}

/// Makes a strategy from option values given by name (as text, e.g. from `--option rank=8`). Unknown
/// option names and bad values are errors that list what is valid. `make([:])` gives the defaults.
public typealias StrategyFactory = (_ options: [String: String]) throws -> any TuningStrategy
