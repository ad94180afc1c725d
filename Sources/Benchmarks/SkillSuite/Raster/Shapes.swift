import Foundation

/// The geometric shapes objects are drawn as. Sizes are the side of the bounding box in design units; at 32x32
/// every shape stays recognisable from about 6 units up (stars from about 8).
public enum ShapeKind: String, CaseIterable, Sendable {
    case circle, square, triangle, diamond, cross, star

    /// The plural used in prompts and answers.
    public var plural: String { self == .cross ? "crosses" : rawValue + "s" }

    /// The five shapes used by most tasks; they stay distinct from about 8 design units (stars need more room).
    public static let basic: [ShapeKind] = [.circle, .square, .triangle, .diamond, .cross]

    /// Four shapes that stay distinct down to about 6 units (a small diamond looks like a cross or a disc).
    public static let compact: [ShapeKind] = [.circle, .square, .triangle, .cross]
}

extension Canvas {
    /// A shape of bounding-box side `size` centred at (cx, cy), filled or outlined.
    public mutating func shape(
        _ kind: ShapeKind, cx: Float, cy: Float, size: Float, _ colour: RGB, filled: Bool = true,
        thickness: Float = 1
    ) {
        let h = size / 2
        switch kind {
        case .circle:
            // +0.3 keeps small discs round: without it a radius just above a whole number leaves one-pixel nubs
            // on the axes, and a circle of 8 pixels reads as a plus.
            if filled {
                fillCircle(cx: cx, cy: cy, radius: h + 0.3, colour)
            } else {
                strokeCircle(cx: cx, cy: cy, radius: h + 0.3, thickness: thickness, colour)
            }
        case .square:
            let s = size * 0.86
            let o = s / 2
            if filled {
                fillRect(x: cx - o, y: cy - o, width: s, height: s, colour)
            } else {
                strokeRect(x: cx - o, y: cy - o, width: s, height: s, thickness: thickness, colour)
            }
        case .cross:
            let t = max(size * 0.28, 1.6)  // thin arms keep a cross apart from a diamond
            fillRect(x: cx - t / 2, y: cy - h, width: t, height: size, colour)
            fillRect(x: cx - h, y: cy - t / 2, width: size, height: t, colour)
        default:
            let points = Canvas.outline(kind, cx: cx, cy: cy, size: size)
            if filled { fillPolygon(points, colour) } else { strokePolygon(points, thickness: thickness, colour) }
        }
    }

    /// The corner points of a polygonal shape.
    static func outline(_ kind: ShapeKind, cx: Float, cy: Float, size: Float) -> [(x: Float, y: Float)] {
        let h = size / 2
        switch kind {
        case .triangle: return [(cx, cy - h), (cx + h, cy + h), (cx - h, cy + h)]
        case .diamond: return [(cx, cy - h), (cx + h, cy), (cx, cy + h), (cx - h, cy)]
        case .star:
            return (0..<10).map { i in
                let r = i % 2 == 0 ? h : h * 0.45
                let angle = -Float.pi / 2 + Float(i) * Float.pi / 5
                return (cx + r * Float(cos(Double(angle))), cy + h * 0.1 + r * Float(sin(Double(angle))))
            }
        default:
            return [(cx - h, cy - h), (cx + h, cy - h), (cx + h, cy + h), (cx - h, cy + h)]
        }
    }
}
