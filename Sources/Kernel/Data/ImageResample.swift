import Foundation

/// The resampling filters of Pillow's `Image.resize`, which transformers' PIL image processors call.
public enum ResampleFilter: String, Sendable, CaseIterable {
    case bilinear
    case bicubic

    /// Half-width of the filter's kernel at scale 1.
    var support: Double {
        switch self {
        case .bilinear: return 1
        case .bicubic: return 2
        }
    }

    /// Pillow's filters: the triangle, and the cubic convolution with a = -0.5.
    func weight(_ x: Double) -> Double {
        let x = abs(x)
        switch self {
        case .bilinear: return x < 1 ? 1 - x : 0
        case .bicubic:
            let a = -0.5
            if x < 1 { return ((a + 2) * x - (a + 3)) * x * x + 1 }
            if x < 2 { return (((x - 5) * x + 8) * x - 4) * a }
            return 0
        }
    }

    /// Pillow's numbers for them (`PIL.Image.Resampling`), as `preprocessor_config.json` writes `resample`.
    public init?(pillowCode: Int) {
        switch pillowCode {
        case 2: self = .bilinear
        case 3: self = .bicubic
        default: return nil
        }
    }
}

extension Image {
    /// This image resized as Pillow's `Image.resize((width, height), resample)` does for 8-bit images, to the
    /// bit: weights per output pixel from the filter stretched by the scale (Pillow's `precompute_coeffs`),
    /// normalised and turned into 22-bit fixed point, two passes through an 8-bit intermediate image, each sum
    /// rounded and clamped to 0...255.
    ///
    /// The order of the passes is Pillow 13's (python-pillow/Pillow#9549): vertical first when the height
    /// shrinks by more than twice as many pixels as the width does, else horizontal first, over only the rows
    /// the vertical pass reads. (Pillow 12 and older always go horizontal first; the two orders can differ by
    /// a level in some pixels.)
    public func resized(width newWidth: Int, height newHeight: Int, filter: ResampleFilter) -> Image {
        precondition(newWidth > 0 && newHeight > 0 && width > 0 && height > 0, "resize of an empty image")
        if newWidth == width && newHeight == height { return self }
        let vertical = ResampleCoefficients(input: height, output: newHeight, filter: filter)
        if newHeight < height && height - newHeight > 2 * (width - newWidth) {
            let shrunk = verticalPass(vertical, rowOffset: 0)
            guard newWidth != width else { return shrunk }
            let horizontal = ResampleCoefficients(input: width, output: newWidth, filter: filter)
            return shrunk.horizontalPass(horizontal, rows: 0..<newHeight)
        }
        var source = self
        var rowOffset = 0
        if newWidth != width {
            // Only rows some output row reads are resampled horizontally (Pillow's ybox_first...ybox_last).
            let first = newHeight != height ? vertical.bounds[0].start : 0
            let last =
                newHeight != height
                ? vertical.bounds[newHeight - 1].start + vertical.bounds[newHeight - 1].count : height
            let horizontal = ResampleCoefficients(input: width, output: newWidth, filter: filter)
            source = horizontalPass(horizontal, rows: first..<last)
            rowOffset = first
        }
        guard newHeight != height else { return source }
        return source.verticalPass(vertical, rowOffset: rowOffset)
    }

