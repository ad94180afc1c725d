import Kernel

/// Target skill 2, object counting: "How many {shape}s are in this image?" -> "There are N {shape}s."
///
/// Circles and crosses sit centred in the cells of a 4x4 grid, one per 8-pixel patch of the vision tower: N of the
/// asked shape (uniform in 0...maxCount, so no count dominates) and at most one of the other. Colours are random and
/// carry no information. Scored on the integer; number words are accepted ("There are twelve.").
///
/// Why this layout (measured under `llm`, one 240-step stage, 300 eval examples; `count` alone after the seed-0
/// base of pretraining key version 7, which was pretrained on four shapes of size 7 with at most one distractor):
/// - Distractors: none +36 points (counting every object is easy), at most one +4; with up to three jittered
///   distractors (an earlier base) one gave +26, two +1, three +3: the language model counts the objects but
///   cannot tell which of them are the asked shape.
/// - Shapes at 7 units: circle, square, triangle and cross ended at 66% (+4; counts 0-4 instead of 0-6: +10),
///   circle and cross at 83%. Larger: four shapes at 8 units ended at 68%, three at 7.5 at 67-78%, two at 7.5 at
///   69-96% (circle and cross 94%, circle and square 96%, triangle and cross 69%). A 7-unit disc is rows of 2, 6,
///   6, 8, 8, 6, 6, 2 pixels, close to a plus; at 7.5 (the same pixels as at 8) it is 4, 6, 8, 8, 8, 8, 6, 4.
/// So the task asks about two shapes that differ in every row, drawn at 7.5.
public final class CountBenchmark: ProceduralBenchmark {
    public struct Options: Sendable {
        /// Largest count asked about (at most 16 minus `maxDistractors`).
        public var maxCount = 6
        /// Up to this many objects of other shapes.
        public var maxDistractors = 1
        /// Shapes that can be asked about and drawn.
        public var shapes: [ShapeKind] = [.circle, .cross]
        /// Object size in design units (cells are 8 units).
        public var objectSize: Float = 7.5
        public init() {}
    }

    public let name = "count"
    public let role = BenchmarkRole.target
    public let summary =
        "counting circles or crosses (0-6) beside at most one of the other; 'There are N crosses.', scored on the integer"
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
