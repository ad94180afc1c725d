/// From decoded component planes to RGB, as libjpeg-turbo (through PIL) does it: each component is upsampled to
/// the image size (jdsample.c), then the colour space is converted (jdcolor.c, PIL's Convert.c for CMYK).
enum JPEGColour {
    /// What the components hold.
    enum Space { case gray, yCbCr, rgb, cmyk, yccK }

    /// libjpeg's fixed-point YCbCr -> RGB tables (jdcolor.c `build_ycc_rgb_table`, 16 fraction bits), indexed
    /// by the chroma sample: R = Y + crR[Cr], B = Y + cbB[Cb], G = Y + ((cbG[Cb] + crG[Cr]) >> 16).
    static let tables: (crR: [Int], cbB: [Int], crG: [Int], cbG: [Int]) = {
        func fix(_ x: Double) -> Int { Int(x * 65536 + 0.5) }
        let half = 1 << 15
        let xs = (0..<256).map { $0 - 128 }
        return (
            xs.map { (fix(1.40200) * $0 + half) >> 16 }, xs.map { (fix(1.77200) * $0 + half) >> 16 },
            xs.map { -fix(0.71414) * $0 }, xs.map { -fix(0.34414) * $0 + half }
        )
    }()

    /// The RGB image of `planes` (one per component, with the frame's geometry).
    static func image(frame: JPEGFrame, planes: [[UInt8]], colourSpace: Space) throws -> Image {
        let width = frame.width
        let height = frame.height
        let n = width * height
        let full = frame.components.indices.map { upsample(planes[$0], frame.components[$0], frame) }
        var px = [UInt8](repeating: 0, count: n * 3)
        @inline(__always) func clamp(_ v: Int) -> UInt8 { UInt8(max(0, min(255, v))) }
        switch colourSpace {
        case .gray:
            let g = full[0]
            for i in 0..<n {
                px[3 * i] = g[i]
                px[3 * i + 1] = g[i]
                px[3 * i + 2] = g[i]
            }
        case .rgb:
            let (r, g, b) = (full[0], full[1], full[2])
            for i in 0..<n {
                px[3 * i] = r[i]
                px[3 * i + 1] = g[i]
                px[3 * i + 2] = b[i]
            }
        case .yCbCr:
            let (crR, cbB, crG, cbG) = tables
            let (yp, cbp, crp) = (full[0], full[1], full[2])
            for i in 0..<n {
                let y = Int(yp[i])
                let cb = Int(cbp[i])
                let cr = Int(crp[i])
                px[3 * i] = clamp(y + crR[cr])
                px[3 * i + 1] = clamp(y + ((cbG[cb] + crG[cr]) >> 16))
                px[3 * i + 2] = clamp(y + cbB[cb])
            }
        case .cmyk, .yccK:
            let (crR, cbB, crG, cbG) = tables
            let (c0, c1, c2, c3) = (full[0], full[1], full[2], full[3])
            for i in 0..<n {
                // libjpeg's CMYK output (YCCK: C, M, Y = 255 - R, G, B of the YCbCr triple; K as stored) ...
                var cmy = (Int(c0[i]), Int(c1[i]), Int(c2[i]))
                if colourSpace == .yccK {
                    let (y, cb, cr) = cmy
                    cmy = (
                        255 - Int(clamp(y + crR[cr])), 255 - Int(clamp(y + ((cbG[cb] + crG[cr]) >> 16))),
                        255 - Int(clamp(y + cbB[cb]))
                    )
                }
                // ... read by PIL as inverted ("CMYK;I", Adobe polarity), then PIL's cmyk2rgb:
                // out = nk - nk * c / 255 with nk = 255 - k, all on the inverted values.
                let nk = Int(c3[i])
                @inline(__always) func channel(_ stored: Int) -> UInt8 {
                    let t = (255 - stored) * nk + 128
                    return clamp(nk - (((t >> 8) + t) >> 8))
                }
                px[3 * i] = channel(cmy.0)
                px[3 * i + 1] = channel(cmy.1)
                px[3 * i + 2] = channel(cmy.2)
            }
        }
        return Image(width: width, height: height, pixels: px)
    }

    /// Component `c` at the full image size, by libjpeg's choice of method (jdsample.c `jinit_upsampler`):
    /// 2:1 horizontally and/or vertically uses the triangular "fancy" filters (horizontal ones only when the
    /// component is more than 2 samples wide), every other integral ratio replicates samples. Edges repeat
    /// the last real sample (row above the first, row below the last, columns beyond either side).
    static func upsample(_ plane: [UInt8], _ c: JPEGComponent, _ frame: JPEGFrame) -> [UInt8] {
        let width = frame.width
        let height = frame.height
        let stride = c.blocksPerLine * 8
        let hr = frame.hMax / c.h
        let vr = frame.vMax / c.v
        let cw = c.width
        let ch = c.height
        var out = [UInt8](repeating: 0, count: width * height)
        if hr == 1 && vr == 1 {
            for y in 0..<height {
                for x in 0..<width { out[y * width + x] = plane[y * stride + x] }
            }
        } else if hr == 2 && vr == 1 && cw > 2 {
            for y in 0..<height {
                let row = y * stride
                for x in 0..<width {
                    let ix = x >> 1
                    let near = 3 * Int(plane[row + ix])
                    out[y * width + x] =
                        x & 1 == 0
                        ? UInt8((near + Int(plane[row + max(ix - 1, 0)]) + 1) >> 2)
                        : UInt8((near + Int(plane[row + min(ix + 1, cw - 1)]) + 2) >> 2)
                }
            }
        } else if hr == 1 && vr == 2 {
            for y in 0..<height {
                let iy = y >> 1
                let other = y & 1 == 0 ? max(iy - 1, 0) : min(iy + 1, ch - 1)
                let bias = y & 1 == 0 ? 1 : 2
                for x in 0..<width {
                    let sum = 3 * Int(plane[iy * stride + x]) + Int(plane[other * stride + x])
                    out[y * width + x] = UInt8((sum + bias) >> 2)
                }
            }
        } else if hr == 2 && vr == 2 && cw > 2 {
            var sums = [Int](repeating: 0, count: cw)
            for y in 0..<height {
                let iy = y >> 1
                let other = y & 1 == 0 ? max(iy - 1, 0) : min(iy + 1, ch - 1)
                for ix in 0..<cw { sums[ix] = 3 * Int(plane[iy * stride + ix]) + Int(plane[other * stride + ix]) }
                for x in 0..<width {
                    let ix = x >> 1
                    out[y * width + x] =
                        x & 1 == 0
                        ? UInt8((3 * sums[ix] + sums[max(ix - 1, 0)] + 8) >> 4)
                        : UInt8((3 * sums[ix] + sums[min(ix + 1, cw - 1)] + 7) >> 4)
                }
            }
        } else {
            for y in 0..<height {
                let row = (y / vr) * stride
                for x in 0..<width { out[y * width + x] = plane[row + x / hr] }
            }
        }
        return out
    }
}
