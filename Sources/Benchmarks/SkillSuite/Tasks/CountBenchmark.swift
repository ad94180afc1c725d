import Kernel

/// Target skill 2, object counting: "How many {shape}s are in this image?" -> "There are N {shape}s."
///
/// Up to 16 small shapes sit in the cells of a 4x4 grid (with jitter): N of the asked shape (uniform in
/// 0...maxCount, so no count dominates) and a few distractors of other shapes. Colours are random and carry no
/// information. Scored on the integer; number words are accepted ("There are twelve.").
public final class CountBenchmark: ProceduralBenchmark {
    public struct Options: Sendable {
        /// Largest count asked about (at most 16 minus `maxDistractors`).
        public var maxCount = 12
        /// Up to this many objects of other shapes.
        public var maxDistractors = 3
        /// Shapes that can be asked about and drawn.
        public var shapes: [ShapeKind] = ShapeKind.compact
        /// Object size in design units (cells are 8 units).
        public var objectSize: Float = 7
        public init() {}
    }

    public let name = "count"
    public let role = BenchmarkRole.target
    public let summary = "counting shapes (0-12) among distractors; answer 'There are N shapes.', scored on the integer"
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
        var texts = Self.templates + ["There is 1 circle.", "There are 2 circles."]
        texts += options.shapes.flatMap { [$0.rawValue, $0.plural] }
        return Prompting.words(texts)
    }

    public func draft(_ rng: inout RandomGenerator) -> Draft {
        let target = rng.pick(options.shapes)
        let count = rng.int(in: 0...options.maxCount)
        let distractors = rng.int(in: 0...options.maxDistractors)
        let others = options.shapes.filter { $0 != target }
        let cells = rng.sample(Array(0..<16), count + distractors)
        var objects: [(shape: ShapeKind, cell: Int, dx: Float, dy: Float, colour: NamedColour)] = []
        for (i, cell) in cells.enumerated() {
            let shape = i < count ? target : rng.pick(others)
            objects.append((shape, cell, rng.grid(-1, 1), rng.grid(-1, 1), rng.pick(NamedColour.objectColours)))
        }
        let background = rng.pick(Prompting.lightBackgrounds)
        let template = rng.pick(Self.templates)
        let size = imageSize
        let objectSize = options.objectSize
        return Draft(
            prompt: Prompting.prompt(template, ["plural": target.plural]),
            answer: Self.answer(count: count, shape: target)
        ) {
            var canvas = Canvas(size: size, background: background)
            for o in objects {
                let cx = Float(o.cell % 4) * 8 + 4 + o.dx
                let cy = Float(o.cell / 4) * 8 + 4 + o.dy
                canvas.shape(o.shape, cx: cx, cy: cy, size: objectSize, o.colour.rgb)
            }
            return canvas.image
        }
    }

    public func score(prediction: String, example: Example) -> Double {
        SkillScoring.integer(prediction, example.answer)
    }
}
