import Foundation
import Kernel

/// Makes a benchmark (with its default options).
public typealias BenchmarkFactory = () throws -> any Benchmark

/// The three plugin families, by name. `SkillTuneRegistries.builtIn()` holds everything the package ships;
/// register your own strategy, backbone or benchmark on it and every command and the study runner see it:
///
///     let registries = SkillTuneRegistries.builtIn()
///     try registries.strategies.register(name: "layernorm-only", summary: "Tune only the norms") { options in
///         try LayerNormOnly(options)
///     }
public final class SkillTuneRegistries {
    public let backbones = Registry<BackboneFactory>(kind: "backbone")
    public let strategies = Registry<StrategyFactory>(kind: "strategy")
    public let benchmarks = Registry<BenchmarkFactory>(kind: "benchmark")

    /// Empty registries (for a fully custom setup).
    public init() {}

    /// A strategy by name with option values (text), e.g. `["rank": "8"]`.
    public func strategy(_ name: String, options: [String: String] = [:]) throws -> any TuningStrategy {
        try strategies.make(name)(options)
    }

    /// A benchmark by name.
    public func benchmark(_ name: String) throws -> any Benchmark { try benchmarks.make(name)() }

    /// The model a `--model` value names: a checkpoint directory (loaded by whichever family recognizes it),
    /// or a registered backbone name with an optional preset, `tiny-llava` or `tiny-llava:small` (a freshly
    /// initialised model with seed 0; the first preset the family lists when none is given).
    public func backbone(reference: String) throws -> any Backbone {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: reference, isDirectory: &isDirectory), isDirectory.boolValue {
            return try loadBackbone(directory: URL(fileURLWithPath: reference))
        }
        let parts = reference.split(separator: ":", maxSplits: 1).map(String.init)
        if let name = parts.first, backbones.contains(name) {
            let factory = try backbones.make(name)
            guard let preset = parts.count > 1 ? parts[1] : factory.presets.last else {
                throw HostError("backbone '\(name)' has no presets; give a checkpoint directory")
            }
            guard factory.presets.contains(preset) || FileManager.default.fileExists(atPath: preset) else {
                throw HostError(
                    "backbone '\(name)' has no preset '\(preset)'; presets: \(factory.presets.joined(separator: ", "))")
            }
            return try factory.create(preset, 0, [])
        }
        throw HostError(
            "no model '\(reference)': not a directory, and not a backbone name (\(backbones.names.joined(separator: ", ")), optionally with :preset)"
        )
    }

    /// Loads a checkpoint directory with whichever registered family recognizes it.
    public func loadBackbone(directory: URL) throws -> any Backbone {
        guard FileManager.default.fileExists(atPath: directory.path) else {
            throw HostError(
                "\(directory.path): no such directory (expected a model checkpoint directory or a preset name such as \(backbones.names.joined(separator: ", ")))"
            )
        }
        let config = directory.appendingPathComponent("config.json")
        guard FileManager.default.fileExists(atPath: config.path) else {
            throw HostError(
                "\(config.path): file not found ('\(directory.path)' is not a model directory: a checkpoint has config.json, model.safetensors and a tokenizer file)"
            )
        }
        for entry in backbones.entries where entry.make.recognizes(directory) {
            return try entry.make.load(directory)
        }
        throw HostError(
            "\(directory.path): not a checkpoint any backbone recognizes (config.json model_type should be one of: \(backbones.names.joined(separator: ", ")))"
        )
    }
}

/// A failure with a message meant for the person at the terminal.
public struct HostError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
