import Kernel

/// A square RGB raster that draws in a fixed 32x32 *design space*, whatever its pixel size.
///
/// Every primitive colours the pixels whose centres fall inside the shape, with coordinates measured in design
/// units (0...32 across), so a layout written for 32x32 renders the same picture at 64x64 or 128x128 with more
/// detail, and exactly pixel-aligned at 32x32 (a unit rectangle at (3, 4) is the pixel (3, 4)).
public struct Canvas {
    /// The side of the design space.
    public static let designSize: Float = 32
    /// Pixels per side.
    public let size: Int
    /// Pixels per design unit.
    public let scale: Float
    /// RGB bytes, row-major.
    public private(set) var pixels: [UInt8]

    public init(size: Int = 32, background: RGB) {
        precondition(size >= 16, "Canvas: size \(size) is below 16 pixels")
        self.size = size
        scale = Float(size) / Canvas.designSize
        pixels = [UInt8](repeating: 0, count: size * size * 3)
        for i in 0..<(size * size) {
            pixels[3 * i] = background.r
            pixels[3 * i + 1] = background.g
            pixels[3 * i + 2] = background.b
        }
    }

    /// The finished picture.
    public var image: Image { Image(width: size, height: size, pixels: pixels) }

    /// The colour at a pixel (pixel coordinates).
    public func pixel(_ x: Int, _ y: Int) -> RGB {
        let i = (y * size + x) * 3
        return RGB(pixels[i], pixels[i + 1], pixels[i + 2])
    }

    /// Colours every pixel whose centre (in design units) lies in the box and satisfies `inside`, with the
    /// colour `shade` gives for that centre (nil leaves the pixel).
    public mutating func paint(
        minX: Float, minY: Float, maxX: Float, maxY: Float,
        shade: (_ x: Float, _ y: Float) -> RGB?
    ) {
        let x0 = max(0, Int((minX * scale).rounded(.down)) - 1)
        let x1 = min(size - 1, Int((maxX * scale).rounded(.up)))
        let y0 = max(0, Int((minY * scale).rounded(.down)) - 1)
        let y1 = min(size - 1, Int((maxY * scale).rounded(.up)))
        guard x0 <= x1, y0 <= y1 else { return }
        for py in y0...y1 {
            let y = (Float(py) + 0.5) / scale
            guard y >= minY, y <= maxY else { continue }
            for px in x0...x1 {
                let x = (Float(px) + 0.5) / scale
                guard x >= minX, x <= maxX, let c = shade(x, y) else { continue }
                let i = (py * size + px) * 3
                pixels[i] = c.r
                pixels[i + 1] = c.g
                pixels[i + 2] = c.b
            }
        }
    }

    /// Fills the whole canvas with a per-point colour (textures, gradients).
    public mutating func shadeAll(_ shade: (_ x: Float, _ y: Float) -> RGB?) {
        paint(minX: 0, minY: 0, maxX: Canvas.designSize, maxY: Canvas.designSize, shade: shade)
    }

    /// A filled axis-aligned rectangle with its top-left corner at (x, y).
    public mutating func fillRect(x: Float, y: Float, width: Float, height: Float, _ colour: RGB) {
        paint(minX: x, minY: y, maxX: x + width, maxY: y + height) { px, py in
            (px < x + width && py < y + height) ? colour : nil
        }
    }

    /// A rectangle outline of the given thickness, drawn inside the rectangle.
    public mutating func strokeRect(
        x: Float, y: Float, width: Float, height: Float, thickness: Float = 1, _ colour: RGB
    ) {
        paint(minX: x, minY: y, maxX: x + width, maxY: y + height) { px, py in
            guard px < x + width, py < y + height else { return nil }
            let inner =
                px >= x + thickness && px < x + width - thickness && py >= y + thickness && py < y + height - thickness
            return inner ? nil : colour
        }
    }

    /// A filled ellipse.
    public mutating func fillEllipse(cx: Float, cy: Float, rx: Float, ry: Float, _ colour: RGB) {
        paint(minX: cx - rx, minY: cy - ry, maxX: cx + rx, maxY: cy + ry) { px, py in
            let dx = (px - cx) / rx
            let dy = (py - cy) / ry
            return dx * dx + dy * dy <= 1 ? colour : nil
        }
    }

    /// A filled circle.
    public mutating func fillCircle(cx: Float, cy: Float, radius: Float, _ colour: RGB) {
        fillEllipse(cx: cx, cy: cy, rx: radius, ry: radius, colour)
    }

    /// A ring between `radius - thickness` and `radius`.
    public mutating func strokeCircle(cx: Float, cy: Float, radius: Float, thickness: Float = 1, _ colour: RGB) {
        let inner = max(0, radius - thickness)
        paint(minX: cx - radius, minY: cy - radius, maxX: cx + radius, maxY: cy + radius) { px, py in
            let d2 = (px - cx) * (px - cx) + (py - cy) * (py - cy)
            return (d2 <= radius * radius && d2 >= inner * inner) ? colour : nil
        }
    }

