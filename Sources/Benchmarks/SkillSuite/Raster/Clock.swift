import Foundation

/// How an analog clock face is drawn.
public struct ClockStyle: Sendable {
    public var face: RGB
    public var rim: RGB
    public var hands: RGB
    /// Colour of the minute hand when it differs from the hour hand (nil: same as `hands`).
    public var minuteHand: RGB?
    public var ticks: RGB

    public init(face: RGB, rim: RGB, hands: RGB, minuteHand: RGB? = nil, ticks: RGB) {
        self.face = face
        self.rim = rim
        self.hands = hands
        self.minuteHand = minuteHand
        self.ticks = ticks
    }
}

extension Canvas {
    /// An analog clock: round face, 12 tick marks (the 12, 3, 6 and 9 ticks longer), a short thick hour hand
    /// that moves with the minutes, and a long thin minute hand.
    public mutating func clock(cx: Float, cy: Float, radius: Float, hour: Int, minute: Int, style: ClockStyle) {
        fillCircle(cx: cx, cy: cy, radius: radius, style.face)
        strokeCircle(cx: cx, cy: cy, radius: radius, thickness: max(1, radius * 0.1), style.rim)
        for tick in 0..<12 {
            let angle = Double(tick) * Double.pi / 6
            let outer = radius * 0.86
            let inner = radius * (tick % 3 == 0 ? 0.62 : 0.74)
            let (s, c) = (Float(sin(angle)), Float(-cos(angle)))
            line(
                from: (cx + s * inner, cy + c * inner), to: (cx + s * outer, cy + c * outer),
                thickness: tick % 3 == 0 ? 1.3 : 0.9, style.ticks)
        }
        let minuteAngle = Double(minute) / 60 * 2 * Double.pi
        let hourAngle = (Double(hour % 12) + Double(minute) / 60) / 12 * 2 * Double.pi
        let hourLength = radius * 0.5
        let minuteLength = radius * 0.84
        line(
            from: (cx, cy), to: (cx + Float(sin(hourAngle)) * hourLength, cy - Float(cos(hourAngle)) * hourLength),
            thickness: max(2, radius * 0.17), style.hands)
        line(
            from: (cx, cy),
            to: (cx + Float(sin(minuteAngle)) * minuteLength, cy - Float(cos(minuteAngle)) * minuteLength),
            thickness: max(1, radius * 0.08), style.minuteHand ?? style.hands)
        fillCircle(cx: cx, cy: cy, radius: max(1, radius * 0.09), style.hands)
    }
}
