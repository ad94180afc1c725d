/// Where one tensor lives in a safetensors file and what it holds, as declared by the header.
public struct SafeTensorsTensorInfo: Equatable, Sendable {
    public let name: String
    public let dtype: SafeTensorsDType
    /// The dimensions, outermost first; `[]` for a scalar.
    public let shape: [Int]
    /// The byte range in the data buffer (the bytes after the header), as `data_offsets` [begin, end).
    public let dataOffsets: Range<Int>
    /// The product of `shape` (1 for a scalar).
    public let elementCount: Int

    public var byteCount: Int { dataOffsets.count }
}

/// The parsed and fully validated header of a safetensors file.
///
/// Layout: an 8-byte little-endian header length N, N bytes of UTF-8 JSON, then the data buffer. The JSON
/// maps each tensor name to `{"dtype", "shape", "data_offsets"}` and may hold `"__metadata__"`, an object
/// of strings. Valid means: every entry well-typed, sizes consistent, and the tensors tile the data buffer
/// exactly (no overlaps, no holes), as the format specification requires.
struct SafeTensorsHeader {
    /// Larger headers are refused before anything is read (the reference implementation's limit).
    static let maximumLength = 100_000_000

    let metadata: [String: String]
    /// Sorted by position in the data buffer.
    let tensors: [SafeTensorsTensorInfo]
    /// Where the data buffer starts in the file: 8 + N.
    let dataStart: Int

    /// Parses and validates the header of the `fileSize` bytes at `bytes`. `file` names the file in errors.
    init(bytes: UnsafeRawPointer?, fileSize: Int, file: String) throws {
        func fail(_ problem: SafeTensorsError.Problem, tensor: String? = nil) -> SafeTensorsError {
            SafeTensorsError(file: file, tensor: tensor, problem: problem)
        }
        guard fileSize >= 8, let bytes else { throw fail(.fileTooShort(byteCount: fileSize)) }
        let headerLength = UInt64(littleEndian: bytes.loadUnaligned(as: UInt64.self))
        guard headerLength <= UInt64(Self.maximumLength) else {
            throw fail(.headerTooLarge(headerLength: headerLength, limit: Self.maximumLength))
        }
        guard headerLength <= UInt64(fileSize - 8) else {
            throw fail(.headerPastEndOfFile(headerLength: headerLength, fileSize: fileSize))
        }
        let length = Int(headerLength)
        dataStart = 8 + length
        let bufferSize = fileSize - dataStart

        let headerBytes = UnsafeRawBufferPointer(start: bytes + 8, count: length)
        guard Self.isValidUTF8(headerBytes.bindMemory(to: UInt8.self)) else {
            throw fail(.headerNotUTF8)
        }
        let root: SafeTensorsJSON.Value
        do {
            root = try SafeTensorsJSON.parse(headerBytes)
        } catch let error as SafeTensorsJSON.SyntaxError {
            throw fail(.malformedJSON(detail: error.description))
        }
        guard case .object(let entries) = root else { throw fail(.headerNotObject(found: root.summary)) }

        var metadata: [String: String] = [:]
        var tensors: [SafeTensorsTensorInfo] = []
        for (key, value) in entries {
            if key == "__metadata__" {
                metadata = try Self.parseMetadata(value, fail: fail)
            } else {
                tensors.append(try Self.parseEntry(name: key, value, bufferSize: bufferSize, fail: fail))
            }
        }
        tensors.sort {
            ($0.dataOffsets.lowerBound, $0.dataOffsets.upperBound) < (
                $1.dataOffsets.lowerBound, $1.dataOffsets.upperBound
            )
        }
        try Self.checkTiling(tensors, bufferSize: bufferSize, fail: fail)
        self.metadata = metadata
        self.tensors = tensors
    }

