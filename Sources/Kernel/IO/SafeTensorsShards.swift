import Foundation

/// One tensor to write with `SafeTensors.write(entries:)`: its header fields and where its bytes come from.
public struct SafeTensorsEntry {
    /// Where the bytes of a tensor come from.
    public enum Source {
        /// A Float32 tensor, narrowed to the entry's dtype (round to nearest even) while writing.
        case tensor(Tensor)
        /// Little-endian bytes already in the entry's dtype (e.g. a tensor of an input file, copied bit for bit),
        /// handed to the closure's callback while writing.
        case bytes(count: Int, write: (_ sink: (UnsafeRawBufferPointer) throws -> Void) throws -> Void)
    }

    public var name: String
    public var dtype: SafeTensorsDType
    public var shape: [Int]
    public var source: Source

    public init(name: String, dtype: SafeTensorsDType, shape: [Int], source: Source) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.source = source
    }

    /// A Float32 tensor written as `dtype`.
    public init(name: String, tensor: Tensor, dtype: SafeTensorsDType) {
        self.init(name: name, dtype: dtype, shape: tensor.shape, source: .tensor(tensor))
    }

    /// The tensor `name` of an open file, its bytes copied unchanged (its own dtype).
    public init(copying name: String, from file: SafeTensorsFile) throws {
        guard let info = file.info(named: name) else {
            throw SafeTensorsError(
                file: file.url.lastPathComponent, tensor: name,
                problem: .tensorNotFound(available: file.tensorInfos.count))
        }
        self.init(
            name: name, dtype: info.dtype, shape: info.shape,
            source: .bytes(count: info.byteCount) { sink in
                try file.withRawBytes(ofTensorNamed: name) { try sink($0) }
            })
    }

    /// Bytes of the data.
    public var byteCount: Int {
        switch source {
        case .tensor(let t): return t.count * dtype.byteSize
        case .bytes(let count, _): return count
        }
    }
}

/// How `SafeTensors.writeSharded` split the tensors: Hugging Face's `model.safetensors.index.json` layout.
public struct SafeTensorsShardIndex: Sendable, Equatable {
    /// The shard file names in order (one `model.safetensors` when everything fits in one shard).
    public var files: [String]
    /// Tensor name -> shard file name.
    public var weightMap: [String: String]
    /// Bytes of tensor data in all shards (the index's `metadata.total_size`).
    public var totalSize: Int
}

extension SafeTensors {
    /// Hugging Face's default shard limit (`max_shard_size="5GB"`, decimal gigabytes).
    public static let defaultMaxShardBytes = 5_000_000_000

    /// Writes `entries` to `url` (atomically), each in its own dtype. Tensors are ordered by element size
    /// (largest first, so every tensor starts at a multiple of its element size) then by name, as the reference
    /// library does; with one dtype that is name order, the same file `write(_:metadata:as:to:)` makes.
    public static func write(entries: [SafeTensorsEntry], metadata: [String: String] = [:], to url: URL) throws {
        let file = url.lastPathComponent
        var seen = Set<String>()
        for entry in entries {
            guard entry.dtype.isWritable || { if case .bytes = entry.source { return true } else { return false } }()
            else {
                throw SafeTensorsError(
                    file: file,
                    problem: .unsupportedDType(
                        entry.dtype.rawValue, reason: "the writer narrows Float32 to F32, F16 or BF16 only"))
            }
            if entry.name == "__metadata__" {
                throw SafeTensorsError(
                    file: file, tensor: entry.name,
                    problem: .invalidTensorName(
                        reason: "'__metadata__' is reserved for the metadata entry"))
            }
            if !seen.insert(entry.name).inserted {
                throw SafeTensorsError(file: file, tensor: entry.name, problem: .duplicateTensorName)
            }
            let elements = entry.shape.reduce(1, *)
            guard entry.shape.allSatisfy({ $0 >= 0 }), elements * entry.dtype.byteSize == entry.byteCount else {
                throw SafeTensorsError(
                    file: file, tensor: entry.name,
                    problem: .byteCountMismatch(
                        begin: 0, end: entry.byteCount, shape: entry.shape, dtype: entry.dtype.rawValue,
                        needed: elements * entry.dtype.byteSize))
            }
        }
        let ordered = entries.sorted {
            $0.dtype.byteSize != $1.dtype.byteSize
                ? $0.dtype.byteSize > $1.dtype.byteSize : $0.name.utf8.lexicographicallyPrecedes($1.name.utf8)
        }
        var header: [String] = []
        if !metadata.isEmpty {
            let pairs = metadata.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
                .map { JSONString.literal($0.key) + ":" + JSONString.literal($0.value) }
            header.append("\"__metadata__\":{" + pairs.joined(separator: ",") + "}")
        }
        var offset = 0
        for entry in ordered {
            let end = offset + entry.byteCount
            header.append(
                JSONString.literal(entry.name) + ":{\"dtype\":\"\(entry.dtype.rawValue)\",\"shape\":["
                    + entry.shape.map(String.init).joined(separator: ",") + "],\"data_offsets\":[\(offset),\(end)]}")
            offset = end
        }
        var bytes = Array(("{" + header.joined(separator: ",") + "}").utf8)
        bytes.append(contentsOf: repeatElement(UInt8(ascii: " "), count: (8 - bytes.count % 8) % 8))
        try AtomicFile.write(to: url) { out in
            var length = UInt64(bytes.count).littleEndian
            try withUnsafeBytes(of: &length) { try out.write($0) }
            try out.write(bytes)
            for entry in ordered {
                switch entry.source {
                case .tensor(let tensor): try writeData(of: tensor, as: entry.dtype, to: out)
                case .bytes(_, let write): try write { try out.write($0) }
                }
            }
        }
    }

