import Kernel

/// Target skill 5, reading analog clocks: answer "HH:MM" (12-hour, zero-padded: "07:45", "12:05").
///
/// Scored as in the study: hour exact (00 and 12 agree) and minute within +-1, wrapping at 60 (59 and 00 are
/// one apart; the hour must still match). At 32x32 a minute hand cannot be read to the minute, so by default
/// minutes are multiples of 5 (`minuteStep`); the +-1 rule is kept, so the task stays the study's task at a
/// resolution a small ViT can see. Face, rim, hand and background colours and the position vary.
public final class ClockBenchmark: ProceduralBenchmark {
    public struct Options: Sendable {
        /// Minutes are multiples of this (1 for any minute; 5 by default; 15 for quarter hours).
        public var minuteStep = 5
        /// Draw the minute hand in a different colour from the hour hand (an easier variant).
        public var distinctHandColours = false
        public init() {}
    }

    public let name = "clock"
    public let role = BenchmarkRole.target
    public let summary = "read an analog clock; answer HH:MM, hour exact and minute within 1 (minutes in steps of 5)"
    public let imageSize: Int
    public let options: Options

    public init(imageSize: Int = 32, options: Options = Options()) {
        precondition(options.minuteStep >= 1 && 60 % options.minuteStep == 0, "clock: minuteStep must divide 60")
        self.imageSize = imageSize
        self.options = options
    }

    static let templates = [
        "What time does the clock show?", "What time is it? Answer as HH:MM.",
        "Read the time on this clock.", "What time is shown?",
    ]
    static let faces: [RGB] = [RGB(250, 250, 245), RGB(250, 240, 200), RGB(225, 240, 250), RGB(235, 250, 230)]
    static let darks: [RGB] = [RGB(20, 20, 20), RGB(20, 30, 90), RGB(90, 30, 20), RGB(30, 70, 40)]
    static let backgrounds: [RGB] = [
        RGB(120, 130, 150), RGB(170, 120, 100), RGB(90, 140, 110), RGB(150, 150, 150),
        RGB(200, 180, 140), RGB(80, 90, 120),
    ]

    public var words: Set<String> {
        Prompting.words(Self.templates + ["12:00", Self.describe(hour: 12, minute: 0)] + (0...9).map(String.init))
    }

    /// Where the hands point, by the numbers on the face ("a clock: the short hand points to 7, the long hand
    /// points to 9."; the short hand's number is the hour it has passed), never the time: turning hands into HH:MM
    /// is the skill.
    static func describe(hour: Int, minute: Int) -> String {
        let long = minute / 5 == 0 ? 12 : minute / 5
        return "a clock: the short hand points to \(hour), the long hand points to \(long)."
    }

    static func format(hour: Int, minute: Int) -> String {
        (hour < 10 ? "0" : "") + "\(hour):" + (minute < 10 ? "0" : "") + "\(minute)"
    }

    public func draft(_ rng: inout RandomGenerator) -> Draft {
        let hour = rng.int(in: 1...12)
        let minute = rng.int(below: 60 / options.minuteStep) * options.minuteStep
        let cx = rng.grid(15.5, 16.5)
        let cy = rng.grid(15.5, 16.5)
        let radius = rng.grid(14, 15)
        let face = rng.pick(Self.faces)
        let rim = rng.pick(Self.darks)
        let hands = rng.pick(Self.darks)
        let minuteHand: RGB? = options.distinctHandColours ? NamedColour.red.rgb : nil
        let background = rng.pick(Self.backgrounds)
        let style = ClockStyle(face: face, rim: rim, hands: hands, minuteHand: minuteHand, ticks: RGB(90, 90, 90))
        let template = rng.pick(Self.templates)
        let size = imageSize
        return Draft(
            prompt: Prompting.prompt(template), answer: Self.format(hour: hour, minute: minute),
            description: Self.describe(hour: hour, minute: minute)
        ) {
            var canvas = Canvas(size: size, background: background)
            canvas.clock(cx: cx, cy: cy, radius: radius, hour: hour, minute: minute, style: style)
            return canvas.image
        }
    }

    public func score(prediction: String, example: Example) -> Double {
        SkillScoring.clock(prediction, example.answer)
    }
}
