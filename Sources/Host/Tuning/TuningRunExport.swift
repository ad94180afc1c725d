import Foundation
import Kernel

extension TuningRun {
    /// How `export(to:merge:)` will write the tuned model, checked before any training so that a run whose
    /// result cannot be exported fails at once:
    /// - a strategy that keeps adapters (lora) gives an adapter directory (PEFT), or with `merge` the merged model;
    /// - every other strategy gives a checkpoint in the input's format (`CheckpointExporting`), or SkillTune's own
    ///   (`save(to:)`) for backbones without one; it must leave the model's parameters as they were named: a
    ///   strategy that adds modules (moe's experts and routers) is refused, since a checkpoint of the input's
    ///   architecture has no place for them.
    ///
    /// Installs the strategy's modules for stage 1 (as `prepare` would) to see what it adds.
    @discardableResult
    public func checkExportable(merge: Bool = false, options: CheckpointExportOptions = CheckpointExportOptions())
        throws
        -> TuningExport.Format
    {
        if let dtype = options.dtype, !(model is CheckpointExporting) {
            throw HostError(
                "--dtype \(dtype.rawValue): \(model.family) has no outside checkpoint format; it exports in SkillTune's own format, Float32 (drop --dtype)"
            )
        }
        if let adapters = strategy as? AdapterExporting {
            if !adapters.keepsAdapters && !merge {
                let single = type(of: adapters).singleAdapterOptions.map { "\(strategy.name).\($0.key)=\($0.value)" }
                    .sorted()
                throw HostError(
                    "strategy '\(strategy.name)' folds each stage's adapter into the weights with these options, so no adapter is left to export: pass --merge to export the merged model, or tune with \(single.joined(separator: " ")) to get one adapter"
                )
            }
            if !merge {
                if options.dtype != nil {
                    throw HostError(
                        "--dtype applies to a full checkpoint; a \(strategy.name) adapter is written in Float32 (add --merge for a checkpoint)"
                    )
                }
                return .adapter
            }
        } else if merge {
            throw HostError(
                "--merge applies to strategies that train adapters (lora); '\(strategy.name)' changes the weights themselves, so the export is already a full model"
            )
        }
        if !(strategy is AdapterExporting) {
            try strategy.installModules(model, stage: context(1))
            try checkStructure(after: "strategy '\(strategy.name)'")
        }
        return model is CheckpointExporting ? .checkpoint : .skilltune
    }

    /// Throws when the model's parameters are no longer the base model's (a strategy added or removed modules).
    func checkStructure(after what: String) throws {
        let names = model.namedParameters().map(\.name)
        guard names != baseParameterNames else { return }
        let base = Set(baseParameterNames)
        let added = names.filter { !base.contains($0) }
        let listed = added.prefix(3).joined(separator: ", ") + (added.count > 3 ? ", ... (\(added.count) in all)" : "")
        throw HostError(
            "\(what) adds parameters a \(model.family) checkpoint has no place for (\(listed)): a loader of the input's architecture, such as transformers' from_pretrained, would report them as unexpected keys and not run them. To take a tuned model away, choose a strategy that keeps the model's structure (full, llm, sa-proj, mlp, ...) or trains adapters (lora); compare '\(strategy.name)' with `skilltune compare` or `run`"
        )
    }

    /// Writes the tuned model to `url` as `checkExportable` says, atomically: everything goes to a temporary
    /// sibling directory renamed to `url` at the end, so `url` never holds a half-written model. An existing `url`
    /// is an error unless `replacing`, which swaps the new directory in and then removes the old one. With
    /// `merge`, the adapters are first merged into the model's weights (the model keeps them merged).
    @discardableResult
    public func export(
        to url: URL, options: CheckpointExportOptions = CheckpointExportOptions(), merge: Bool = false,
        replacing: Bool = false
    ) throws -> TuningExport {
        let format = try checkExportable(merge: merge, options: options)
        var files: [String] = []
        try AtomicDirectory.write(to: url, replacing: replacing) { directory in
            switch format {
            case .adapter:
                try (strategy as! AdapterExporting).saveAdapters(of: model, to: directory, baseModel: modelReference)
            case .checkpoint, .skilltune:
                if merge, let adapters = strategy as? AdapterExporting { try adapters.mergeAdapters(into: model) }
                try checkStructure(after: "strategy '\(strategy.name)'")
                if let exporting = model as? CheckpointExporting {
                    try exporting.exportCheckpoint(to: directory, options: options)
                } else {
                    try model.save(to: directory)
                }
            }
            files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { !$0.hasPrefix(".") }
                .sorted()
        }
        let export = TuningExport(
            path: url.path, format: format, dtype: options.dtype?.rawValue, merged: merge, files: files)
        result?.export = export
        return export
    }
}
