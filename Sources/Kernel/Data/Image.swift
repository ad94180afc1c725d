/// An 8-bit RGB image, row-major, 3 bytes per pixel: what benchmarks draw or load and backbones see.
public struct Image: Sendable, Equatable {
    public let width: Int
    public let height: Int
    /// RGB bytes, row by row: pixel (x, y) channel c is at `(y * width + x) * 3 + c`.
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(
            width >= 0 && height >= 0 && pixels.count == width * height * 3,
            "Image: \(pixels.count) bytes do not make \(width)x\(height) RGB")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// A blank image filled with one colour.
    public init(width: Int, height: Int, fill: (r: UInt8, g: UInt8, b: UInt8) = (0, 0, 0)) {
        var px = [UInt8](repeating: 0, count: width * height * 3)
        for i in 0..<(width * height) {
            px[3 * i] = fill.r
            px[3 * i + 1] = fill.g
            px[3 * i + 2] = fill.b
        }
        self.init(width: width, height: height, pixels: px)
    }
}
