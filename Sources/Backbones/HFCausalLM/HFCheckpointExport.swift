import Foundation
import Kernel

/// Writes a (tuned) model as a Hugging Face checkpoint in the layout of the one it was loaded from, so that
/// `AutoModelForCausalLM.from_pretrained(directory)` loads it with no missing or unexpected keys:
///
/// - the same tensor names (a tied head stays tied: no `lm_head.weight` when the input had none; buffers such as
///   `rotary_emb.inv_freq` that the input carried are copied), each in the input's dtype unless `options.dtype`;
/// - a tensor whose value did not change and whose dtype stays the same is copied from the input file byte for
///   byte (frozen tensors are bit-identical to the input's; NaN payloads included); changed ones are rounded to
///   nearest even from Float32;
/// - `model.safetensors`, or shards `model-0000k-of-0000N.safetensors` and `model.safetensors.index.json` past
///   `options.maxShardBytes`, as transformers' `save_pretrained` splits them;
/// - `config.json` copied unchanged, except `dtype`/`torch_dtype` when `options.dtype` changes the weights' dtype;
/// - the tokenizer, chat-template and generation files copied.
/// A model made in code (no source directory) is written from its config, in Float32 unless `options.dtype`.
extension HFCausalLM: CheckpointExporting {
    /// Whether a file of a model directory is carried over by an export (tokenizer, chat template, generation,
    /// image processor).
    public static func isCompanionFile(_ name: String) -> Bool {
        companionFileNames.contains(name) || name.hasPrefix("chat_template")
            || [
                "vocab.json", "merges.txt", "added_tokens.json", "tokenizer.model", "preprocessor_config.json",
                "processor_config.json",
            ].contains(name)
    }

    /// The torch name of a dtype as config.json spells it ("float32", "bfloat16", "float16").
    public static func torchDTypeName(_ dtype: SafeTensorsDType) -> String {
        switch dtype {
        case .float16: return "float16"
        case .bfloat16: return "bfloat16"
        case .float64: return "float64"
        default: return "float32"
        }
    }

    public func exportCheckpoint(to directory: URL, options: CheckpointExportOptions) throws {
        let tiedHead = configuration.decoder.tieWordEmbeddings
        try Self.exportWeights(
            namedParameters(), sourceDirectory: sourceDirectory, modelType: configuration.modelType,
            mayBeAbsent: { tiedHead && $0 == "lm_head.weight" }, options: options, to: directory)
        try AtomicFile.write(
            try Self.exportedConfig(sourceDirectory: sourceDirectory, made: configuration.jsonObject(), options),
            to: directory.appendingPathComponent("config.json"))
        if let sourceDirectory {
            try Self.copyCompanionFiles(from: sourceDirectory, to: directory)
        } else {
            for (name, data) in companionFiles {
                try AtomicFile.write(data, to: directory.appendingPathComponent(name))
            }
        }
    }

    /// Writes `parameters` (named as in the input's files) as safetensors in the layout of the checkpoint in
    /// `sourceDirectory`: unchanged tensors copied byte for byte, the input's tensors that are no parameters
    /// copied as they were, shards past `options.maxShardBytes`. Without a source, every parameter in Float32
    /// (or `options.dtype`).
    static func exportWeights(
        _ parameters: [(name: String, tensor: Tensor)], sourceDirectory: URL?, modelType: String,
        mayBeAbsent: (String) -> Bool, options: CheckpointExportOptions, to directory: URL
    ) throws {
        if let dtype = options.dtype, !dtype.isWritable {
            throw HFCheckpointError(
                file: directory.path, key: nil,
                message: "cannot export weights as \(dtype.rawValue); choose F32, BF16 or F16")
        }
        let source = try sourceDirectory.map { try HFCheckpointWeights(directory: $0) }
        var entries: [SafeTensorsEntry] = []
        if let source {
            try checkSameTensors(parameters.map(\.name), as: source, modelType: modelType, mayBeAbsent: mayBeAbsent)
            for (name, tensor) in parameters {
                let input = source.entries[name]!
                let dtype = options.dtype ?? input.info.dtype
                if input.info.dtype == dtype, try Self.unchanged(tensor, input) {
                    entries.append(try SafeTensorsEntry(copying: name, from: input.file))
                } else {
                    entries.append(SafeTensorsEntry(name: name, tensor: tensor, dtype: dtype))
                }
            }
            // Tensors the input carried that are no parameters (rotary inv_freq, unused vision layers): as they were.
            let names = Set(parameters.map(\.name))
            for name in source.entries.keys.sorted() where !names.contains(name) {
                entries.append(try SafeTensorsEntry(copying: name, from: source.entries[name]!.file))
            }
        } else {
            entries = parameters.map {
                SafeTensorsEntry(name: $0.name, tensor: $0.tensor, dtype: options.dtype ?? .float32)
            }
        }
        try SafeTensors.writeSharded(
            entries: entries, metadata: ["format": "pt"], to: directory,
            maxShardBytes: options.maxShardBytes)
    }

