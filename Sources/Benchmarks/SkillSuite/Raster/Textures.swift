import Foundation

/// Two-colour repeating patterns, as functions from a design-space point to "ink" (true) or "ground" (false).
/// Tissue images, scene clutter and backgrounds are made of them.
public enum Texture: Sendable, Equatable {
    /// Parallel bands `period` apart, `ink` wide; `direction` 0 horizontal, 1 vertical, 2 and 3 the diagonals.
    case stripes(direction: Int, period: Float, ink: Float, phase: Float)
    /// Round dots of `radius` on a square lattice `spacing` apart, offset by `phase`.
    case dots(spacing: Float, radius: Float, phase: Float)
    /// A checkerboard of `cell`-sized squares.
    case checker(cell: Float, phase: Float)
    /// Random cells of `cell` units, each inked with probability `density`; `seed` fixes the pattern.
    case noise(cell: Float, density: Float, seed: UInt64)
    /// Sine-shaped bands: horizontal stripes bent by a sine of `wavelength` and `amplitude`.
    case waves(period: Float, ink: Float, wavelength: Float, amplitude: Float, phase: Float)
    /// Concentric rings around (cx, cy), `period` apart.
    case rings(cx: Float, cy: Float, period: Float, ink: Float)

    /// Whether the point (x, y) is inked.
    public func inked(_ x: Float, _ y: Float) -> Bool {
        switch self {
        case .stripes(let direction, let period, let ink, let phase):
            let t: Float
            switch direction {
            case 0: t = y
            case 1: t = x
            case 2: t = (x + y) * 0.7071
            default: t = (x - y) * 0.7071
            }
            return Texture.wrap(t + phase, period) < ink
        case .dots(let spacing, let radius, let phase):
            let dx = Texture.wrap(x + phase, spacing) - spacing / 2
            let dy = Texture.wrap(y + phase, spacing) - spacing / 2
            return dx * dx + dy * dy <= radius * radius
        case .checker(let cell, let phase):
            let i = Int(((x + phase) / cell).rounded(.down))
            let j = Int(((y + phase) / cell).rounded(.down))
            return (i + j) & 1 == 0
        case .noise(let cell, let density, let seed):
            let i = Int((x / cell).rounded(.down))
            let j = Int((y / cell).rounded(.down))
            return Texture.hashUnit(seed, i, j) < density
        case .waves(let period, let ink, let wavelength, let amplitude, let phase):
            let bent = y + amplitude * Float(sin(Double(2 * Float.pi * x / wavelength)))
            return Texture.wrap(bent + phase, period) < ink
        case .rings(let cx, let cy, let period, let ink):
            let d = ((x - cx) * (x - cx) + (y - cy) * (y - cy)).squareRoot()
            return Texture.wrap(d, period) < ink
        }
    }

    static func wrap(_ v: Float, _ period: Float) -> Float {
        let r = v.truncatingRemainder(dividingBy: period)
        return r < 0 ? r + period : r
    }

    /// A uniform number in [0, 1) from a seed and a cell, stable across runs and machines.
    static func hashUnit(_ seed: UInt64, _ i: Int, _ j: Int) -> Float {
        var z =
            seed &+ UInt64(bitPattern: Int64(i)) &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(bitPattern: Int64(j))
            &* 0xC2B2_AE3D_27D4_EB4F
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return Float(z >> 40) / 16_777_216
    }
}

extension Canvas {
    /// Paints `texture` in a rectangle: inked points in `ink`, the others in `ground` (nil keeps what is there).
    public mutating func fill(
        _ texture: Texture, x: Float = 0, y: Float = 0, width: Float = Canvas.designSize,
        height: Float = Canvas.designSize, ink: RGB, ground: RGB?
    ) {
        paint(minX: x, minY: y, maxX: x + width, maxY: y + height) { px, py in
            guard px < x + width, py < y + height else { return nil }
            return texture.inked(px, py) ? ink : ground
        }
    }
}
