import Foundation
import Kernel
import XCTest

/// The half and bfloat16 conversions against independent references: the platform's `Float16` (compiler-rt
/// or hardware), exhaustively where possible, and a nearest-candidate search in Double for bfloat16.
final class Float16ConversionTests: XCTestCase {
    func testHalfWideningIsExactForEveryBitPattern() {
        for bits in 0...UInt16.max {
            let ours = Float16Conversion.float(fromFloat16Bits: bits)
            let reference = Self.referenceHalfToFloat(bits)
            XCTAssertTrue(sameFloat(ours, reference), "half \(String(bits, radix: 16)): \(ours) vs \(reference)")
            if bits & 0x7C00 == 0x7C00 && bits & 0x3FF != 0 {
                XCTAssertTrue(ours.isNaN && (ours.sign == .minus) == (bits & 0x8000 != 0))
            } else {
                // Every non-NaN half survives the trip back unchanged.
                XCTAssertEqual(Float16Conversion.float16Bits(from: ours), bits)
            }
        }
        XCTAssertEqual(Float16Conversion.float(fromFloat16Bits: 0x0001), 5.9604645e-8)  // smallest subnormal
        XCTAssertEqual(Float16Conversion.float(fromFloat16Bits: 0x03FF), 6.097555e-5)  // largest subnormal
        XCTAssertEqual(Float16Conversion.float(fromFloat16Bits: 0x7BFF), 65504)
        XCTAssertEqual(Float16Conversion.float(fromFloat16Bits: 0x8000).bitPattern, (-0.0 as Float).bitPattern)
        XCTAssertEqual(Float16Conversion.float(fromFloat16Bits: 0xFC00), -.infinity)
    }