    /// Splits `entries` (in the given order) into shards the way Hugging Face does
    /// (`split_torch_state_dict_into_shards`): a tensor goes to the current shard unless that would take it past
    /// `maxShardBytes`, in which case a new shard starts; a tensor larger than the limit gets a shard of its own.
    /// Returns the groups of entry indices.
    public static func shardPlan(byteCounts: [Int], maxShardBytes: Int) -> [[Int]] {
        var shards: [[Int]] = []
        var current: [Int] = []
        var size = 0
        for (i, bytes) in byteCounts.enumerated() {
            if bytes > maxShardBytes {
                shards.append([i])
                continue
            }
            if !current.isEmpty && size + bytes > maxShardBytes {
                shards.append(current)
                current = []
                size = 0
            }
            current.append(i)
            size += bytes
        }
        if !current.isEmpty || shards.isEmpty { shards.append(current) }
        return shards
    }

    /// Writes `entries` into `directory` as Hugging Face does: one `<base>.safetensors` when they fit in
    /// `maxShardBytes`, else shards `<base>-00001-of-0000N.safetensors` and `<base>.safetensors.index.json`
    /// (`{"metadata": {"total_size": bytes}, "weight_map": {name: shard}}`), the index written last. Every file
    /// is written atomically; each shard carries `metadata`.
    @discardableResult
    public static func writeSharded(
        entries: [SafeTensorsEntry], metadata: [String: String] = [:], to directory: URL,
        baseName: String = "model", maxShardBytes: Int = defaultMaxShardBytes
    ) throws -> SafeTensorsShardIndex {
        precondition(maxShardBytes > 0, "SafeTensors.writeSharded: maxShardBytes must be > 0")
        let plan = shardPlan(byteCounts: entries.map(\.byteCount), maxShardBytes: maxShardBytes)
        let total = entries.reduce(0) { $0 + $1.byteCount }
        if plan.count == 1 {
            let name = baseName + ".safetensors"
            try write(entries: entries, metadata: metadata, to: directory.appendingPathComponent(name))
            return SafeTensorsShardIndex(
                files: [name], weightMap: Dictionary(uniqueKeysWithValues: entries.map { ($0.name, name) }),
                totalSize: total)
        }
        func pad(_ n: Int) -> String { String(repeating: "0", count: max(0, 5 - String(n).count)) + String(n) }
        var files: [String] = []
        var map: [String: String] = [:]
        for (k, group) in plan.enumerated() {
            let name = "\(baseName)-\(pad(k + 1))-of-\(pad(plan.count)).safetensors"
            try write(
                entries: group.map { entries[$0] }, metadata: metadata, to: directory.appendingPathComponent(name))
            files.append(name)
            for i in group { map[entries[i].name] = name }
        }
        let index: [String: Any] = ["metadata": ["total_size": total], "weight_map": map]
        let json = try JSONSerialization.data(
            withJSONObject: index, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        try AtomicFile.write(
            json + Data("\n".utf8), to: directory.appendingPathComponent(baseName + ".safetensors.index.json"))
        return SafeTensorsShardIndex(files: files, weightMap: map, totalSize: total)
    }
}