    /// A filled polygon (even-odd rule, so concave outlines such as stars work).
    public mutating func fillPolygon(_ points: [(x: Float, y: Float)], _ colour: RGB) {
        guard points.count >= 3 else { return }
        let xs = points.map(\.x)
        let ys = points.map(\.y)
        paint(minX: xs.min()!, minY: ys.min()!, maxX: xs.max()!, maxY: ys.max()!) { px, py in
            Canvas.contains(points, px, py) ? colour : nil
        }
    }

    /// A polygon outline made of thick line segments.
    public mutating func strokePolygon(_ points: [(x: Float, y: Float)], thickness: Float = 1, _ colour: RGB) {
        for i in points.indices {
            let a = points[i]
            let b = points[(i + 1) % points.count]
            line(from: a, to: b, thickness: thickness, colour)
        }
    }

    static func contains(_ points: [(x: Float, y: Float)], _ x: Float, _ y: Float) -> Bool {
        var inside = false
        var j = points.count - 1
        for i in 0..<points.count {
            let (xi, yi) = points[i]
            let (xj, yj) = points[j]
            if (yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi { inside.toggle() }
            j = i
        }
        return inside
    }

    /// A straight line with round ends: every point within `thickness / 2` of the segment.
    public mutating func line(
        from a: (x: Float, y: Float), to b: (x: Float, y: Float), thickness: Float = 1, _ colour: RGB
    ) {
        let r = max(thickness / 2, 0.5)
        let dx = b.x - a.x
        let dy = b.y - a.y
        let length2 = dx * dx + dy * dy
        paint(minX: min(a.x, b.x) - r, minY: min(a.y, b.y) - r, maxX: max(a.x, b.x) + r, maxY: max(a.y, b.y) + r) {
            px, py in
            var t: Float = 0
            if length2 > 0 { t = max(0, min(1, ((px - a.x) * dx + (py - a.y) * dy) / length2)) }
            let ex = a.x + t * dx - px
            let ey = a.y + t * dy - py
            return ex * ex + ey * ey <= r * r ? colour : nil
        }
    }

    /// An arrow from `a` to `b` with a triangular head at `b`.
    public mutating func arrow(
        from a: (x: Float, y: Float), to b: (x: Float, y: Float), thickness: Float = 1.5,
        headLength: Float = 4, headWidth: Float = 5, _ colour: RGB
    ) {
        let dx = b.x - a.x
        let dy = b.y - a.y
        let length = max((dx * dx + dy * dy).squareRoot(), 1e-3)
        let ux = dx / length
        let uy = dy / length
        let base = (x: b.x - ux * headLength, y: b.y - uy * headLength)
        line(from: a, to: base, thickness: thickness, colour)
        let half = headWidth / 2
        fillPolygon(
            [
                (b.x + ux * 0.5, b.y + uy * 0.5), (base.x - uy * half, base.y + ux * half),
                (base.x + uy * half, base.y - ux * half),
            ], colour)
    }

    /// Text in the 5x7 bitmap font with its top-left corner at (x, y); each font pixel is `pixelSize` design
    /// units and characters start `advance` font pixels apart (the font's own 6 by default; 8 puts one character
    /// in each 8x8 cell). Returns the width drawn, in design units.
    @discardableResult
    public mutating func text(
        _ string: String, x: Float, y: Float, pixelSize: Float = 1, advance: Int = BitmapFont.advance,
        _ colour: RGB
    ) -> Float {
        var cursor = x
        for character in string {
            let rows = BitmapFont.glyph(character)
            for (row, bits) in rows.enumerated() {
                for column in 0..<BitmapFont.glyphWidth where bits & (1 << (BitmapFont.glyphWidth - 1 - column)) != 0 {
                    fillRect(
                        x: cursor + Float(column) * pixelSize, y: y + Float(row) * pixelSize,
                        width: pixelSize, height: pixelSize, colour)
                }
            }
            cursor += Float(advance) * pixelSize
        }
        return BitmapFont.width(of: string, advance: advance) * pixelSize
    }

    /// A small pixel-art bitmap (rows of characters looked up in `legend`; unknown characters are transparent),
    /// with its top-left corner at (x, y) and each bitmap pixel `pixelSize` design units.
    public mutating func bitmap(_ rows: [String], legend: [Character: RGB], x: Float, y: Float, pixelSize: Float = 1) {
        for (row, line) in rows.enumerated() {
            for (column, c) in line.enumerated() {
                guard let colour = legend[c] else { continue }
                fillRect(
                    x: x + Float(column) * pixelSize, y: y + Float(row) * pixelSize,
                    width: pixelSize, height: pixelSize, colour)
            }
        }
    }
}
