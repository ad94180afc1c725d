/// libjpeg's accurate integer inverse DCT (`jpeg_idct_islow`, jidctint.c): the Loeffler-Ligtenberg-Moschytz
/// factorisation with 13-bit fixed-point constants, columns first with 2 extra bits of precision, then rows,
/// descaled by 2^(13+2+3) with rounding and level-shifted by 128 into 0...255. Reproducing its arithmetic
/// exactly is what makes the output match libjpeg's to the bit.
enum JPEGIDCT {
    static let constBits = 13
    static let pass1Bits = 2
    // FIX(x) = round(x * 2^13)
    static let fix0_298631336 = 2446
    static let fix0_390180644 = 3196
    static let fix0_541196100 = 4433
    static let fix0_765366865 = 6270
    static let fix0_899976223 = 7373
    static let fix1_175875602 = 9633
    static let fix1_501321110 = 12299
    static let fix1_847759065 = 15137
    static let fix1_961570560 = 16069
    static let fix2_053119869 = 16819
    static let fix2_562915447 = 20995
    static let fix3_072711026 = 25172

    /// libjpeg's post-IDCT range limit: `x` (not yet level-shifted) masked to 10 bits, then x + 128 clamped to
    /// 0...255 (values far out of range wrap as libjpeg's table does; valid data never gets there).
    static let rangeLimit: [UInt8] = (0..<1024).map { i in
        let x = i < 512 ? i : i - 1024
        return UInt8(max(0, min(255, x + 128)))
    }

    /// One 8x8 block: dequantises `coefficients[base..<base+64]` (natural order) with `quant`, transforms it and
    /// stores the samples in `plane` at `origin` with row stride `stride`. `workspace` holds 64 Ints.
    @inline(__always)
    static func inverse(
        _ coefficients: UnsafeBufferPointer<Int16>, _ base: Int, _ quant: UnsafeBufferPointer<Int>,
        _ plane: UnsafeMutableBufferPointer<UInt8>, _ origin: Int, _ stride: Int,
        _ ws: UnsafeMutableBufferPointer<Int>, _ range: UnsafeBufferPointer<UInt8>
    ) {
        // Pass 1: columns, results scaled up by 2^pass1Bits.
        for column in 0..<8 {
            @inline(__always) func q(_ row: Int) -> Int {
                Int(coefficients[base + 8 * row + column]) * quant[8 * row + column]
            }
            if coefficients[base + 8 + column] == 0 && coefficients[base + 16 + column] == 0
                && coefficients[base + 24 + column] == 0 && coefficients[base + 32 + column] == 0
                && coefficients[base + 40 + column] == 0 && coefficients[base + 48 + column] == 0
                && coefficients[base + 56 + column] == 0
            {
                let dc = q(0) << pass1Bits
                for row in 0..<8 { ws[8 * row + column] = dc }
                continue
            }
            var z2 = q(2)
            var z3 = q(6)
            let z1 = (z2 + z3) * fix0_541196100
            var tmp2 = z1 - z3 * fix1_847759065
            var tmp3 = z1 + z2 * fix0_765366865
            z2 = q(0)
            z3 = q(4)
            var tmp0 = (z2 + z3) << constBits
            var tmp1 = (z2 - z3) << constBits
            let tmp10 = tmp0 + tmp3
            let tmp13 = tmp0 - tmp3
            let tmp11 = tmp1 + tmp2
            let tmp12 = tmp1 - tmp2
            tmp0 = q(7)
            tmp1 = q(5)
            tmp2 = q(3)
            tmp3 = q(1)
            odd(&tmp0, &tmp1, &tmp2, &tmp3)
            let shift = constBits - pass1Bits
            let round = 1 << (shift - 1)
            ws[column] = (tmp10 + tmp3 + round) >> shift
            ws[56 + column] = (tmp10 - tmp3 + round) >> shift
            ws[8 + column] = (tmp11 + tmp2 + round) >> shift
            ws[48 + column] = (tmp11 - tmp2 + round) >> shift
            ws[16 + column] = (tmp12 + tmp1 + round) >> shift
            ws[40 + column] = (tmp12 - tmp1 + round) >> shift
            ws[24 + column] = (tmp13 + tmp0 + round) >> shift
            ws[32 + column] = (tmp13 - tmp0 + round) >> shift
        }
        // Pass 2: rows, descaled by 2^(constBits + pass1Bits + 3) and range-limited.
        let shift = constBits + pass1Bits + 3
        let round = 1 << (shift - 1)
        for row in 0..<8 {
            let w = 8 * row
            let out = origin + row * stride
            var z2 = ws[w + 2]
            var z3 = ws[w + 6]
            let z1 = (z2 + z3) * fix0_541196100
            var tmp2 = z1 - z3 * fix1_847759065
            var tmp3 = z1 + z2 * fix0_765366865
            z2 = ws[w]
            z3 = ws[w + 4]
            var tmp0 = (z2 + z3) << constBits
            var tmp1 = (z2 - z3) << constBits
            let tmp10 = tmp0 + tmp3
            let tmp13 = tmp0 - tmp3
            let tmp11 = tmp1 + tmp2
            let tmp12 = tmp1 - tmp2
            tmp0 = ws[w + 7]
            tmp1 = ws[w + 5]
            tmp2 = ws[w + 3]
            tmp3 = ws[w + 1]
            odd(&tmp0, &tmp1, &tmp2, &tmp3)
            plane[out] = range[((tmp10 + tmp3 + round) >> shift) & 1023]
            plane[out + 7] = range[((tmp10 - tmp3 + round) >> shift) & 1023]
            plane[out + 1] = range[((tmp11 + tmp2 + round) >> shift) & 1023]
            plane[out + 6] = range[((tmp11 - tmp2 + round) >> shift) & 1023]
            plane[out + 2] = range[((tmp12 + tmp1 + round) >> shift) & 1023]
            plane[out + 5] = range[((tmp12 - tmp1 + round) >> shift) & 1023]
            plane[out + 3] = range[((tmp13 + tmp0 + round) >> shift) & 1023]
            plane[out + 4] = range[((tmp13 - tmp0 + round) >> shift) & 1023]
        }
    }

