import Foundation

/// How a tuned model is written for use elsewhere.
public struct CheckpointExportOptions: Sendable, Equatable {
    /// The dtype of every weight; nil keeps each tensor in the dtype of the checkpoint it was loaded from (Float32
    /// for a model made in code).
    public var dtype: SafeTensorsDType?
    /// Weights past this many bytes are split into shards with an index, as Hugging Face does (5 GB).
    public var maxShardBytes: Int

    public init(dtype: SafeTensorsDType? = nil, maxShardBytes: Int = SafeTensors.defaultMaxShardBytes) {
        self.dtype = dtype
        self.maxShardBytes = maxShardBytes
    }
}

/// A backbone that writes itself in the format and layout of the checkpoint it was loaded from (for example a
/// Hugging Face directory that `transformers` loads), rather than only in SkillTune's own `save(to:)` form.
///
/// Contract: the same tensor names as the input (a tied head stays tied), config and tokenizer files carried
/// over, and every tensor whose value did not change written with the input's bytes, bit for bit, when its dtype
/// stays the same. `directory` exists and is empty (the caller makes the write atomic).
public protocol CheckpointExporting: Backbone {
    func exportCheckpoint(to directory: URL, options: CheckpointExportOptions) throws
}

/// A strategy whose result can be handed over as adapters on the untouched base model (a PEFT LoRA adapter)
/// instead of changed weights, or merged into the weights on request.
public protocol AdapterExporting: TuningStrategy {
    /// Option values under which every stage trains the same adapters (kept across stages, not folded into the
    /// weights at each stage end), so that one adapter holds the whole tuning.
    static var singleAdapterOptions: [String: String] { get }
    /// Whether this instance keeps its adapters across stages (then they are there to save after the last one).
    var keepsAdapters: Bool { get }
    /// Writes the model's adapters to `directory` (which exists and is empty). `baseModel` names the base
    /// checkpoint in the adapter's config.
    func saveAdapters(of model: any Backbone, to directory: URL, baseModel: String?) throws
    /// Folds the model's adapters into its weights and restores the base structure.
    func mergeAdapters(into model: any Backbone) throws
}
