import Kernel

/// Held-out ability `seed`: broad four-way multiple choice (A-D) on colour, shape and position.
///
/// Objects of different shapes and colours, one per quadrant. Questions: the colour of a shape, the shape of a
/// colour, or where an object is (top left ... bottom right). Each kind of question has exactly four possible
/// answers (red/green/blue/yellow, circle/square/triangle/cross, the four quadrants), all listed as options, so
/// the text is the same whatever the picture and the right letter is uniform over A-D. By default the options
/// keep that fixed order: binding shuffled option texts to letters takes a model trained from scratch far longer
/// (measured with a 3-layer ViT-style proxy on this task alone, batch 32: shuffled options still at chance
/// after 1000 steps; fixed order 52% and rising). `shuffleOptions` restores the harder, shuffled form.
public final class SeedBenchmark: ProceduralBenchmark {
    public struct Options: Sendable {
        /// Objects per picture (1...4).
        public var objectCount = 2
        /// List the options in random order (harder) instead of a fixed order.
        public var shuffleOptions = false
        public init() {}
    }

    public let name = "seed"
    public let role = BenchmarkRole.heldOut
    public let summary = "broad multiple choice (A-D) on colour, shape and position"
    public let imageSize: Int
    public let options: Options

    public init(imageSize: Int = 32, options: Options = Options()) {
        precondition((1...4).contains(options.objectCount), "seed: objectCount must be in 1...4")
        self.imageSize = imageSize
        self.options = options
    }

    static let colourQuestions = ["What color is the {shape}?", "Which color does the {shape} have?"]
    static let shapeQuestions = ["What shape is the {colour} object?", "Which shape is {colour}?"]
    static let positionQuestions = [
        "Where is the {colour} {shape}?", "In which part of the image is the {colour} {shape}?",
    ]
    static let instructions = ["Answer with the letter.", "Answer with the option's letter.", "Choose A, B, C or D."]
    static let places = ["top left", "top right", "bottom left", "bottom right"]

    public var words: Set<String> {
        Prompting.descriptionWords.union(Prompting.words(["a an at the , and ."])).union(
            Prompting.words(
                Self.colourQuestions + Self.shapeQuestions + Self.positionQuestions + Self.instructions + Self.places
                    + Prompting.choiceShapes.map(\.rawValue) + Prompting.choiceColours.map(\.rawValue)
                    + Prompting.optionLetters.prefix(4).map { "\($0)." }))
    }

    public func draft(_ rng: inout RandomGenerator) -> Draft {
        let n = options.objectCount
        let shapes = rng.sample(Prompting.choiceShapes, n)
        let colours = rng.sample(Prompting.choiceColours, n)
        let quadrants = rng.sample(Array(0..<4), n)
        // Each 8-unit shape fills one cell of the 8-unit grid (one of the four cells of its quadrant), so a
        // patch-8 vision tower sees a whole object in one patch.
        let offsets = (0..<n).map { _ in
            (x: Float(rng.int(in: 0...1) * 8 - 4), y: Float(rng.int(in: 0...1) * 8 - 4), size: Float(8))
        }
        let background = rng.pick(Prompting.lightBackgrounds)
        let target = rng.int(below: n)
        let question: String
        let correct: String
        let pool: [String]
        switch rng.int(below: 3) {
        case 0:
            question = Prompting.fill(rng.pick(Self.colourQuestions), ["shape": shapes[target].rawValue])
            correct = colours[target].rawValue
            pool = Prompting.choiceColours.map(\.rawValue)
        case 1:
            question = Prompting.fill(rng.pick(Self.shapeQuestions), ["colour": colours[target].rawValue])
            correct = shapes[target].rawValue
            pool = Prompting.choiceShapes.map(\.rawValue)
        default:
            question = Prompting.fill(
                rng.pick(Self.positionQuestions),
                ["colour": colours[target].rawValue, "shape": shapes[target].rawValue])
            correct = Self.places[quadrants[target]]
            pool = Self.places
        }
        let (options, letterIndex) = Prompting.choices(correct, from: pool, shuffled: self.options.shuffleOptions, &rng)
        let prompt = Prompting.prompt(
            Prompting.multipleChoice(question, options: options, instruction: rng.pick(Self.instructions)))
        let size = imageSize
        // "an orange diamond at the top left and a red square at the bottom right." (quadrant order)
        let phrases = (0..<n).sorted { quadrants[$0] < quadrants[$1] }.map { i -> String in
            let article = "aeiou".contains(colours[i].rawValue.first!) ? "an" : "a"
            return "\(article) \(colours[i].rawValue) \(shapes[i].rawValue) at the \(Self.places[quadrants[i]])"
        }
        let description = Prompting.list(phrases) + "."
        // Each object asked for by its shape or by its colour (both unique in the picture).
        let details = (0..<n).flatMap { i -> [Draft.Detail] in
            let text = "\(colours[i].rawValue) \(shapes[i].rawValue) at the \(Self.places[quadrants[i]])."
            return [
                Draft.Detail(subject: shapes[i].rawValue, text: "the " + text),
                Draft.Detail(subject: "\(colours[i].rawValue) object", text: "the " + text),
            ]
        }
        return Draft(
            prompt: prompt, answer: Prompting.optionLetters[letterIndex], description: description, details: details
        ) {
            var canvas = Canvas(size: size, background: background)
            for i in 0..<n {
                let cx = Float(quadrants[i] % 2) * 16 + 8 + offsets[i].x
                let cy = Float(quadrants[i] / 2) * 16 + 8 + offsets[i].y
                canvas.shape(shapes[i], cx: cx, cy: cy, size: offsets[i].size, colours[i].rgb)
            }
            return canvas.image
        }
    }

    public func score(prediction: String, example: Example) -> Double {
        SkillScoring.letter(prediction, example.answer)
    }
}