    /// The odd part: inputs 7, 5, 3, 1 in `t0...t3`, replaced by the four odd outputs of jidctint.c.
    @inline(__always)
    static func odd(_ t0: inout Int, _ t1: inout Int, _ t2: inout Int, _ t3: inout Int) {
        var z1 = t0 + t3
        var z2 = t1 + t2
        var z3 = t0 + t2
        var z4 = t1 + t3
        let z5 = (z3 + z4) * fix1_175875602
        t0 *= fix0_298631336
        t1 *= fix2_053119869
        t2 *= fix3_072711026
        t3 *= fix1_501321110
        z1 *= -fix0_899976223
        z2 *= -fix2_562915447
        z3 *= -fix1_961570560
        z4 *= -fix0_390180644
        z3 += z5
        z4 += z5
        t0 += z1 + z3
        t1 += z2 + z4
        t2 += z2 + z3
        t3 += z1 + z4
    }
}

extension JPEGDecoder {
    /// Every component's samples after the inverse DCT: a plane of `blocksPerLine * 8` columns (the stride) and
    /// `blocksPerColumn * 8` rows, of which the component's `width` x `height` are the image.
    func samplePlanes(_ frame: JPEGFrame) -> [[UInt8]] {
        var workspace = [Int](repeating: 0, count: 64)
        return frame.components.map { c in
            let stride = c.blocksPerLine * 8
            var plane = [UInt8](repeating: 0, count: stride * c.blocksPerColumn * 8)
            let quant = c.quant ?? [Int](repeating: 0, count: 64)
            // Only the blocks the component's samples reach; the rest is MCU padding nobody reads.
            let rows = (c.height + 7) / 8
            let columns = (c.width + 7) / 8
            coefficients.withUnsafeBufferPointer { coef in
                quant.withUnsafeBufferPointer { q in
                    JPEGIDCT.rangeLimit.withUnsafeBufferPointer { range in
                        plane.withUnsafeMutableBufferPointer { out in
                            workspace.withUnsafeMutableBufferPointer { ws in
                                for by in 0..<rows {
                                    for bx in 0..<columns {
                                        let base = c.coefficientOffset + (by * c.blocksPerLine + bx) * 64
                                        JPEGIDCT.inverse(
                                            coef, base, q, out, by * 8 * stride + bx * 8, stride, ws, range)
                                    }
                                }
                            }
                        }
                    }
                }
            }
            return plane
        }
    }
}
