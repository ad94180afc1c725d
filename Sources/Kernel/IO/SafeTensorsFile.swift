import Foundation

/// A safetensors file opened for reading: its header is parsed and validated on open, the data stays in a
/// read-only memory map, and each tensor is converted to a Float32 `Tensor` (one copy) when asked for.
///
/// ```swift
/// let file = try SafeTensorsFile(url: url)
/// for info in file.tensorInfos { print(info.name, info.dtype, info.shape) }
/// let weight = try file.tensor(named: "lm_head.weight")
/// ```
///
/// Opening throws `FileIOError` when the file cannot be read and `SafeTensorsError` when its content
/// breaks the format; nothing in a file can crash the reader. The object is immutable after opening, so
/// several threads may read tensors from it at once.
public final class SafeTensorsFile {
    /// Where the file is.
    public let url: URL
    /// The `__metadata__` strings (empty when the file has none).
    public let metadata: [String: String]
    /// Every tensor, in the order of its bytes in the file.
    public let tensorInfos: [SafeTensorsTensorInfo]

    private let mapping: MappedFile
    private let dataStart: Int
    private let indexByName: [String: Int]

    /// Maps and validates the file at `url`.
    public convenience init(url: URL) throws {
        try self.init(mapping: try MappedFile(path: url.path), url: url)
    }

    /// Parses and validates safetensors bytes already in memory (copied); `url` only names them in errors.
    public convenience init(data: Data, url: URL = URL(fileURLWithPath: "<memory>")) throws {
        try self.init(mapping: MappedFile(copying: data), url: url)
    }

    private init(mapping: MappedFile, url: URL) throws {
        self.url = url
        self.mapping = mapping
        let header = try SafeTensorsHeader(bytes: mapping.bytes, fileSize: mapping.count, file: url.lastPathComponent)
        metadata = header.metadata
        tensorInfos = header.tensors
        dataStart = header.dataStart
        var index: [String: Int] = [:]
        for (i, info) in header.tensors.enumerated() { index[info.name] = i }
        indexByName = index
    }

    /// The tensor names, in file order.
    public var tensorNames: [String] { tensorInfos.map(\.name) }

    /// The header entry for `name`, or nil.
    public func info(named name: String) -> SafeTensorsTensorInfo? {
        indexByName[name].map { tensorInfos[$0] }
    }

    /// The tensor `name`, converted to Float32 (see `SafeTensorsDType` for the conversions), named `name`,
    /// not requiring gradients.
    public func tensor(named name: String) throws -> Tensor {
        let info = try requireInfo(name)
        guard info.dtype.isReadableAsFloat32 else {
            throw SafeTensorsError(
                file: url.lastPathComponent, tensor: name,
                problem: .unsupportedDType(info.dtype.rawValue, reason: "no conversion to Float32"))
        }
        let result = Tensor(zeros: info.shape)
        result.name = name
        guard info.elementCount > 0, let base = mapping.bytes else { return result }
        let source = base + dataStart + info.dataOffsets.lowerBound
        let destination = result.data
        let dtype = info.dtype
        let size = dtype.byteSize
        Parallel.forRanges(info.elementCount, minimumPerChunk: 1 << 18) { range in
            dtype.widen(source + range.lowerBound * size, count: range.count, into: destination + range.lowerBound)
        }
        return result
    }

    /// Every tensor, in file order, converted to Float32.
    public func tensors() throws -> [(name: String, tensor: Tensor)] {
        try tensorInfos.map { ($0.name, try tensor(named: $0.name)) }
    }

    /// Bytes every tensor takes once converted to Float32 (what `tensors()` allocates), from the header alone.
    public var float32ByteCount: UInt64 {
        tensorInfos.reduce(0) { $0 + UInt64($1.elementCount) * 4 }
    }

    /// Every tensor by name, converted to Float32.
    public func tensorsByName() throws -> [String: Tensor] {
        var result: [String: Tensor] = [:]
        for info in tensorInfos { result[info.name] = try tensor(named: info.name) }
        return result
    }

    /// Calls `body` with the raw little-endian bytes of tensor `name`, valid only during the call.
    public func withRawBytes<Result>(
        ofTensorNamed name: String,
        _ body: (UnsafeRawBufferPointer) throws -> Result
    ) throws -> Result {
        let info = try requireInfo(name)
        let start = mapping.bytes.map { $0 + dataStart + info.dataOffsets.lowerBound }
        return try withExtendedLifetime(mapping) {
            try body(UnsafeRawBufferPointer(start: info.byteCount > 0 ? start : nil, count: info.byteCount))
        }
    }

    private func requireInfo(_ name: String) throws -> SafeTensorsTensorInfo {
        guard let info = info(named: name) else {
            throw SafeTensorsError(
                file: url.lastPathComponent, tensor: name,
                problem: .tensorNotFound(available: tensorInfos.count))
        }
        return info
    }
}
