import Foundation
import Kernel

/// A study file (`skilltune compare --config study.json`): a JSON object with any of `StudyConfig`'s fields
/// (the `study.json` a run writes has them all). Fields left out take the defaults of the file's `preset` and
/// `backbone` (or the ones given); `training` and `pretraining` may list only some of their own fields.
/// Relative paths (`model`, data files in `targets` / `heldOut`) are relative to the file's directory.
///
///     {"model": "qwen2-tiny", "targets": ["arith.jsonl@numeric", "colors.jsonl"], "heldOut": ["facts.jsonl"],
///      "strategies": ["sa-proj", "lora"], "strategyOptions": {"lora": {"rank": "4"}},
///      "training": {"steps": 20, "learningRate": 0.001}, "seed": 3, "evalData": {"colors": "colors-eval.jsonl"}}
///
/// Every problem names the file and the field: an unknown field (with the closest known one), a value of the
/// wrong type, a bad preset.
public enum StudyFile {
    /// The largest study file read (bytes).
    public static let maximumSize: Int64 = 16 << 20

    /// Reads `file`. `preset` and `backbone` give the defaults when the file names none.
    public static func read(_ file: URL, preset: String = "small", backbone: String = "tiny-llava") throws
        -> StudyConfig
    {
        // Only a regular file of sensible size: a device or a pipe (/dev/zero) would be read without end.
        let attributes = try? FileManager.default.attributesOfItem(atPath: file.path)
        guard attributes?[.type] as? FileAttributeType == .typeRegular else {
            throw HostError("\(file.path): cannot read the study file (missing or not a regular file)")
        }
        guard let size = attributes?[.size] as? NSNumber, size.int64Value <= maximumSize else {
            throw HostError("\(file.path): a study file is at most \(maximumSize / (1 << 20)) MB")
        }
        let data: Data
        do { data = try Data(contentsOf: file) } catch {
            throw HostError("\(file.path): cannot read the study file (\(error.localizedDescription))")
        }
        return try parse(
            data, file: file.path, directory: file.deletingLastPathComponent(), preset: preset, backbone: backbone)
    }

    /// Parses a study file's bytes; `file` names it in messages, `directory` anchors relative paths.
    public static func parse(
        _ data: Data, file: String, directory: URL, preset: String = "small",
        backbone: String = "tiny-llava"
    ) throws -> StudyConfig {
        try JSONNesting.check(data, file: file)
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw HostError(
                "\(file): not a JSON object (a study file is {\"targets\": [...], \"strategies\": [...], ...})")
        }
        let presetName = try string(object["preset"], field: "preset", file: file) ?? preset
        let backboneName = try string(object["backbone"], field: "backbone", file: file) ?? backbone
        let defaults: StudyConfig
        do { defaults = try StudyConfig.defaults(preset: presetName, backbone: backboneName) } catch {
            throw HostError("\(file): field 'preset': \(error)")
        }
        var merged = try dictionary(of: defaults)
        try checkFields(object, known: merged, prefix: "", file: file)
        merge(object, into: &merged)
        guard JSONSerialization.isValidJSONObject(merged) else {
            throw HostError("\(file): a number is out of range (expected finite numbers)")
        }
        var config: StudyConfig
        do {
            config = try JSONDecoder().decode(StudyConfig.self, from: JSONSerialization.data(withJSONObject: merged))
        } catch let error as DecodingError {
            throw HostError("\(file): \(describe(error))")
        } catch {
            throw HostError("\(file): \(error.localizedDescription)")
        }
        // Seeds given without a seed: the first is the seed.
        if object["seed"] == nil, let first = config.seeds?.first { config.seed = first }
        config.model = config.model.map { resolve($0, in: directory) }
        config.targets = config.targets.map { resolveReference($0, in: directory) }
        config.heldOut = config.heldOut.map { resolveReference($0, in: directory) }
        config.evalData = config.evalData?.mapValues { resolve($0, in: directory) }
        return config
    }

    /// A file reference made absolute against `directory` (a registered benchmark name is left alone).
    public static func resolveReference(_ reference: String, in directory: URL) -> String {
        let (path, scoring) = BenchmarkReference.split(reference)
        guard BenchmarkReference.looksLikeFile(path) else { return reference }
        return resolve(path, in: directory) + (scoring.map { "@" + $0 } ?? "")
    }

    static func resolve(_ path: String, in directory: URL) -> String {
        path.hasPrefix("/") ? path : directory.appendingPathComponent(path).standardizedFileURL.path
    }

    static func string(_ value: Any?, field: String, file: String) throws -> String? {
        guard let value else { return nil }
        guard let s = value as? String else { throw HostError("\(file): field '\(field)': expected a string") }
        return s
    }

    static func dictionary(of config: StudyConfig) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: JSONEncoder().encode(config)) as? [String: Any] ?? [:]
    }

    /// Objects whose keys are names (strategies, benchmarks), not fields: read and replaced whole.
    static let wholeObjectFields: Set<String> = ["strategyOptions", "evalData"]

    /// Every field of `object` must be a field of `known` (nested objects checked the same way, except
    /// `wholeObjectFields`, whose keys are names).
    static func checkFields(_ object: [String: Any], known: [String: Any], prefix: String, file: String) throws {
        let names = Array(known.keys) + (prefix.isEmpty ? StudyConfig.fieldsWithoutDefault : [])
        for (key, value) in object {
            guard names.contains(key) else {
                let hint = closestName(to: key, among: names).map { "; did you mean '\(prefix)\($0)'?" } ?? ""
                throw HostError(
                    "\(file): unknown field '\(prefix)\(key)'\(hint) (fields: \(names.sorted().joined(separator: ", ")))"
                )
            }
            if !Self.wholeObjectFields.contains(key), let inner = value as? [String: Any],
                let knownInner = known[key] as? [String: Any]
            {
                try checkFields(inner, known: knownInner, prefix: prefix + key + ".", file: file)
            }
        }
    }

    /// `object`'s fields over `base`, nested objects field by field (`strategyOptions` replaced whole).
    static func merge(_ object: [String: Any], into base: inout [String: Any]) {
        for (key, value) in object {
            if !Self.wholeObjectFields.contains(key), let inner = value as? [String: Any],
                var existing = base[key] as? [String: Any]
            {
                merge(inner, into: &existing)
                base[key] = existing
            } else {
                base[key] = value
            }
        }
    }

    /// "field 'training.steps': expected a whole number".
    static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
                .replacingOccurrences(of: ".[", with: "[")
        }
        switch error {
        case .typeMismatch(let type, let context):
            return "field '\(path(context))': expected \(typeName(type))"
        case .valueNotFound(let type, let context):
            return "field '\(path(context))': expected \(typeName(type)), got null"
        case .keyNotFound(let key, let context):
            let parent = path(context)
            return "field '\(parent.isEmpty ? "" : parent + ".")\(key.stringValue)' is missing"
        case .dataCorrupted(let context):
            return "field '\(path(context))': \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }

    static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is Int.Type, is UInt64.Type: return "a whole number"
        case is Double.Type, is Float.Type: return "a number"
        case is String.Type: return "a string"
        case is Bool.Type: return "true or false"
        case is [String].Type: return "a list of strings"
        default:
            let name = String(describing: type)
            return name.hasPrefix("Array")
                ? "a list" : name.hasPrefix("Dictionary") ? "an object" : "a value of type \(name)"
        }
    }
}
