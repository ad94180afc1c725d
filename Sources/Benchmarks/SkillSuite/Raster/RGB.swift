/// An 8-bit RGB colour.
public struct RGB: Hashable, Sendable {
    public var r: UInt8, g: UInt8, b: UInt8
    public init(_ r: UInt8, _ g: UInt8, _ b: UInt8) {
        self.r = r
        self.g = g
        self.b = b
    }

    /// This colour moved towards `other` by `t` in 0...1.
    public func mixed(with other: RGB, _ t: Float) -> RGB {
        func mix(_ a: UInt8, _ b: UInt8) -> UInt8 {
            UInt8(max(0, min(255, (Float(a) + (Float(b) - Float(a)) * t).rounded())))
        }
        return RGB(mix(r, other.r), mix(g, other.g), mix(b, other.b))
    }

    /// Perceived brightness in 0...255 (Rec. 601 weights).
    public var luma: Float { 0.299 * Float(r) + 0.587 * Float(g) + 0.114 * Float(b) }

    public static let white = RGB(245, 245, 245)
    public static let black = RGB(20, 20, 20)
}

/// The named colours the tasks use, chosen to stay distinct from one another at 32x32 and after scaling.
public enum NamedColour: String, CaseIterable, Sendable {
    case red, green, blue, yellow, purple, orange, pink, brown, gray, black, white, cyan

    public var rgb: RGB {
        switch self {
        case .red: return RGB(220, 30, 30)
        case .green: return RGB(30, 170, 50)
        case .blue: return RGB(40, 80, 235)
        case .yellow: return RGB(245, 215, 20)
        case .purple: return RGB(145, 50, 200)
        case .orange: return RGB(250, 135, 15)
        case .pink: return RGB(250, 140, 200)
        case .brown: return RGB(135, 80, 35)
        case .gray: return RGB(135, 135, 135)
        case .black: return RGB(20, 20, 20)
        case .white: return RGB(245, 245, 245)
        case .cyan: return RGB(30, 200, 215)
        }
    }

    /// The six saturated colours objects are painted in (well apart in hue, all visible on light backgrounds).
    public static let objectColours: [NamedColour] = [.red, .green, .blue, .yellow, .purple, .orange]
}
