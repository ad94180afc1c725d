import Foundation
import Kernel

/// The weight files of a Hugging Face model directory: one `model.safetensors`, or shards listed by
/// `model.safetensors.index.json` (`weight_map`: tensor name -> shard file).
///
/// Opening reads only the headers (the data stays memory-mapped), so sizes and shapes are checked before any
/// weight is converted. `load(into:)` then copies each tensor, widened to Float32, straight into the
/// parameter of the same name: strict by name, every problem an error naming the file and the tensor.
public struct HFCheckpointWeights {
    /// Where one tensor lives.
    public struct Entry {
        public let file: SafeTensorsFile
        public let info: SafeTensorsTensorInfo
    }

    public static let singleFileName = "model.safetensors"
    public static let indexFileName = "model.safetensors.index.json"
    /// Buffers some checkpoints carry that are not parameters (recomputed from the config).
    public static let harmlessExtraSuffixes = ["rotary_emb.inv_freq"]

    /// The model directory.
    public let directory: URL
    /// The file to name when a tensor is missing: model.safetensors or the index.
    public let sourceName: String
    /// Every tensor by name.
    public let entries: [String: Entry]

    /// Finds and opens the weight files of `directory`.
    public init(directory: URL) throws {
        self.directory = directory
        let fm = FileManager.default
        let single = directory.appendingPathComponent(Self.singleFileName)
        let index = directory.appendingPathComponent(Self.indexFileName)
        var entries: [String: Entry] = [:]
        if fm.fileExists(atPath: single.path) {
            sourceName = single.path
            let file = try SafeTensorsFile(url: single)
            for info in file.tensorInfos { entries[info.name] = Entry(file: file, info: info) }
        } else if fm.fileExists(atPath: index.path) {
            sourceName = index.path
            let json = try ConfigJSON.read(index, purpose: "")
            guard let map = json.value("weight_map") else { throw json.missing("weight_map") }
            guard let weightMap = map as? [String: Any] else {
                throw json.wrongType("weight_map", expected: "an object of tensor name -> file name", found: map)
            }
            var files: [String: SafeTensorsFile] = [:]
            for (name, value) in weightMap.sorted(by: { $0.key < $1.key }) {
                let key = "weight_map.\(name)"
                guard let fileName = value as? String else {
                    throw HFCheckpointError(
                        file: index.path, key: key,
                        message: "\(key) should be a file name, found \(ConfigJSON.describe(value))")
                }
                guard !fileName.contains("/"), !fileName.hasPrefix(".") else {
                    throw HFCheckpointError(
                        file: index.path, key: key,
                        message: "\(key) is \"\(fileName)\"; shards must sit beside the index")
                }
                if files[fileName] == nil {
                    let url = directory.appendingPathComponent(fileName)
                    guard fm.fileExists(atPath: url.path) else {
                        throw HFCheckpointError(
                            file: url.path, key: nil,
                            message: "shard file not found (listed in \(Self.indexFileName) for '\(name)')")
                    }
                    files[fileName] = try SafeTensorsFile(url: url)
                }
                let file = files[fileName]!
                guard let info = file.info(named: name) else {
                    throw HFCheckpointError(
                        file: file.url.path, key: name,
                        message: "tensor '\(name)' is not in this shard (\(Self.indexFileName) says it is)")
                }
                entries[name] = Entry(file: file, info: info)
            }
        } else {
            throw HFCheckpointError(
                file: single.path, key: nil,
                message: "file not found (and no \(Self.indexFileName) for sharded weights either)")
        }
        self.entries = entries
    }

    private init(directory: URL, sourceName: String, entries: [String: Entry]) {
        self.directory = directory
        self.sourceName = sourceName
        self.entries = entries
    }

    /// The same tensors under other names: `names[new] = name in the files` (tensors not named are dropped).
    /// Loading and error messages read each tensor by its name in its file.
    public func renamed(_ names: [String: String]) -> HFCheckpointWeights {
        HFCheckpointWeights(
            directory: directory, sourceName: sourceName, entries: names.compactMapValues { entries[$0] })
    }

    /// Bytes the weights take once widened to Float32.
    public var float32ByteCount: UInt64 {
        entries.values.reduce(0) { $0 + UInt64($1.info.elementCount) * 4 }
    }

    /// Refuses a checkpoint whose Float32 weights do not fit in `limit` bytes (default: physical memory).
    public func checkFitsInMemory(limit: UInt64 = MemoryBudget.limit) throws {
        let needed = float32ByteCount
        guard needed <= limit else {
            func gb(_ b: UInt64) -> String { String(format: "%.2f GB", Double(b) / 1e9) }
            throw HFCheckpointError(
                file: sourceName, key: nil,
                message: "the weights need \(gb(needed)) as Float32 but the memory limit is \(gb(limit)) "
                    + "(physical memory); refusing to load")
        }
    }

    /// Copies every parameter of `module` from the tensor of the same name, widening F16/BF16 to Float32.
    ///
    /// Throws for a missing tensor, a shape or dtype mismatch, and a tensor that matches no parameter (except
    /// `harmlessExtraSuffixes` and the names in `ignoring`).
    public func load(into module: Module, ignoring ignored: Set<String> = []) throws {
        var used = Set<String>()
        for (name, parameter) in module.namedParameters() {
            guard let entry = entries[name] else {
                throw HFCheckpointError(
                    file: sourceName, key: name,
                    message: "tensor '\(name)' is missing (the model needs it, shape \(parameter.shape))")
            }
            used.insert(name)
            let info = entry.info
            guard info.shape == parameter.shape else {
                throw HFCheckpointError(
                    file: entry.file.url.path, key: name,
                    message: "tensor '\(name)' has shape \(info.shape), expected \(parameter.shape)")
            }
            guard [.float32, .float16, .bfloat16].contains(info.dtype) else {
                throw HFCheckpointError(
                    file: entry.file.url.path, key: name,
                    message: "tensor '\(name)' has dtype \(info.dtype.rawValue); supported: F32, F16, BF16")
            }
            let destination = parameter.data
            let dtype = info.dtype
            try entry.file.withRawBytes(ofTensorNamed: info.name) { bytes in
                guard let source = bytes.baseAddress else { return }
                Parallel.forRanges(info.elementCount, minimumPerChunk: 1 << 18) { range in
                    dtype.widen(
                        source + range.lowerBound * dtype.byteSize, count: range.count,
                        into: destination + range.lowerBound)
                }
            }
        }
        let extra = entries.keys.filter { name in
            !used.contains(name) && !ignored.contains(name)
                && !Self.harmlessExtraSuffixes.contains { name.hasSuffix($0) }
        }
        if let name = extra.sorted().first {
            throw HFCheckpointError(
                file: entries[name]!.file.url.path, key: name,
                message: "tensor '\(name)' matches no parameter of the model"
                    + (extra.count > 1 ? " (and \(extra.count - 1) more unexpected tensors)" : ""))
        }
    }
}
