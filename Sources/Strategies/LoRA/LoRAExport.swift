import Foundation
import Kernel

/// LoRA hands its result over as a PEFT adapter directory (`adapter_config.json`, `adapter_model.safetensors`),
/// which `PeftModel.from_pretrained(base, directory)` loads, or merged into the weights.
extension LoRA: AdapterExporting {
    /// `merge=false`: one adapter trains through every stage.
    public static var singleAdapterOptions: [String: String] { ["merge": "false"] }

    public var keepsAdapters: Bool { !mergesAtStageEnd }

    public func saveAdapters(of model: any Backbone, to directory: URL, baseModel: String?) throws {
        try PEFTAdapter.save(model, to: directory, baseModel: baseModel, renaming: model.adapterModulePath)
    }

    public func mergeAdapters(into model: any Backbone) throws {
        try model.mergeLoRAAdapters()
    }
}
