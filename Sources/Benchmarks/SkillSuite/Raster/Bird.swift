/// The attributes that make a sprite bird's species.
public struct BirdLooks: Hashable, Sendable {
    public enum Length: String, Sendable { case short, long }
    public var body: NamedColour
    public var head: NamedColour
    public var wing: NamedColour
    public var beak: Length
    public var tail: Length

    public init(body: NamedColour, head: NamedColour, wing: NamedColour, beak: Length, tail: Length) {
        self.body = body
        self.head = head
        self.wing = wing
        self.beak = beak
        self.tail = tail
    }
}

extension Canvas {
    /// A bird about 20x14 design units: body, wing, head, beak and tail, centred near (cx, cy), perched on
    /// legs that end at `cy + 7`. `facingRight` mirrors it.
    public mutating func bird(_ looks: BirdLooks, cx: Float, cy: Float, facingRight: Bool) {
        func X(_ dx: Float) -> Float { facingRight ? cx + dx : cx - dx }
        let tailColour = looks.wing.rgb
        let tailEnd: Float = looks.tail == .long ? -12 : -8.5
        fillPolygon(
            [(X(-4), cy - 1.5), (X(tailEnd), cy - 3.5), (X(tailEnd + 1), cy + 0.5), (X(-4), cy + 1.5)], tailColour)
        let legs = RGB(60, 45, 30)
        line(from: (X(-1), cy + 3), to: (X(-1), cy + 7), thickness: 0.9, legs)
        line(from: (X(1.5), cy + 3), to: (X(1.5), cy + 7), thickness: 0.9, legs)
        fillEllipse(cx: cx, cy: cy, rx: 6, ry: 4, looks.body.rgb)
        fillEllipse(cx: X(-1), cy: cy - 0.5, rx: 3.6, ry: 2.3, looks.wing.rgb)
        fillCircle(cx: X(5), cy: cy - 4, radius: 3.1, looks.head.rgb)
        let beakLength: Float = looks.beak == .long ? 5 : 2.2
        fillPolygon([(X(7.3), cy - 5.3), (X(7.3 + beakLength), cy - 4), (X(7.3), cy - 2.7)], RGB(235, 150, 20))
        let eye = looks.head == .black ? RGB.white : RGB.black
        fillRect(x: X(5.8) - 0.5, y: cy - 5.5, width: 1, height: 1, eye)
    }
}