    /// Whether `bytes` is well-formed UTF-8 (works on every platform the package supports).
    private static func isValidUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = bytes.makeIterator()
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid: continue
            case .emptyInput: return true
            case .error: return false
            }
        }
    }

    private typealias Fail = (SafeTensorsError.Problem, String?) -> SafeTensorsError

    private static func parseMetadata(_ value: SafeTensorsJSON.Value, fail: Fail) throws -> [String: String] {
        if case .null = value { return [:] }
        guard case .object(let pairs) = value else { throw fail(.metadataNotObject(found: value.summary), nil) }
        var metadata: [String: String] = [:]
        for (key, item) in pairs {
            guard case .string(let text) = item else {
                throw fail(.metadataValueNotString(key: key, found: item.summary), nil)
            }
            metadata[key] = text
        }
        return metadata
    }

    private static func parseEntry(
        name: String, _ value: SafeTensorsJSON.Value, bufferSize: Int,
        fail: Fail
    ) throws -> SafeTensorsTensorInfo {
        func problem(_ p: SafeTensorsError.Problem) -> SafeTensorsError { fail(p, name) }
        guard case .object(let pairs) = value else { throw problem(.entryNotObject(found: value.summary)) }
        func field(_ key: String) throws -> SafeTensorsJSON.Value {
            guard let found = pairs.first(where: { $0.key == key }) else { throw problem(.missingField(key)) }
            return found.value
        }
        func nonNegativeIntegers(_ key: String, _ value: SafeTensorsJSON.Value, expected: String) throws -> [Int] {
            guard case .array(let items) = value else {
                throw problem(.wrongFieldType(field: key, expected: expected, found: value.summary))
            }
            return try items.enumerated().map { index, item in
                guard let n = item.integer, n >= 0 else {
                    throw problem(.notANonNegativeInteger(field: "\(key)[\(index)]", found: item.summary))
                }
                return n
            }
        }

        // dtype
        let dtypeValue = try field("dtype")
        guard case .string(let dtypeName) = dtypeValue else {
            throw problem(.wrongFieldType(field: "dtype", expected: "a string", found: dtypeValue.summary))
        }
        guard let dtype = SafeTensorsDType(rawValue: dtypeName) else { throw problem(.unknownDType(dtypeName)) }

        // shape, and the byte count it needs
        let shape = try nonNegativeIntegers("shape", try field("shape"), expected: "an array of integers")
        // Left to right, as `Tensor.elementCount` does, so a shape accepted here never traps there (the
        // reference reader also refuses [2^32, 2^32, 0]).
        var elementCount = 1
        for dimension in shape {
            let (product, overflow) = elementCount.multipliedReportingOverflow(by: dimension)
            if overflow { throw problem(.sizeOverflow(shape: shape, dtype: dtypeName)) }
            elementCount = product
        }
        let (needed, overflow) = elementCount.multipliedReportingOverflow(by: dtype.byteSize)
        if overflow { throw problem(.sizeOverflow(shape: shape, dtype: dtypeName)) }

        // data_offsets
        let offsetsValue = try field("data_offsets")
        let offsets = try nonNegativeIntegers("data_offsets", offsetsValue, expected: "an array [begin, end]")
        guard offsets.count == 2 else {
            throw problem(
                .wrongFieldType(
                    field: "data_offsets", expected: "an array [begin, end]",
                    found: offsetsValue.summary))
        }
        let (begin, end) = (offsets[0], offsets[1])
        guard begin <= end else { throw problem(.offsetsReversed(begin: begin, end: end)) }
        guard end <= bufferSize else {
            throw problem(.offsetsOutOfRange(begin: begin, end: end, bufferSize: bufferSize))
        }
        guard end - begin == needed else {
            throw problem(.byteCountMismatch(begin: begin, end: end, shape: shape, dtype: dtypeName, needed: needed))
        }
        return SafeTensorsTensorInfo(
            name: name, dtype: dtype, shape: shape, dataOffsets: begin..<end,
            elementCount: elementCount)
    }

    /// The tensors, sorted by offset, must cover [0, bufferSize) exactly once.
    private static func checkTiling(_ tensors: [SafeTensorsTensorInfo], bufferSize: Int, fail: Fail) throws {
        var covered = 0
        var previous: SafeTensorsTensorInfo?
        for info in tensors {
            let range = info.dataOffsets
            if range.lowerBound > covered {
                throw fail(.uncoveredBytes(begin: covered, end: range.lowerBound), nil)
            }
            if range.lowerBound < covered, let previous {
                throw fail(
                    .overlap(
                        begin: range.lowerBound, end: range.upperBound, other: previous.name,
                        otherBegin: previous.dataOffsets.lowerBound,
                        otherEnd: previous.dataOffsets.upperBound), info.name)
            }
            covered = range.upperBound
            previous = info
        }
        if covered < bufferSize { throw fail(.uncoveredBytes(begin: covered, end: bufferSize), nil) }
    }
}
