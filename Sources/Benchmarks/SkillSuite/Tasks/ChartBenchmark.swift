import Kernel

/// Held-out ability `chart`: bar charts with coloured bars; which bar is tallest or shortest (a colour) and
/// what a bar's value is (an integer read against grid lines at every unit).
public final class ChartBenchmark: ProceduralBenchmark {
    public struct Options: Sendable {
        /// Bars per chart (3...5).
        public var barCount = 3
        /// Values are 1...maxValue.
        public var maxValue = 5
        public init() {}
    }

    public let name = "chart"
    public let role = BenchmarkRole.heldOut
    public let summary = "bar charts: tallest/shortest bar (colour) and a bar's value (integer)"
    public let imageSize: Int
    public let options: Options

    public init(imageSize: Int = 32, options: Options = Options()) {
        precondition((3...5).contains(options.barCount), "chart: barCount must be in 3...5")
        precondition((3...8).contains(options.maxValue), "chart: maxValue must be in 3...8")
        self.imageSize = imageSize
        self.options = options
    }

    static let tallestTemplates = ["Which bar is the tallest?", "Which color has the highest bar?"]
    static let shortestTemplates = ["Which bar is the shortest?", "Which color has the lowest bar?"]
    static let valueTemplates = ["What is the value of the {colour} bar?", "How high is the {colour} bar?"]

    public var words: Set<String> {
        Prompting.descriptionWords.union(Prompting.words(["bars from the left"])).union(
            Prompting.words(
                Self.tallestTemplates + Self.shortestTemplates + Self.valueTemplates
                    + NamedColour.objectColours.map(\.rawValue) + (0...9).map(String.init)))
    }

    public func draft(_ rng: inout RandomGenerator) -> Draft {
        let n = options.barCount
        let colours = rng.sample(NamedColour.objectColours, n)
        let question = rng.int(below: 3)
        var values: [Int]
        repeat {
            values = (0..<n).map { _ in rng.int(in: 1...options.maxValue) }
            // Tallest and shortest questions need a unique answer.
        } while question < 2 && values.filter({ $0 == (question == 0 ? values.max()! : values.min()!) }).count > 1
        let prompt: String
        let answer: String
        switch question {
        case 0:
            prompt = Prompting.prompt(rng.pick(Self.tallestTemplates))
            answer = colours[values.firstIndex(of: values.max()!)!].rawValue
        case 1:
            prompt = Prompting.prompt(rng.pick(Self.shortestTemplates))
            answer = colours[values.firstIndex(of: values.min()!)!].rawValue
        default:
            let i = rng.int(below: n)
            prompt = Prompting.prompt(rng.pick(Self.valueTemplates), ["colour": colours[i].rawValue])
            answer = String(values[i])
        }
        let size = imageSize
        let maxValue = options.maxValue
        let description =
            "bars from the left: " + zip(colours, values).map { "\($0.rawValue) \($1)" }.joined(separator: ", ") + "."
        // Each bar with its height, and whether it is the (unique) tallest or shortest.
        let tallest = values.max()!
        let shortest = values.min()!
        let details = (0..<n).map { i -> Draft.Detail in
            let unique = values.filter { $0 == values[i] }.count == 1
            var text = "the \(colours[i].rawValue) bar is \(values[i]) high"
            if values[i] == tallest, unique { text += ", the tallest" }
            if values[i] == shortest, unique { text += ", the shortest" }
            return Draft.Detail(subject: "\(colours[i].rawValue) bar", text: text + ".")
        }
        return Draft(prompt: prompt, answer: answer, description: description, details: details) {
            var canvas = Canvas(size: size, background: RGB(250, 250, 250))
            canvas.barChart(
                values: values, colours: colours.map(\.rgb), maxValue: maxValue,
                layout: BarChartLayout(barCount: n, maxValue: maxValue))
            return canvas.image
        }
    }

    public func score(prediction: String, example: Example) -> Double {
        SkillScoring.integerOrWord(prediction, example.answer)
    }
}
