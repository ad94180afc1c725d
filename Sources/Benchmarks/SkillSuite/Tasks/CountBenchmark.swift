import Kernel

/// Target skill 2, object counting: "How many {shape}s are in this image?" -> "There are N {shape}s."
///
/// Small shapes sit centred in the cells of a 4x4 grid, one per 8-pixel patch of the vision tower: N of the asked
/// shape (uniform in 0...maxCount, so no count dominates) and at most one distractor of another shape. Colours are
/// random and carry no information. Scored on the integer; number words are accepted ("There are twelve.").
///
/// Why at most one distractor and no jitter (measured under `llm`, one 240-step stage, 300 eval examples, on a base
/// pretrained with up to three jittered distractors): no distractor +76 points (counting every object is easy),
/// one +26, one without jitter +32, two +1, three +3. With two or more the stage teaches next to nothing: the
/// language model counts the objects but cannot tell which of them are the asked shape.
public final class CountBenchmark: ProceduralBenchmark {
    public struct Options: Sendable {
        /// Largest count asked about (at most 16 minus `maxDistractors`).
        public var maxCount = 6
        /// Up to this many objects of other shapes.
        public var maxDistractors = 1
        /// Shapes that can be asked about and drawn.
        public var shapes: [ShapeKind] = ShapeKind.compact
        /// Object size in design units (cells are 8 units).
        public var objectSize: Float = 7
        public init() {}
    }

    public let name = "count"
    public let role = BenchmarkRole.target
    public let summary = "counting shapes (0-6) beside at most one other; 'There are N shapes.', scored on the integer"
    public let imageSize: Int
    public let options: Options

    public init(imageSize: Int = 32, options: Options = Options()) {
        precondition(
            options.maxCount + options.maxDistractors <= 16, "count: maxCount + maxDistractors must fit 16 cells")
        precondition(options.shapes.count >= 2, "count: needs at least two shapes")
        self.imageSize = imageSize
        self.options = options
    }

    static let templates = [
        "How many {plural} are in this image?", "How many {plural} are there?",
        "Count the {plural} in the picture.", "How many {plural} can you see?",
    ]

    static func answer(count: Int, shape: ShapeKind) -> String {
        count == 1 ? "There is 1 \(shape.rawValue)." : "There are \(count) \(shape.plural)."
    }

    public var words: Set<String> {
        var texts = Self.templates + ["There is 1 circle.", "There are 2 circles.", "objects: none, red circle."]
        texts += options.shapes.flatMap { [$0.rawValue, $0.plural] }
        texts += NamedColour.objectColours.map(\.rawValue)
        return Prompting.words(texts)
    }

    public func draft(_ rng: inout RandomGenerator) -> Draft {
        let target = rng.pick(options.shapes)
        let count = rng.int(in: 0...options.maxCount)
        let distractors = rng.int(in: 0...options.maxDistractors)
        let others = options.shapes.filter { $0 != target }
        let cells = rng.sample(Array(0..<16), count + distractors)
        var objects: [(shape: ShapeKind, cell: Int, colour: NamedColour)] = []
        for (i, cell) in cells.enumerated() {
            let shape = i < count ? target : rng.pick(others)
            objects.append((shape, cell, rng.pick(NamedColour.objectColours)))
        }
        // Every object in reading order ("objects: red square, blue circle."), never how many: counting is the skill.
        let listed = objects.sorted { $0.cell < $1.cell }.map { "\($0.colour.rawValue) \($0.shape.rawValue)" }
        let description = "objects: " + (listed.isEmpty ? "none" : listed.joined(separator: ", ")) + "."
        let background = rng.pick(Prompting.lightBackgrounds)
        let template = rng.pick(Self.templates)
        let size = imageSize
        let objectSize = options.objectSize
        return Draft(
            prompt: Prompting.prompt(template, ["plural": target.plural]),
            answer: Self.answer(count: count, shape: target), description: description
        ) {
            var canvas = Canvas(size: size, background: background)
            for o in objects {
                let cx = Float(o.cell % 4) * 8 + 4
                let cy = Float(o.cell / 4) * 8 + 4
                canvas.shape(o.shape, cx: cx, cy: cy, size: objectSize, o.colour.rgb)
            }
            return canvas.image
        }
    }

    public func score(prediction: String, example: Example) -> Double {
        SkillScoring.integer(prediction, example.answer)
    }
}
