import Foundation
import Kernel

/// LoRA adapters in Hugging Face PEFT's on-disk format: a directory with `adapter_config.json` (`r`,
/// `lora_alpha`, `target_modules`, `lora_dropout`, `bias`: "none", `peft_type`: "LORA", ...) and
/// `adapter_model.safetensors` holding `base_model.model.<module path>.lora_A.weight` [r, in] and
/// `.lora_B.weight` [out, r] for every adapted linear layer.
///
/// Supported on load: plain LoRA on linear layers (`fan_in_fan_out` false, `bias` "none", no DoRA, no
/// `alpha_pattern`, no `modules_to_save`), with per-module ranks (`rank_pattern`, read from the tensor
/// shapes) and rsLoRA scaling. Anything else is an error saying which field is not supported.
public enum PEFTAdapter {
    public static let configFile = "adapter_config.json"
    public static let weightsFile = "adapter_model.safetensors"
    static let keyPrefix = "base_model.model."

    // MARK: Saving

    /// Writes every LoRA layer of `model` as a PEFT adapter directory. All layers must share one alpha, dropout
    /// and scaling rule (ranks may differ: they go to `rank_pattern`).
    /// - Parameters:
    ///   - baseModel: recorded as `base_model_name_or_path` (null when nil).
    ///   - renaming: each module path as the adapter names it (`Backbone.adapterModulePath`: transformers'
    ///     in-memory names).
    public static func save(
        _ model: Module, to directory: URL, baseModel: String? = nil, renaming: (String) -> String = { $0 }
    ) throws {
        let layers = model.loraLayers.map { (path: renaming($0.path), layer: $0.layer) }
        guard let first = layers.first?.layer.configuration else {
            throw PEFTAdapterError(directory: directory.path, problem: "the model has no LoRA layer to save")
        }
        for (path, layer) in layers {
            let c = layer.configuration
            guard c.alpha == first.alpha, c.dropout == first.dropout, c.rankStabilized == first.rankStabilized else {
                throw PEFTAdapterError(
                    directory: directory.path,
                    problem: "LoRA layer \(path) has alpha/dropout/rsLoRA settings that differ from the first layer's")
            }
        }
        var rankPattern: [String: Int] = [:]
        for (path, layer) in layers where layer.configuration.rank != first.rank {
            rankPattern[path] = layer.configuration.rank
        }
        let config: [String: Any] = [
            "peft_type": "LORA",
            "task_type": "CAUSAL_LM",
            "base_model_name_or_path": baseModel ?? NSNull(),
            "r": first.rank,
            "lora_alpha": jsonNumber(first.alpha),
            "lora_dropout": jsonNumber(first.dropout),
            "target_modules": targetModules(
                adapted: layers.map(\.path), linears: LoRATargets.linearPaths(in: model).map(renaming)),
            "bias": "none",
            "fan_in_fan_out": false,
            "inference_mode": true,
            "init_lora_weights": true,
            "use_rslora": first.rankStabilized,
            "use_dora": false,
            "modules_to_save": NSNull(),
            "layers_to_transform": NSNull(),
            "layers_pattern": NSNull(),
            "rank_pattern": rankPattern,
            "alpha_pattern": [String: Any](),
            "revision": NSNull(),
        ]
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let json = try JSONSerialization.data(
            withJSONObject: config, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        try AtomicFile.write(json, to: directory.appendingPathComponent(configFile))
        var tensors: [(String, Tensor)] = []
        for (path, layer) in layers {
            tensors.append((keyPrefix + path + ".lora_A.weight", layer.loraA))
            tensors.append((keyPrefix + path + ".lora_B.weight", layer.loraB))
        }
        try SafeTensors.write(tensors, metadata: ["format": "pt"], to: directory.appendingPathComponent(weightsFile))
    }

    /// PEFT's `target_modules`: the adapted layers' last names when selecting every linear with such a name
    /// (PEFT's suffix rule) gives exactly the adapted set; otherwise a full-match regular expression (PEFT's
    /// string form) built from the adapted paths with layer numbers generalised, or listing the paths.
    static func targetModules(adapted: [String], linears: [String]) -> Any {
        let adaptedSet = Set(adapted)
        let lastNames = Set(adapted.map { String($0.split(separator: ".").last!) })
        let bySuffix = Set(linears.filter { path in lastNames.contains { path == $0 || path.hasSuffix("." + $0) } })
        if bySuffix == adaptedSet { return lastNames.sorted() }
        func escaped(_ s: String) -> String { NSRegularExpression.escapedPattern(for: s) }
        let generalised = nameShapes(adapted).map {
            escaped($0).replacingOccurrences(of: "\\.N\\.", with: "\\.\\d+\\.")
        }
        let pattern = generalised.joined(separator: "|")
        if let regex = try? NSRegularExpression(pattern: "^(?:" + pattern + ")$"),
            Set(linears.filter { regex.firstMatch(in: $0, range: NSRange($0.startIndex..., in: $0)) != nil })
                == adaptedSet
        {
            return pattern
        }
        return adapted.map(escaped).joined(separator: "|")
    }

    /// An integral value as an integer (PEFT writes `"lora_alpha": 8`), otherwise the Double.
    private static func jsonNumber(_ x: Double) -> Any {
        x == x.rounded() && abs(x) < 1e15 ? Int(x) as Any : x as Any
    }

    // MARK: Loading

    /// What a PEFT adapter directory holds: per adapted module path, its factors and configuration.
    public struct Contents {
        public var layers: [(path: String, loraA: Tensor, loraB: Tensor, configuration: LoRAConfiguration)]
        /// `base_model_name_or_path`, if recorded.
        public var baseModel: String?
    }

    /// Reads and checks an adapter directory without touching any model.
    public static func read(from directory: URL) throws -> Contents {
        let configURL = directory.appendingPathComponent(configFile)
        func fail(_ problem: String) -> PEFTAdapterError {
            PEFTAdapterError(directory: directory.path, problem: problem)
        }
        guard let data = FileManager.default.contents(atPath: configURL.path) else {
            throw fail("\(configFile) is missing (a PEFT LoRA adapter has \(configFile) and \(weightsFile))")
        }
        let settings = try readConfig(data, directory: directory.path)
        let (rank, alpha, dropout, rankStabilized, hasRankPattern) =
            (settings.rank, settings.alpha, settings.dropout, settings.rankStabilized, settings.hasRankPattern)

        let weightsURL = directory.appendingPathComponent(weightsFile)
        guard FileManager.default.fileExists(atPath: weightsURL.path) else { throw fail("\(weightsFile) is missing") }
        let file = try SafeTensorsFile(url: weightsURL)
        var factors: [String: (a: Tensor?, b: Tensor?)] = [:]
        var order: [String] = []
        for name in file.tensorNames {
            let parsed: (path: String, isA: Bool)? = {
                guard name.hasPrefix(keyPrefix) else { return nil }
                let rest = String(name.dropFirst(keyPrefix.count))
                if rest.hasSuffix(".lora_A.weight") { return (String(rest.dropLast(".lora_A.weight".count)), true) }
                if rest.hasSuffix(".lora_B.weight") { return (String(rest.dropLast(".lora_B.weight".count)), false) }
                return nil
            }()
            guard let parsed else {
                throw fail(
                    "\(weightsFile): tensor '\(name)' is not a LoRA factor "
                        + "(expected base_model.model.<module>.lora_A.weight or .lora_B.weight)")
            }
            if factors[parsed.path] == nil { order.append(parsed.path) }
            let tensor = try file.tensor(named: name)
            if parsed.isA {
                factors[parsed.path, default: (nil, nil)].a = tensor
            } else {
                factors[parsed.path, default: (nil, nil)].b = tensor
            }
        }
        guard !order.isEmpty else { throw fail("\(weightsFile) holds no tensor") }
        var layers: [(String, Tensor, Tensor, LoRAConfiguration)] = []
        for path in order {
            guard let a = factors[path]!.a, let b = factors[path]!.b else {
                throw fail("\(weightsFile): module \(path) has only one of lora_A and lora_B")
            }
            guard a.rank == 2, b.rank == 2, a.shape[0] == b.shape[1], a.shape[0] >= 1 else {
                throw fail(
                    "\(weightsFile): module \(path) has lora_A \(a.shape) and lora_B \(b.shape); expected [r, in] and [out, r]"
                )
            }
            // With rank_pattern the rank is per module: the tensors say which. Alpha is the shared lora_alpha.
            guard hasRankPattern || a.shape[0] == rank else {
                throw fail(
                    "\(weightsFile): module \(path) has rank \(a.shape[0]) but \(configFile) says r = \(rank) and has no rank_pattern"
                )
            }
            let configuration = LoRAConfiguration(
                rank: a.shape[0], alpha: alpha, dropout: dropout, rankStabilized: rankStabilized)
            layers.append((path, a, b, configuration))
        }
        return Contents(layers: layers, baseModel: settings.baseModel)
    }

    /// The settings of an `adapter_config.json` that matter for loading.
    public struct ConfigSettings {
        public var rank: Int
        public var alpha: Double
        public var dropout: Double
        public var rankStabilized: Bool
        /// Per-module ranks: then each module's rank comes from its tensors.
        public var hasRankPattern: Bool
        public var baseModel: String?
    }

    /// Parses and checks the bytes of an `adapter_config.json`; `directory` names the adapter in errors.
    public static func readConfig(_ data: Data, directory: String) throws -> ConfigSettings {
        func fail(_ problem: String) -> PEFTAdapterError { PEFTAdapterError(directory: directory, problem: problem) }
        guard JSONNesting.depth(of: data) <= JSONNesting.limit,
            let config = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
        else {
            throw fail("\(configFile) is not a JSON object")
        }
        if let type = config["peft_type"] as? String, type != "LORA" {
            throw fail("\(configFile): peft_type is \"\(type)\"; only \"LORA\" adapters are supported")
        }
        guard let rank = (config["r"] as? NSNumber)?.intValue, rank >= 1 else {
            throw fail("\(configFile): field r must be a whole number >= 1")
        }
        guard let alpha = (config["lora_alpha"] as? NSNumber)?.doubleValue, alpha.isFinite else {
            throw fail("\(configFile): field lora_alpha must be a number")
        }
        let dropout = (config["lora_dropout"] as? NSNumber)?.doubleValue ?? 0
        guard dropout >= 0 && dropout < 1 else { throw fail("\(configFile): field lora_dropout must be in [0, 1)") }
        if (config["fan_in_fan_out"] as? Bool) == true {
            throw fail("\(configFile): fan_in_fan_out true (Conv1D layers) is not supported")
        }
        if let bias = config["bias"] as? String, bias != "none" {
            throw fail("\(configFile): bias \"\(bias)\" is not supported (only \"none\")")
        }
        if (config["use_dora"] as? Bool) == true { throw fail("\(configFile): use_dora true (DoRA) is not supported") }
        if (config["lora_bias"] as? Bool) == true { throw fail("\(configFile): lora_bias true is not supported") }
        if let pattern = config["alpha_pattern"] as? [String: Any], !pattern.isEmpty {
            throw fail("\(configFile): alpha_pattern is not supported (per-module alpha)")
        }
        if let modules = config["modules_to_save"], !(modules is NSNull) {
            throw fail("\(configFile): modules_to_save is not supported (fully trained extra modules)")
        }
        let rankStabilized = (config["use_rslora"] as? Bool) ?? false
        let hasRankPattern = !((config["rank_pattern"] as? [String: Any]) ?? [:]).isEmpty
        return ConfigSettings(
            rank: rank, alpha: alpha, dropout: dropout, rankStabilized: rankStabilized,
            hasRankPattern: hasRankPattern, baseModel: config["base_model_name_or_path"] as? String)
    }

    /// Loads an adapter directory into `model`: every adapted module must be a plain `Linear` of matching
    /// shape; it is replaced by a `LoRALinear` (frozen factors, evaluation mode follows the model). Nothing is
    /// changed if an error is thrown. Returns the adapted paths.
    /// - Parameter renaming: the module path of a name in the adapter (`Backbone.modulePath(fromAdapter:)`).
    @discardableResult
    public static func load(
        from directory: URL, into model: Module, renaming: (String) -> String = { $0 }
    ) throws -> [String] {
        let contents = try read(from: directory)
        var planned: [(String, LoRALinear)] = []
        for (name, a, b, configuration) in contents.layers {
            let path = renaming(name)
            guard let module = model.module(at: path) else {
                throw PEFTAdapterError(
                    directory: directory.path,
                    problem:
                        "the adapter has module \(path), which this model does not have; its linear layers look like: "
                        + nameShapes(LoRATargets.linearPaths(in: model)).prefix(30).joined(separator: ", "))
            }
            guard let base = module as? Linear, !(module is LoRALinear) else {
                throw PEFTAdapterError(
                    directory: directory.path,
                    problem:
                        "module \(path) is a \(type(of: module)), not a plain linear layer (already adapted?)")
            }
            guard a.shape[1] == base.inFeatures, b.shape[0] == base.outFeatures else {
                throw PEFTAdapterError(
                    directory: directory.path,
                    problem:
                        "module \(path) is \(base.inFeatures) -> \(base.outFeatures) but its lora_A is \(a.shape) and lora_B \(b.shape)"
                )
            }
            a.requiresGrad = false
            b.requiresGrad = false
            planned.append((path, LoRALinear(wrapping: base, loraA: a, loraB: b, configuration: configuration)))
        }
        for (path, layer) in planned { try model.replaceModule(at: path, with: layer) }
        return planned.map(\.0)
    }
}

/// A PEFT adapter directory that cannot be read or applied.
public struct PEFTAdapterError: Error, CustomStringConvertible, LocalizedError {
    public let directory: String
    public let problem: String
    public var description: String { "LoRA adapter \(directory): \(problem)" }
    public var errorDescription: String? { description }
}
