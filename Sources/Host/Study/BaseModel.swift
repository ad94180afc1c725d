import Foundation
import Kernel

/// Where a study's base model comes from: the checkpoint `StudyConfig.model` names (loaded as is, no
/// pretraining), else the built-in backbone pretrained by `Pretrainer` (or found in its cache).
public enum BaseModel {
    /// The base model, the directory every strategy reloads it from, and the seconds spent pretraining.
    public static func load(
        config: StudyConfig, data: StudyData, registries: SkillTuneRegistries,
        log: (String) -> Void
    ) throws -> (model: any Backbone, directory: URL, seconds: Double) {
        guard let path = config.model else {
            let base = try Pretrainer.baseModel(config: config, data: data, registries: registries, log: log)
            try (config.chatTemplate ?? .auto).apply(to: base.model)
            return base
        }
        let directory = URL(fileURLWithPath: path)
        let model = try registries.loadBackbone(directory: directory)
        let chat = try (config.chatTemplate ?? .auto).apply(to: model)
        log(
            "base model: \(model.family) checkpoint \(directory.path), \(model.parameterCounts.total) parameters (no pretraining)"
                + (chat ? ", prompts in its chat template" : "")
        )
        return (model, directory, 0)
    }
}
