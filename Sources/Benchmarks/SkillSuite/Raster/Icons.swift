/// Small pixel-art icons (7x7 design units) with fixed colours, used by infographics and real-world scenes.
public enum Icon: String, CaseIterable, Sendable {
    case heart, tree, sun, drop, house, bolt

    /// Rows of the bitmap: `X` main colour, `o` second colour, `.` transparent.
    public var rows: [String] {
        switch self {
        case .heart: return [".XX.XX.", "XXXXXXX", "XXXXXXX", "XXXXXXX", ".XXXXX.", "..XXX..", "...X..."]
        case .tree: return ["...X...", "..XXX..", ".XXXXX.", "XXXXXXX", ".XXXXX.", "...o...", "...o..."]
        case .sun: return ["X..X..X", ".XXXXX.", ".XXXXX.", "XXXXXXX", ".XXXXX.", ".XXXXX.", "X..X..X"]
        case .drop: return ["...X...", "...X...", "..XXX..", ".XXXXX.", "XXXXXXX", "XXXXXXX", ".XXXXX."]
        case .house: return ["...o...", "..ooo..", ".ooooo.", "ooooooo", ".XXXXX.", ".XX.XX.", ".XX.XX."]
        case .bolt: return ["...XXX.", "..XXX..", ".XXX...", "XXXXXXX", "...XXX.", "..XXX..", ".XX...."]
        }
    }

    public var colours: (main: RGB, second: RGB) {
        switch self {
        case .heart: return (NamedColour.red.rgb, NamedColour.red.rgb)
        case .tree: return (RGB(20, 140, 40), NamedColour.brown.rgb)
        case .sun: return (NamedColour.yellow.rgb, NamedColour.yellow.rgb)
        case .drop: return (NamedColour.blue.rgb, NamedColour.blue.rgb)
        case .house: return (NamedColour.brown.rgb, RGB(200, 40, 40))
        case .bolt: return (NamedColour.orange.rgb, NamedColour.orange.rgb)
        }
    }

    /// Side of the icon in bitmap pixels.
    public static let side: Float = 7
}

extension Canvas {
    /// An icon with its top-left corner at (x, y), `pixelSize` design units per bitmap pixel.
    public mutating func icon(_ icon: Icon, x: Float, y: Float, pixelSize: Float = 1) {
        let c = icon.colours
        bitmap(icon.rows, legend: ["X": c.main, "o": c.second], x: x, y: y, pixelSize: pixelSize)
    }
}