    /// Copies the tokenizer, chat-template, generation and processor files of `source`.
    static func copyCompanionFiles(from source: URL, to directory: URL) throws {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: source.path)) ?? []
        for name in names.sorted() where isCompanionFile(name) {
            let url = source.appendingPathComponent(name)
            guard let data = FileManager.default.contents(atPath: url.path) else {
                throw HFCheckpointError(file: url.path, key: nil, message: "cannot read the file to copy it")
            }
            try AtomicFile.write(data, to: directory.appendingPathComponent(name))
        }
    }

    /// The model must have exactly the input's parameters: a strategy that added modules (experts, routers,
    /// unmerged adapters) has no place in this format.
    private static func checkSameTensors(
        _ names: [String], as source: HFCheckpointWeights, modelType: String, mayBeAbsent: (String) -> Bool
    ) throws {
        let extra = names.filter { source.entries[$0] == nil }
        if !extra.isEmpty {
            throw HFCheckpointError(
                file: source.sourceName, key: extra[0],
                message:
                    "the tuned model has \(extra.count) parameter(s) the \(modelType) checkpoint has no "
                    + "place for (\(extra.prefix(4).joined(separator: ", "))\(extra.count > 4 ? ", ..." : "")): a strategy "
                    + "added modules; transformers would report them as unexpected keys")
        }
        let have = Set(names)
        let missing = source.entries.keys.filter { name in
            !have.contains(name) && !HFCheckpointWeights.harmlessExtraSuffixes.contains { name.hasSuffix($0) }
                && !mayBeAbsent(name)
        }.sorted()
        if let first = missing.first {
            throw HFCheckpointError(
                file: source.sourceName, key: first,
                message: "the tuned model no longer has '\(first)' (\(missing.count) tensor(s) of the input are gone)")
        }
    }

    /// Whether `tensor` holds exactly (bit for bit) the input tensor widened to Float32.
    static func unchanged(_ tensor: Tensor, _ input: HFCheckpointWeights.Entry) throws -> Bool {
        let info = input.info
        guard info.shape == tensor.shape, [.float32, .float16, .bfloat16].contains(info.dtype) else { return false }
        let chunk = 1 << 16
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: chunk)
        defer { scratch.deallocate() }
        return try input.file.withRawBytes(ofTensorNamed: info.name) { bytes in
            guard let base = bytes.baseAddress else { return info.elementCount == 0 }
            var start = 0
            while start < info.elementCount {
                let n = min(chunk, info.elementCount - start)
                info.dtype.widen(base + start * info.dtype.byteSize, count: n, into: scratch)
                if memcmp(scratch, tensor.data + start, n * 4) != 0 { return false }
                start += n
            }
            return true
        }
    }

    /// config.json of the export: the input's bytes when the dtype does not change, else with `dtype` /
    /// `torch_dtype` set; for a model made in code, `made` with the dtype of the weights.
    static func exportedConfig(
        sourceDirectory: URL?, made: @autoclosure () -> [String: Any], _ options: CheckpointExportOptions
    ) throws -> Data {
        let dtypeName = Self.torchDTypeName(options.dtype ?? .float32)
        guard let sourceDirectory else {
            var object = made()
            object["dtype"] = dtypeName
            if object["torch_dtype"] != nil { object["torch_dtype"] = dtypeName }
            return try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        }
        let url = sourceDirectory.appendingPathComponent("config.json")
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw HFCheckpointError(file: url.path, key: nil, message: "cannot read the file to copy it")
        }
        guard options.dtype != nil else { return data }
        var object = try ConfigJSON.parse(data, file: url.path).values
        let keys = ["dtype", "torch_dtype"].filter { object[$0] != nil }
        if !keys.isEmpty && keys.allSatisfy({ object[$0] as? String == dtypeName }) { return data }
        if keys.isEmpty { object["torch_dtype"] = dtypeName }
        for key in keys { object[key] = dtypeName }
        return try JSONSerialization.data(
            withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
            + Data("\n".utf8)
    }
}