    private func horizontalPass(_ c: ResampleCoefficients, rows: Range<Int>) -> Image {
        let outWidth = c.bounds.count
        var out = [UInt8](repeating: 0, count: outWidth * rows.count * 3)
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for (r, y) in rows.enumerated() {
                    let row = y * width * 3
                    for x in 0..<outWidth {
                        let (start, count) = c.bounds[x]
                        let k = x * c.kernelSize
                        for ch in 0..<3 {
                            var sum = ResampleCoefficients.half
                            for i in 0..<count {
                                sum = sum &+ Int32(src[row + (start + i) * 3 + ch]) &* c.weights[k + i]
                            }
                            dst[(r * outWidth + x) * 3 + ch] = ResampleCoefficients.clip8(sum)
                        }
                    }
                }
            }
        }
        return Image(width: outWidth, height: rows.count, pixels: out)
    }

    private func verticalPass(_ c: ResampleCoefficients, rowOffset: Int) -> Image {
        let outHeight = c.bounds.count
        var out = [UInt8](repeating: 0, count: width * outHeight * 3)
        let rowBytes = width * 3
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for y in 0..<outHeight {
                    let (start, count) = c.bounds[y]
                    let k = y * c.kernelSize
                    for j in 0..<rowBytes {
                        var sum = ResampleCoefficients.half
                        for i in 0..<count {
                            sum = sum &+ Int32(src[(start - rowOffset + i) * rowBytes + j]) &* c.weights[k + i]
                        }
                        dst[y * rowBytes + j] = ResampleCoefficients.clip8(sum)
                    }
                }
            }
        }
        return Image(width: width, height: outHeight, pixels: out)
    }

    /// The `width` x `height` window centred on this image, as transformers' `center_crop` takes it: the
    /// offset is `(size - crop) // 2`; where the crop is larger than the image, the image is first placed on a
    /// black canvas at offset `ceil((crop - size) / 2)`.
    public func centerCropped(width cropWidth: Int, height cropHeight: Int) -> Image {
        precondition(cropWidth > 0 && cropHeight > 0, "crop to an empty image")
        let padLeft = (max(width, cropWidth) - width + 1) / 2
        let padTop = (max(height, cropHeight) - height + 1) / 2
        let left = (width - cropWidth).floorHalf + padLeft
        let top = (height - cropHeight).floorHalf + padTop
        return placed(onWidth: cropWidth, height: cropHeight, left: padLeft - left, top: padTop - top)
    }

    /// This image on a `width` x `height` canvas of `background`, its top-left corner at (`left`, `top`);
    /// negative offsets cut it (a crop), positive ones pad it.
    public func placed(
        onWidth width: Int, height: Int, left: Int, top: Int, background: (UInt8, UInt8, UInt8) = (0, 0, 0)
    ) -> Image {
        var out = Image(width: width, height: height, fill: (background.0, background.1, background.2))
        for y in 0..<height {
            let sy = y - top
            guard sy >= 0 && sy < self.height else { continue }
            for x in 0..<width {
                let sx = x - left
                guard sx >= 0 && sx < self.width else { continue }
                for c in 0..<3 { out.pixels[(y * width + x) * 3 + c] = pixels[(sy * self.width + sx) * 3 + c] }
            }
        }
        return out
    }
}

extension Int {
    /// Python's `n // 2` (rounds toward minus infinity).
    fileprivate var floorHalf: Int { self >= 0 ? self / 2 : -((-self + 1) / 2) }
}

/// Pillow's per-axis resampling weights (`precompute_coeffs` and `normalize_coeffs_8bpc` in Resample.c).
struct ResampleCoefficients {
    static let precisionBits: Int32 = 32 - 8 - 2
    static let half: Int32 = 1 << (precisionBits - 1)

    let kernelSize: Int
    /// For each output pixel: the first input pixel read and how many.
    let bounds: [(start: Int, count: Int)]
    /// `kernelSize` fixed-point weights per output pixel.
    let weights: [Int32]

    init(input: Int, output: Int, filter: ResampleFilter) {
        let scale = Double(input) / Double(output)
        let filterScale = max(scale, 1)
        let support = filter.support * filterScale
        kernelSize = Int(support.rounded(.up)) * 2 + 1
        var bounds: [(Int, Int)] = []
        var weights = [Int32](repeating: 0, count: output * kernelSize)
        var k = [Double](repeating: 0, count: kernelSize)
        for xx in 0..<output {
            let center = (Double(xx) + 0.5) * scale
            let inverse = 1 / filterScale
            // C's (int) cast truncates toward zero.
            let xmin = max(Int((center - support + 0.5).rounded(.towardZero)), 0)
            let xmax = min(Int((center + support + 0.5).rounded(.towardZero)), input) - xmin
            var total = 0.0
            for x in 0..<max(xmax, 0) {
                let w = filter.weight((Double(x + xmin) - center + 0.5) * inverse)
                k[x] = w
                total += w
            }
            for x in 0..<max(xmax, 0) {
                let w = total != 0 ? k[x] / total : k[x]
                let fixed = w * Double(1 << Self.precisionBits)
                weights[xx * kernelSize + x] = Int32(
                    fixed < 0 ? (fixed - 0.5).rounded(.towardZero) : (fixed + 0.5).rounded(.towardZero))
            }
            bounds.append((xmin, max(xmax, 0)))
        }
        self.bounds = bounds
        self.weights = weights
    }

    /// `clip8`: the sum shifted back to 8 bits, clamped.
    @inline(__always) static func clip8(_ sum: Int32) -> UInt8 {
        let v = sum >> precisionBits
        return v < 0 ? 0 : v > 255 ? 255 : UInt8(v)
    }
}
