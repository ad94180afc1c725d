import Kernel

/// Held-out ability `mmstar`: harder four-way multiple choice (A-D) that needs the whole picture: which colour
/// appears most often among several objects, which shape is the largest, which colour is missing. As in
/// `seed`, the four options are all possible answers (four colours, four shapes) in a fixed order by default
/// (`shuffleOptions` for random order), so the text is the same whatever the picture and every letter is
/// equally likely.
public final class MMStarBenchmark: ProceduralBenchmark {
    public struct Options: Sendable {
        /// Objects in the "most often" pictures (4...8).
        public var crowdSize = 5
        /// List the options in random order (harder) instead of a fixed order.
        public var shuffleOptions = false
        public init() {}
    }

    public let name = "mmstar"
    public let role = BenchmarkRole.heldOut
    public let summary = "hard multiple choice (A-D): most frequent colour, largest shape, missing colour"
    public let imageSize: Int
    public let options: Options

    public init(imageSize: Int = 32, options: Options = Options()) {
        precondition((4...8).contains(options.crowdSize), "mmstar: crowdSize must be in 4...8")
        self.imageSize = imageSize
        self.options = options
    }

    static let frequentQuestions = [
        "Which color appears most often in the image?", "Which color do most objects have?",
    ]
    static let largestQuestions = ["Which shape is the largest?", "Which is the biggest shape in the image?"]
    static let missingQuestions = [
        "Which color does not appear in the image?", "Which color is missing from the picture?",
    ]
    static let instructions = ["Answer with the letter.", "Choose A, B, C or D."]

    public var words: Set<String> {
        Prompting.descriptionWords.union(Prompting.words(["big , ."])).union(
            Prompting.words(
                Self.frequentQuestions + Self.largestQuestions + Self.missingQuestions + Self.instructions
                    + Prompting.choiceShapes.map(\.rawValue) + Prompting.choiceColours.map(\.rawValue) + ["A. B. C. D."]
            ))
    }

    struct Item {
        let shape: ShapeKind
        let colour: NamedColour
        let cell: Int
        let size: Float
    }

    public func draft(_ rng: inout RandomGenerator) -> Draft {
        let background = rng.pick(Prompting.lightBackgrounds)
        var items: [Item] = []
        let question: String
        let correct: String
        let pool: [String]
        switch rng.int(below: 3) {
        case 0:
            // The majority colour has 3 objects; every other colour at most 2.
            let n = options.crowdSize
            let colours = rng.sample(Prompting.choiceColours, 4)
            var assigned = [colours[0], colours[0], colours[0]]
            while assigned.count < n {
                let c = rng.pick(Array(colours.dropFirst()))
                if assigned.filter({ $0 == c }).count < 2 { assigned.append(c) }
            }
            let cells = rng.sample(Array(0..<16), n)
            items = (0..<n).map {
                Item(shape: rng.pick(Prompting.choiceShapes), colour: assigned[$0], cell: cells[$0], size: 6)
            }
            question = rng.pick(Self.frequentQuestions)
            correct = colours[0].rawValue
            pool = Prompting.choiceColours.map(\.rawValue)
        case 1:
            let shapes = rng.sample(Prompting.choiceShapes, rng.int(in: 2...3))
            let quadrants = rng.sample(Array(0..<4), shapes.count)
            let colours = (0..<shapes.count).map { _ in rng.pick(Prompting.choiceColours) }
            items = (0..<shapes.count).map {
                Item(shape: shapes[$0], colour: colours[$0], cell: quadrants[$0], size: $0 == 0 ? 14 : 6)
            }
            question = rng.pick(Self.largestQuestions)
            correct = shapes[0].rawValue
            pool = Prompting.choiceShapes.map(\.rawValue)
        default:
            let colours = rng.sample(Prompting.choiceColours, 4)  // the last one is missing
            let present = Array(colours.prefix(3))
            let cells = rng.sample(Array(0..<16), rng.int(in: 3...5))
            items = cells.enumerated().map { i, cell in
                Item(
                    shape: rng.pick(Prompting.choiceShapes), colour: i < 3 ? present[i] : rng.pick(present), cell: cell,
                    size: 6)
            }
            question = rng.pick(Self.missingQuestions)
            correct = colours[3].rawValue
            pool = Prompting.choiceColours.map(\.rawValue)
        }
        let quadrantLayout = items.count <= 4 && items.contains { $0.size > 8 }
        let (choices, letterIndex) = Prompting.choices(correct, from: pool, shuffled: options.shuffleOptions, &rng)
        let prompt = Prompting.prompt(
            Prompting.multipleChoice(question, options: choices, instruction: rng.pick(Self.instructions)))
        let size = imageSize
        // Every object in reading order, the large one marked: "big red square, blue circle, green cross."
        let description =
            items.sorted { $0.cell < $1.cell }
            .map { ($0.size > 8 ? "big " : "") + "\($0.colour.rawValue) \($0.shape.rawValue)" }.joined(separator: ", ")
            + "."
        return Draft(prompt: prompt, answer: Prompting.optionLetters[letterIndex], description: description) {
            var canvas = Canvas(size: size, background: background)
            for item in items {
                let (cx, cy): (Float, Float) =
                    quadrantLayout
                    ? (Float(item.cell % 2) * 16 + 8, Float(item.cell / 2) * 16 + 8)
                    : (Float(item.cell % 4) * 8 + 4, Float(item.cell / 4) * 8 + 4)
                canvas.shape(item.shape, cx: cx, cy: cy, size: item.size, item.colour.rgb)
            }
            return canvas.image
        }
    }

    public func score(prediction: String, example: Example) -> Double {
        SkillScoring.letter(prediction, example.answer)
    }
}