    func testHalfNarrowingRoundsToNearestEven() {
        let cases: [(Float, UInt16)] = [
            (1 + 0x1p-11, 0x3C00), (1 + 3 * 0x1p-11, 0x3C02),  // ties to even
            (65519, 0x7BFF), (65520, 0x7C00), (1e10, 0x7C00), (-1e10, 0xFC00),
            (0x1p-25, 0x0000), (0x1.000002p-25, 0x0001), (3 * 0x1p-26, 0x0001), (0x1p-24 * 1.5, 0x0002),
            (-0.0, 0x8000), (.nan, 0x7E00), (.infinity, 0x7C00), (0x1.ffcp-15, 0x0400),
        ]
        for (value, bits) in cases {
            XCTAssertEqual(Float16Conversion.float16Bits(from: value), bits, "\(value)")
        }
        var state: UInt64 = 12345
        for _ in 0..<300_000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let value = Float(bitPattern: UInt32(truncatingIfNeeded: state >> 32))
            let ours = Float16Conversion.float16Bits(from: value)
            let reference = Self.referenceFloatToHalf(value)
            if value.isNaN {
                XCTAssertTrue(ours & 0x7C00 == 0x7C00 && ours & 0x3FF != 0, "NaN stays NaN")
            } else if ours != reference {
                XCTFail(
                    "\(value) (\(String(value.bitPattern, radix: 16))): ours \(String(ours, radix: 16)), reference \(String(reference, radix: 16))"
                )
                return
            }
        }
    }

    func testBFloat16NarrowingRoundsToNearestEven() {
        XCTAssertEqual(Float16Conversion.bfloat16Bits(from: 1 + 0x1p-8), 0x3F80)
        XCTAssertEqual(Float16Conversion.bfloat16Bits(from: 1 + 3 * 0x1p-8), 0x3F82)
        XCTAssertEqual(Float16Conversion.bfloat16Bits(from: .greatestFiniteMagnitude), 0x7F80)
        XCTAssertEqual(Float16Conversion.bfloat16Bits(from: -.greatestFiniteMagnitude), 0xFF80)
        XCTAssertEqual(
            Float16Conversion.bfloat16Bits(from: Float(bitPattern: 0x7F80_0001)), 0x7FC0, "signalling NaN made quiet")
        XCTAssertEqual(Float16Conversion.bfloat16Bits(from: -.nan), 0xFFC0)
        var state: UInt64 = 777
        for _ in 0..<300_000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let value = Float(bitPattern: UInt32(truncatingIfNeeded: state >> 32))
            guard !value.isNaN else { continue }
            let ours = Float16Conversion.bfloat16Bits(from: value)
            let widened = Float16Conversion.float(fromBFloat16Bits: ours)
            XCTAssertEqual(widened.bitPattern >> 16, UInt32(ours))
            // Nearest of the two bfloat16 neighbours, by exact distance in Double; ties to the even one.
            let down = UInt16(value.bitPattern >> 16)
            let up = down &+ 1
            let dDown = abs(Double(value) - Double(Float16Conversion.float(fromBFloat16Bits: down)))
            // Past the largest finite bfloat16 the next "neighbour" is 2^128 (rounding there gives infinity).
            let upValue = Float16Conversion.float(fromBFloat16Bits: up)
            let upMagnitude = upValue.isInfinite ? 0x1p128 : Double(upValue.magnitude)
            let dUp = upValue.isNaN ? Double.infinity : abs(Double(value.magnitude) - upMagnitude)
            let expected: UInt16
            if value.bitPattern & 0xFFFF == 0 {
                expected = down
            } else if dDown < dUp {
                expected = down
            } else if dUp < dDown {
                expected = up
            } else {
                expected = down & 1 == 0 ? down : up
            }
            XCTAssertEqual(
                ours, expected, "\(value): ours \(String(ours, radix: 16)), expected \(String(expected, radix: 16))")
            if ours != expected { return }
        }
    }

    func testBufferConversionsReadUnalignedLittleEndian() {
        let bytes: [UInt8] = [0xAA, 0x00, 0x3C, 0x00, 0xC0, 0x01, 0x00]  // halves 1, -2, 2^-24 at offset 1
        var out = [Float](repeating: 0, count: 3)
        bytes.withUnsafeBytes { raw in
            out.withUnsafeMutableBufferPointer {
                Float16Conversion.widenFloat16(raw.baseAddress! + 1, count: 3, into: $0.baseAddress!)
            }
        }
        XCTAssertEqual(out, [1, -2, 0x1p-24])
        let bf: [UInt8] = [0x00, 0x80, 0x3F, 0x00, 0xC0]  // bfloat16 1, -2 at offset 1
        var out2 = [Float](repeating: 0, count: 2)
        bf.withUnsafeBytes { raw in
            out2.withUnsafeMutableBufferPointer {
                Float16Conversion.widenBFloat16(raw.baseAddress! + 1, count: 2, into: $0.baseAddress!)
            }
        }
        XCTAssertEqual(out2, [1, -2])
        let source: [Float] = [1, -2, 0x1p-24]
        var narrowed = [UInt8](repeating: 0xEE, count: 7)
        narrowed.withUnsafeMutableBytes { raw in
            Float16Conversion.narrowToFloat16(source, count: 3, into: raw.baseAddress! + 1)
        }
        XCTAssertEqual(narrowed, [0xEE, 0x00, 0x3C, 0x00, 0xC0, 0x01, 0x00])
    }

    // MARK: References

    /// Half to float by the definition: (-1)^s * 2^(e-15) * (1 + m/1024), or subnormal m * 2^-24.
    static func referenceHalfToFloat(_ bits: UInt16) -> Float {
        let sign: Float = bits & 0x8000 != 0 ? -1 : 1
        let exponent = Int((bits >> 10) & 0x1F)
        let mantissa = Int(bits & 0x3FF)
        if exponent == 0x1F { return mantissa == 0 ? sign * .infinity : .nan }
        if exponent == 0 { return sign * Float(Double(mantissa) * 0x1p-24) }
        return sign * Float((1 + Double(mantissa) / 1024) * pow(2, Double(exponent - 15)))
    }

    /// Float to half, nearest-even: the platform `Float16` where it exists, else a search over all halves.
    static func referenceFloatToHalf(_ value: Float) -> UInt16 {
        #if !((os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64))
            return Float16(value).bitPattern
        #else
            return referenceNearestHalf(value)
        #endif
    }

    static func referenceNearestHalf(_ value: Float) -> UInt16 {
        let sign: UInt16 = value.sign == .minus ? 0x8000 : 0
        let magnitude = Double(abs(value))
        if magnitude >= 65520 { return sign | 0x7C00 }
        var best: UInt16 = 0
        var bestDistance = Double.infinity
        for bits: UInt16 in 0...0x7BFF {
            let d = abs(Double(referenceHalfToFloat(bits)) - magnitude)
            if d < bestDistance || (d == bestDistance && bits & 1 == 0) {
                best = bits
                bestDistance = d
            }
        }
        return sign | best
    }
}
