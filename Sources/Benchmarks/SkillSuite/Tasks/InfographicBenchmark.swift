import Kernel

/// Held-out ability `infographic`: icons with numbers next to them, in the cells of a 2x2 panel.
/// Questions ask the number for an icon (a digit) or which icon has the largest number (an icon name).
public final class InfographicBenchmark: ProceduralBenchmark {
    public struct Options: Sendable {
        /// Icons per picture (2...4).
        public var iconCount = 3
        public init() {}
    }

    public let name = "infographic"
    public let role = BenchmarkRole.heldOut
    public let summary = "icons with numbers: the number for an icon, or the icon with the largest number"
    public let imageSize: Int
    public let options: Options

    public init(imageSize: Int = 32, options: Options = Options()) {
        precondition((2...4).contains(options.iconCount), "infographic: iconCount must be in 2...4")
        self.imageSize = imageSize
        self.options = options
    }

    static let numberTemplates = [
        "What number is next to the {icon}?", "What is the number for the {icon}?",
        "Which number does the {icon} have?",
    ]
    static let largestTemplates = ["Which icon has the largest number?", "Which icon has the highest number?"]

    public var words: Set<String> {
        Prompting.descriptionWords.union(
            Prompting.words(
                Self.numberTemplates + Self.largestTemplates + ["icons:"]
                    + Icon.allCases.map(\.rawValue) + (0...9).map(String.init)))
    }

    public func draft(_ rng: inout RandomGenerator) -> Draft {
        let n = options.iconCount
        let icons = rng.sample(Icon.allCases, n)
        let cells = rng.sample(Array(0..<4), n)
        let numbers = rng.sample(Array(0...9), n)  // distinct, so "largest" has one answer
        let panel = rng.pick(Prompting.lightBackgrounds)
        let prompt: String
        let answer: String
        if rng.chance(0.7) {
            let i = rng.int(below: n)
            prompt = Prompting.prompt(rng.pick(Self.numberTemplates), ["icon": icons[i].rawValue])
            answer = String(numbers[i])
        } else {
            prompt = Prompting.prompt(rng.pick(Self.largestTemplates))
            answer = icons[numbers.firstIndex(of: numbers.max()!)!].rawValue
        }
        let rows = (0..<n).map { _ in rng.int(in: 0...1) }
        let size = imageSize
        // Icons in reading order (top left, top right, bottom left, bottom right), each with its number.
        let description =
            "icons: "
            + (0..<n).sorted { cells[$0] < cells[$1] }.map { "\(icons[$0].rawValue) \(numbers[$0])" }
            .joined(separator: ", ") + "."
        let highest = numbers.max()!
        let details = (0..<n).map { i in
            Draft.Detail(
                subject: icons[i].rawValue,
                text: "the \(icons[i].rawValue) has \(numbers[i])"
                    + (numbers[i] == highest ? ", the highest number." : "."))
        }
        return Draft(prompt: prompt, answer: answer, description: description, details: details) {
            var canvas = Canvas(size: size, background: RGB(250, 250, 250))
            for c in 0..<4 {
                canvas.fillRect(x: Float(c % 2) * 16 + 0.5, y: Float(c / 2) * 16 + 0.5, width: 15, height: 15, panel)
            }
            for i in 0..<n {
                let x = Float(cells[i] % 2) * 16
                let y = Float(cells[i] / 2) * 16
                // Icon and number each in one cell of the 8-unit grid, in the upper or lower half of the panel.
                let row = Float(rows[i] * 8)
                canvas.icon(icons[i], x: x + 0.5, y: y + row + 0.5)
                canvas.text(String(numbers[i]), x: x + 9.5, y: y + row + 0.5, RGB(20, 20, 30))
            }
            return canvas.image
        }
    }

    public func score(prediction: String, example: Example) -> Double {
        SkillScoring.integerOrWord(prediction, example.answer)
    }
}
