import Kernel

/// Held-out ability `science`: comparisons that need the picture: which side of a balance is heavier, which
/// beaker holds more (or less) liquid, which thermometer is warmer (or colder), which ball is bigger (or smaller).
/// Answers are "left"/"right" (balanced) or a ball's colour (the prompt names both colours in random order).
public final class ScienceBenchmark: ProceduralBenchmark {
    public struct Options: Sendable {
        /// Smallest difference between the two compared quantities, in design units.
        public var minimumDifference: Float = 4
        public init() {}
    }

    public let name = "science"
    public let role = BenchmarkRole.heldOut
    public let summary = "science comparisons from the picture: balance, beakers, thermometers, ball sizes"
    public let imageSize: Int
    public let options: Options

    public init(imageSize: Int = 32, options: Options = Options()) {
        precondition(
            options.minimumDifference >= 2 && options.minimumDifference <= 8,
            "science: minimumDifference must be in 2...8")
        self.imageSize = imageSize
        self.options = options
    }

    static let balanceTemplates = [
        "Which side of the scale is heavier?", "Which side of the balance holds the heavier load?",
    ]
    static let beakerTemplates = ["Which beaker holds {more} liquid?", "Which glass has {more} water?"]
    static let thermometerTemplates = [
        "Which thermometer shows the {higher} temperature?", "Which thermometer is {warmer}?",
    ]
    static let ballTemplates = [
        "Which ball is {bigger}, the {a} one or the {b} one?", "Which is the {bigger} ball: {a} or {b}?",
    ]

    public var words: Set<String> {
        Prompting.descriptionWords.union(
            Prompting.words([
                "a balance ; the side is heavier and lower two beakers one holds more liquid thermometers warmer big small ball on ."
            ])
        ).union(
            Prompting.words(
                Self.balanceTemplates + Self.beakerTemplates + Self.thermometerTemplates + Self.ballTemplates
                    + ["more less higher lower warmer colder bigger smaller left right"]
                    + NamedColour.objectColours.map(\.rawValue)))
    }

    /// Two levels in `low...high` at least `minimumDifference` apart, the first the larger when `firstLarger`.
    func pair(_ rng: inout RandomGenerator, _ low: Float, _ high: Float, firstLarger: Bool) -> (Float, Float) {
        var a: Float
        var b: Float
        repeat {
            a = rng.grid(low, high)
            b = rng.grid(low, high)
        } while abs(a - b) < options.minimumDifference
        return (a > b) == firstLarger ? (a, b) : (b, a)
    }

    public func draft(_ rng: inout RandomGenerator) -> Draft {
        let leftWins = rng.chance(0.5)  // whether the answer is "left" (or the left ball)
        let asksLess = rng.chance(0.5)
        let background = rng.pick(Prompting.lightBackgrounds)
        let kind = rng.int(below: 4)
        var prompt: String
        var answer = leftWins ? "left" : "right"
        var description: String
        let drawing: (inout Canvas) -> Void
        switch kind {
        case 0:
            let tilt = rng.grid(2.5, 4.5) * (leftWins ? 1 : -1)  // the heavier side goes down
            let (big, small) = (rng.grid(4, 6), rng.grid(2, 3))
            prompt = Prompting.prompt(rng.pick(Self.balanceTemplates))
            description = "a balance; the \(leftWins ? "left" : "right") side is heavier and lower."
            drawing = { canvas in
                let left = (x: Float(5), y: 15 + tilt)
                let right = (x: Float(27), y: 15 - tilt)
                canvas.fillPolygon([(16, 15), (20, 29), (12, 29)], RGB(90, 90, 100))
                canvas.line(from: left, to: right, thickness: 1.5, RGB(60, 60, 70))
                for (end, side) in [(left, leftWins ? big : small), (right, leftWins ? small : big)] {
                    canvas.fillRect(x: end.x - 4, y: end.y + 0.5, width: 8, height: 1.2, RGB(60, 60, 70))
                    canvas.fillRect(
                        x: end.x - side / 2, y: end.y + 0.5 - side, width: side, height: side, RGB(150, 80, 40))
                }
            }
        case 1:
            let liquidColour = rng.pick([RGB(60, 120, 230), RGB(60, 170, 120), RGB(220, 120, 40)])
            let (a, b) = pair(&rng, 3, 17, firstLarger: leftWins != asksLess)
            prompt = Prompting.prompt(rng.pick(Self.beakerTemplates), ["more": asksLess ? "less" : "more"])
            description = "two beakers; the \(a > b ? "left" : "right") one holds more liquid."
            drawing = { canvas in
                for (x, level) in [(Float(4), a), (Float(18), b)] {
                    canvas.fillRect(x: x + 1, y: 28 - level, width: 8, height: level, liquidColour)
                    canvas.strokeRect(x: x, y: 8, width: 10, height: 21, thickness: 1, RGB(80, 80, 90))
                    canvas.fillRect(x: x, y: 8, width: 10, height: 1, background)  // open top
                }
            }
        case 2:
            let (a, b) = pair(&rng, 3, 18, firstLarger: leftWins != asksLess)
            let higher = asksLess ? "lower" : "higher"
            let warmer = asksLess ? "colder" : "warmer"
            description = "two thermometers; the \(a > b ? "left" : "right") one is warmer."
            prompt = Prompting.prompt(rng.pick(Self.thermometerTemplates), ["higher": higher, "warmer": warmer])
            drawing = { canvas in
                for (x, level) in [(Float(9), a), (Float(23), b)] {
                    canvas.fillRect(x: x - 2, y: 3, width: 4, height: 23, RGB(230, 230, 235))
                    canvas.strokeRect(x: x - 2, y: 3, width: 4, height: 23, thickness: 0.8, RGB(90, 90, 100))
                    canvas.fillRect(x: x - 1, y: 25 - level, width: 2, height: level + 1, RGB(220, 30, 30))
                    canvas.fillCircle(cx: x, cy: 27.5, radius: 3, RGB(220, 30, 30))
                }
            }
        default:
            let colours = rng.sample(NamedColour.objectColours, 2)
            let (leftRadius, rightRadius) = pair(&rng, 2.5, 7.5, firstLarger: leftWins != asksLess)
            let leftY = rng.grid(10, 22)
            let rightY = rng.grid(10, 22)
            let swapNames = rng.chance(0.5)
            prompt = Prompting.prompt(
                rng.pick(Self.ballTemplates),
                [
                    "bigger": asksLess ? "smaller" : "bigger",
                    "a": colours[swapNames ? 1 : 0].rawValue, "b": colours[swapNames ? 0 : 1].rawValue,
                ])
            answer = colours[leftWins ? 0 : 1].rawValue
            let (leftSize, rightSize) = leftRadius > rightRadius ? ("big", "small") : ("small", "big")
            description =
                "a \(leftSize) \(colours[0].rawValue) ball on the left and a \(rightSize) \(colours[1].rawValue) ball on the right."
            drawing = { canvas in
                canvas.fillCircle(cx: 8.5, cy: leftY, radius: leftRadius, colours[0].rgb)
                canvas.fillCircle(cx: 23.5, cy: rightY, radius: rightRadius, colours[1].rgb)
            }
        }
        let size = imageSize
        return Draft(prompt: prompt, answer: answer, description: description) {
            var canvas = Canvas(size: size, background: background)
            drawing(&canvas)
            return canvas.image
        }
    }

    public func score(prediction: String, example: Example) -> Double {
        SkillScoring.word(prediction, example.answer)
    }
}
