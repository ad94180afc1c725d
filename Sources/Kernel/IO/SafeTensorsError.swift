/// A problem with the content of a safetensors file (or with tensors handed to the writer), naming the
/// file, the tensor when there is one, and what was expected.
///
/// Its description reads like
/// `model.safetensors: tensor 'lm_head.weight': data_offsets [0, 100] hold 100 bytes, but shape [4, 8] of F32 needs 128`.
/// Operating-system failures (cannot open, cannot write) are `FileIOError`s instead.
public struct SafeTensorsError: Error, CustomStringConvertible, Equatable, Sendable {
    /// What is wrong. Offsets are relative to the start of the data buffer, as in the header.
    public enum Problem: Equatable, Sendable {
        /// The file cannot even hold the 8-byte header length.
        case fileTooShort(byteCount: Int)
        /// The header length is beyond any sane header; refused before reading it.
        case headerTooLarge(headerLength: UInt64, limit: Int)
        /// The header length points past the end of the file.
        case headerPastEndOfFile(headerLength: UInt64, fileSize: Int)
        /// The header bytes are not valid UTF-8.
        case headerNotUTF8
        /// The header is not valid JSON; `detail` says where and why.
        case malformedJSON(detail: String)
        /// The header is valid JSON but not an object.
        case headerNotObject(found: String)
        /// `__metadata__` is not an object.
        case metadataNotObject(found: String)
        /// A `__metadata__` value is not a string.
        case metadataValueNotString(key: String, found: String)
        /// A tensor entry is not an object.
        case entryNotObject(found: String)
        /// A tensor entry lacks `dtype`, `shape` or `data_offsets`.
        case missingField(String)
        /// A tensor entry field has the wrong JSON type.
        case wrongFieldType(field: String, expected: String, found: String)
        /// A shape dimension or offset is not a non-negative integer that fits in an Int.
        case notANonNegativeInteger(field: String, found: String)
        /// `dtype` names no known element type.
        case unknownDType(String)
        /// The element or byte count of `shape` does not fit in an Int.
        case sizeOverflow(shape: [Int], dtype: String)
        /// `data_offsets` has begin after end.
        case offsetsReversed(begin: Int, end: Int)
        /// `data_offsets` reaches past the data buffer.
        case offsetsOutOfRange(begin: Int, end: Int, bufferSize: Int)
        /// `data_offsets` span a different number of bytes than `shape` and `dtype` need.
        case byteCountMismatch(begin: Int, end: Int, shape: [Int], dtype: String, needed: Int)
        /// Two tensors claim the same bytes.
        case overlap(begin: Int, end: Int, other: String, otherBegin: Int, otherEnd: Int)
        /// Bytes of the data buffer that belong to no tensor (the format forbids holes).
        case uncoveredBytes(begin: Int, end: Int)
        /// No tensor has the requested name.
        case tensorNotFound(available: Int)
        /// The element type has no conversion to (reading) or from (writing) Float32 here.
        case unsupportedDType(String, reason: String)
        /// A tensor name the format cannot store (for the writer).
        case invalidTensorName(reason: String)
        /// Two tensors share a name (for the writer).
        case duplicateTensorName
    }

    /// The file's name (its last path component), as users know it.
    public let file: String
    /// The tensor the problem is about, if any.
    public let tensor: String?
    public let problem: Problem

    public init(file: String, tensor: String? = nil, problem: Problem) {
        self.file = file
        self.tensor = tensor
        self.problem = problem
    }

    public var description: String {
        let subject = tensor.map { "\(file): tensor '\($0)': " } ?? "\(file): "
        return subject + Self.explain(problem)
    }

    private static func explain(_ problem: Problem) -> String {
        func list(_ values: [Int]) -> String { "[" + values.map(String.init).joined(separator: ", ") + "]" }
        switch problem {
        case .fileTooShort(let n):
            return "file has \(n) bytes, but a safetensors file starts with an 8-byte header length"
        case .headerTooLarge(let length, let limit):
            return
                "header length \(length) bytes exceeds the limit of \(limit) bytes (not a safetensors file, or corrupt)"
        case .headerPastEndOfFile(let length, let size):
            return
                "header length \(length) bytes reaches past the end of the file (\(size) bytes, 8 of them the length)"
        case .headerNotUTF8:
            return "header is not valid UTF-8"
        case .malformedJSON(let detail):
            return "header is not valid JSON: \(detail)"
        case .headerNotObject(let found):
            return "header must be a JSON object, found \(found)"
        case .metadataNotObject(let found):
            return "__metadata__ must be an object of strings, found \(found)"
        case .metadataValueNotString(let key, let found):
            return "__metadata__ value for '\(key)' must be a string, found \(found)"
        case .entryNotObject(let found):
            return "entry must be an object with dtype, shape and data_offsets, found \(found)"
        case .missingField(let field):
            return "entry has no '\(field)' (expected dtype, shape and data_offsets)"
        case .wrongFieldType(let field, let expected, let found):
            return "'\(field)' must be \(expected), found \(found)"
        case .notANonNegativeInteger(let field, let found):
            return "\(field) must be a non-negative integer below 2^63, found \(found)"
        case .unknownDType(let name):
            let known = SafeTensorsDType.allCases.map(\.rawValue).joined(separator: ", ")
            return "unknown dtype '\(name)' (expected one of \(known))"
        case .sizeOverflow(let shape, let dtype):
            return "shape \(list(shape)) of \(dtype) is too large to address"
        case .offsetsReversed(let begin, let end):
            return "data_offsets [\(begin), \(end)] begin after they end"
        case .offsetsOutOfRange(let begin, let end, let size):
            return "data_offsets [\(begin), \(end)] reach past the end of the data buffer (\(size) bytes)"
        case .byteCountMismatch(let begin, let end, let shape, let dtype, let needed):
            return
                "data_offsets [\(begin), \(end)] hold \(end - begin) bytes, but shape \(list(shape)) of \(dtype) needs \(needed)"
        case .overlap(let begin, let end, let other, let otherBegin, let otherEnd):
            return "data_offsets [\(begin), \(end)] overlap tensor '\(other)' at [\(otherBegin), \(otherEnd)]"
        case .uncoveredBytes(let begin, let end):
            return "data buffer bytes [\(begin), \(end)) belong to no tensor (the format allows no holes)"
        case .tensorNotFound(let available):
            return "no such tensor (the file has \(available) tensor\(available == 1 ? "" : "s"))"
        case .unsupportedDType(let dtype, let reason):
            return "dtype \(dtype) is not supported: \(reason)"
        case .invalidTensorName(let reason):
            return "invalid tensor name: \(reason)"
        case .duplicateTensorName:
            return "more than one tensor has this name"
        }
    }
}
