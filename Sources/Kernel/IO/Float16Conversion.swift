/// Exact conversions between Float32 and the 16-bit float formats stored in checkpoint files, on bit
/// patterns, independent of the platform's `Float16` support.
///
/// - IEEE half (F16): 1 sign, 5 exponent, 10 mantissa bits. Widening is exact for every pattern, subnormals,
///   infinities, signed zeros and NaN payloads included. Narrowing rounds to nearest, ties to even; values
///   beyond the largest half (65504) round to infinity; NaN stays NaN (quiet) with its sign.
/// - bfloat16 (BF16): the top 16 bits of a Float32. Widening is exact; narrowing rounds to nearest, ties to
///   even; NaN stays NaN (quiet) with its sign.
///
/// The buffer versions read and write little-endian values at any alignment, as found in files.
public enum Float16Conversion {
    // MARK: IEEE half

    /// The Float32 value of an IEEE half bit pattern (exact).
    @inline(__always)
    public static func float(fromFloat16Bits half: UInt16) -> Float {
        let shiftedExponent: UInt32 = 0x7C00 << 13
        var bits = UInt32(half & 0x7FFF) << 13
        let exponent = bits & shiftedExponent
        bits &+= (127 - 15) << 23  // rebias
        if exponent == shiftedExponent {
            bits &+= (128 - 16) << 23  // infinity or NaN: exponent all ones
        } else if exponent == 0 {
            // Zero or subnormal: m * 2^-24, computed exactly as (2^-14 + m * 2^-24) - 2^-14.
            bits &+= 1 << 23
            bits = (Float(bitPattern: bits) - Float(bitPattern: 113 << 23)).bitPattern
        }
        return Float(bitPattern: bits | (UInt32(half & 0x8000) << 16))
    }

    /// The IEEE half bit pattern nearest to `value` (ties to even).
    @inline(__always)
    public static func float16Bits(from value: Float) -> UInt16 {
        var bits = value.bitPattern
        let sign = UInt16(truncatingIfNeeded: (bits & 0x8000_0000) >> 16)
        bits &= 0x7FFF_FFFF
        let result: UInt16
        if bits >= (127 + 16) << 23 {
            // |value| >= 65536: infinity; or NaN, kept quiet with the top of its payload.
            result = bits > 0x7F80_0000 ? 0x7E00 | UInt16(truncatingIfNeeded: (bits >> 13) & 0x3FF) : 0x7C00
        } else if bits < 113 << 23 {
            // Below the smallest normal half: adding 0.5 (2^-1) makes the FPU round the mantissa to the
            // half's subnormal spacing 2^-24; the low bits of the sum are then the half's bits.
            let magic = Float(bitPattern: ((127 - 15) + (23 - 10) + 1) << 23)
            let sum = Float(bitPattern: bits) + magic
            result = UInt16(truncatingIfNeeded: sum.bitPattern &- magic.bitPattern)
        } else {
            // Normal range: rebias and round the 13 dropped mantissa bits to nearest even. A carry out of
            // the mantissa correctly bumps the exponent, up to infinity for values >= 65520.
            let mantissaOdd = (bits >> 13) & 1
            bits &+= (UInt32(bitPattern: 15 - 127) << 23) &+ 0xFFF
            bits &+= mantissaOdd
            result = UInt16(truncatingIfNeeded: bits >> 13)
        }
        return result | sign
    }

    // MARK: bfloat16

    /// The Float32 value of a bfloat16 bit pattern (exact).
    @inline(__always)
    public static func float(fromBFloat16Bits bfloat: UInt16) -> Float {
        Float(bitPattern: UInt32(bfloat) << 16)
    }

    /// The bfloat16 bit pattern nearest to `value` (ties to even).
    @inline(__always)
    public static func bfloat16Bits(from value: Float) -> UInt16 {
        let bits = value.bitPattern
        if value.isNaN { return UInt16(truncatingIfNeeded: bits >> 16) | 0x0040 }
        let rounding: UInt32 = 0x7FFF &+ ((bits >> 16) & 1)
        return UInt16(truncatingIfNeeded: (bits &+ rounding) >> 16)
    }

    // MARK: Buffers

    /// Widens `count` little-endian halves at `source` (any alignment) into `destination`.
    public static func widenFloat16(
        _ source: UnsafeRawPointer, count: Int, into destination: UnsafeMutablePointer<Float>
    ) {
        for i in 0..<count {
            let half = UInt16(littleEndian: source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
            destination[i] = float(fromFloat16Bits: half)
        }
    }

    /// Widens `count` little-endian bfloat16s at `source` (any alignment) into `destination`.
    public static func widenBFloat16(
        _ source: UnsafeRawPointer, count: Int, into destination: UnsafeMutablePointer<Float>
    ) {
        for i in 0..<count {
            let bfloat = UInt16(littleEndian: source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
            destination[i] = float(fromBFloat16Bits: bfloat)
        }
    }

    /// Narrows `count` floats to little-endian halves at `destination`.
    public static func narrowToFloat16(
        _ source: UnsafePointer<Float>, count: Int, into destination: UnsafeMutableRawPointer
    ) {
        for i in 0..<count {
            destination.storeBytes(of: float16Bits(from: source[i]).littleEndian, toByteOffset: 2 * i, as: UInt16.self)
        }
    }

    /// Narrows `count` floats to little-endian bfloat16s at `destination`.
    public static func narrowToBFloat16(
        _ source: UnsafePointer<Float>, count: Int, into destination: UnsafeMutableRawPointer
    ) {
        for i in 0..<count {
            destination.storeBytes(of: bfloat16Bits(from: source[i]).littleEndian, toByteOffset: 2 * i, as: UInt16.self)
        }
    }
}
