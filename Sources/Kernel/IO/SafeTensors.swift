import Foundation

/// Writing safetensors files (reading is `SafeTensorsFile`).
///
/// The output is what the reference library writes for the same tensors: tensors sorted by name (byte
/// order of their UTF-8), laid out back to back, `__metadata__` keys sorted, compact JSON padded with spaces
/// so the data buffer starts at a multiple of 8 bytes. With one dtype per file every tensor then starts at a
/// multiple of its element size. The file is replaced atomically (`AtomicFile`): on any error the previous
/// file at `url` is untouched.
public enum SafeTensors {
    /// Writes `tensors` to `url` as `dtype` (F32, F16 or BF16; narrowing rounds to nearest even).
    ///
    /// Throws `SafeTensorsError` for a duplicate name, the reserved name `__metadata__` or an unwritable
    /// dtype (before touching the disk), and `FileIOError` when the file system fails.
    public static func write(
        _ tensors: [(String, Tensor)], metadata: [String: String] = [:],
        as dtype: SafeTensorsDType = .float32, to url: URL
    ) throws {
        let file = url.lastPathComponent
        guard dtype.isWritable else {
            throw SafeTensorsError(
                file: file,
                problem: .unsupportedDType(
                    dtype.rawValue, reason: "the writer stores F32, F16 or BF16"))
        }
        var seen = Set<String>()
        for (name, _) in tensors {
            if name == "__metadata__" {
                throw SafeTensorsError(
                    file: file, tensor: name,
                    problem: .invalidTensorName(
                        reason: "'__metadata__' is reserved for the metadata entry"))
            }
            if !seen.insert(name).inserted {
                throw SafeTensorsError(file: file, tensor: name, problem: .duplicateTensorName)
            }
        }
        let ordered = tensors.sorted { $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) }
        let header = headerBytes(ordered, metadata: metadata, dtype: dtype)

        try AtomicFile.write(to: url) { out in
            var length = UInt64(header.count).littleEndian
            try withUnsafeBytes(of: &length) { try out.write($0) }
            try out.write(header)
            for (_, tensor) in ordered { try writeData(of: tensor, as: dtype, to: out) }
        }
    }

    /// Writes `tensors` to `url` as `dtype`; see the array version.
    public static func write(
        _ tensors: [String: Tensor], metadata: [String: String] = [:],
        as dtype: SafeTensorsDType = .float32, to url: URL
    ) throws {
        try write(tensors.map { ($0.key, $0.value) }, metadata: metadata, as: dtype, to: url)
    }

    /// The JSON header for `ordered` tensors, padded with spaces to a multiple of 8 bytes.
    static func headerBytes(
        _ ordered: [(String, Tensor)], metadata: [String: String],
        dtype: SafeTensorsDType
    ) -> [UInt8] {
        var entries: [String] = []
        if !metadata.isEmpty {
            let pairs = metadata.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
                .map { JSONString.literal($0.key) + ":" + JSONString.literal($0.value) }
            entries.append("\"__metadata__\":{" + pairs.joined(separator: ",") + "}")
        }
        var offset = 0
        for (name, tensor) in ordered {
            let end = offset + tensor.count * dtype.byteSize
            let shape = tensor.shape.map(String.init).joined(separator: ",")
            entries.append(
                JSONString.literal(name) + ":{\"dtype\":\"\(dtype.rawValue)\",\"shape\":[\(shape)],"
                    + "\"data_offsets\":[\(offset),\(end)]}")
            offset = end
        }
        var bytes = Array(("{" + entries.joined(separator: ",") + "}").utf8)
        let padding = (8 - bytes.count % 8) % 8
        bytes.append(contentsOf: repeatElement(UInt8(ascii: " "), count: padding))
        return bytes
    }

    static func writeData(of tensor: Tensor, as dtype: SafeTensorsDType, to out: AtomicFile.Output) throws {
        let count = tensor.count
        let source = tensor.data
        #if _endian(little)
            if dtype == .float32 {
                try out.write(UnsafeRawBufferPointer(start: source, count: 4 * count))
                return
            }
        #endif
        let chunk = 1 << 16
        let scratch = UnsafeMutableRawPointer.allocate(byteCount: chunk * dtype.byteSize, alignment: 64)
        defer { scratch.deallocate() }
        var start = 0
        while start < count {
            let n = min(chunk, count - start)
            switch dtype {
            case .float16: Float16Conversion.narrowToFloat16(source + start, count: n, into: scratch)
            case .bfloat16: Float16Conversion.narrowToBFloat16(source + start, count: n, into: scratch)
            default:
                for i in 0..<n {
                    scratch.storeBytes(
                        of: source[start + i].bitPattern.littleEndian, toByteOffset: 4 * i, as: UInt32.self)
                }
            }
            try out.write(UnsafeRawBufferPointer(start: scratch, count: n * dtype.byteSize))
            start += n
        }
    }
}
