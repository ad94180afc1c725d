/// The element types a safetensors header may name, spelled as in the file (`"F32"`, `"BF16"`, ...).
///
/// Every byte-sized type of the format is recognised, so any well-formed file can be opened and listed.
/// `SafeTensorsFile.tensor(named:)` converts all of them to Float32 except the 8-bit float formats;
/// `SafeTensors.write` writes F32, F16 and BF16.
public enum SafeTensorsDType: String, CaseIterable, Sendable {
    case bool = "BOOL"
    case uint8 = "U8"
    case int8 = "I8"
    case float8E5M2 = "F8_E5M2"
    case float8E4M3 = "F8_E4M3"
    case int16 = "I16"
    case uint16 = "U16"
    case float16 = "F16"
    case bfloat16 = "BF16"
    case int32 = "I32"
    case uint32 = "U32"
    case float32 = "F32"
    case float64 = "F64"
    case int64 = "I64"
    case uint64 = "U64"

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .bool, .uint8, .int8, .float8E5M2, .float8E4M3: return 1
        case .int16, .uint16, .float16, .bfloat16: return 2
        case .int32, .uint32, .float32: return 4
        case .float64, .int64, .uint64: return 8
        }
    }

    /// Whether `SafeTensorsFile.tensor(named:)` can convert this type to Float32.
    public var isReadableAsFloat32: Bool {
        switch self {
        case .float8E5M2, .float8E4M3: return false
        default: return true
        }
    }

    /// Whether `SafeTensors.write` can store Float32 tensors as this type.
    public var isWritable: Bool {
        switch self {
        case .float32, .float16, .bfloat16: return true
        default: return false
        }
    }

    /// Converts `count` little-endian elements of this type at `source` (any alignment) to Float32 in
    /// `destination`. Integers and Float64 round to the nearest Float32; BOOL gives 0 or 1.
    /// Precondition: `isReadableAsFloat32`.
    public func widen(_ source: UnsafeRawPointer, count: Int, into destination: UnsafeMutablePointer<Float>) {
        switch self {
        case .float32:
            #if _endian(little)
                UnsafeMutableRawPointer(destination).copyMemory(from: source, byteCount: 4 * count)
            #else
                for i in 0..<count {
                    destination[i] = Float(
                        bitPattern: UInt32(littleEndian: source.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
                }
            #endif
        case .float16: Float16Conversion.widenFloat16(source, count: count, into: destination)
        case .bfloat16: Float16Conversion.widenBFloat16(source, count: count, into: destination)
        case .float64:
            for i in 0..<count {
                destination[i] = Float(
                    Double(
                        bitPattern: UInt64(littleEndian: source.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))))
            }
        case .int64: widenInteger(source, Int64.self, count, destination)
        case .uint64: widenInteger(source, UInt64.self, count, destination)
        case .int32: widenInteger(source, Int32.self, count, destination)
        case .uint32: widenInteger(source, UInt32.self, count, destination)
        case .int16: widenInteger(source, Int16.self, count, destination)
        case .uint16: widenInteger(source, UInt16.self, count, destination)
        case .int8: widenInteger(source, Int8.self, count, destination)
        case .uint8: widenInteger(source, UInt8.self, count, destination)
        case .bool:
            for i in 0..<count { destination[i] = source.load(fromByteOffset: i, as: UInt8.self) != 0 ? 1 : 0 }
        case .float8E5M2, .float8E4M3:
            preconditionFailure("SafeTensorsDType.widen: \(rawValue) has no Float32 conversion")
        }
    }

    private func widenInteger<I: FixedWidthInteger>(
        _ source: UnsafeRawPointer, _ type: I.Type, _ count: Int,
        _ destination: UnsafeMutablePointer<Float>
    ) {
        let size = MemoryLayout<I>.size
        for i in 0..<count {
            destination[i] = Float(I(littleEndian: source.loadUnaligned(fromByteOffset: size * i, as: I.self)))
        }
    }
}
