import Kernel

/// Held-out ability `diagram`: what does the arrow point to?
///
/// Shapes sit at up to four places around the centre (top, right, bottom, left); an arrow in the middle points
/// at one of them. Questions ask the shape's name or its colour (all shapes and colours in a picture differ).
public final class DiagramBenchmark: ProceduralBenchmark {
    public struct Options: Sendable {
        /// Number of shapes around the arrow (2...4).
        public var shapeCount = 3
        public init() {}
    }

    public let name = "diagram"
    public let role = BenchmarkRole.heldOut
    public let summary = "which shape (or colour) an arrow points to"
    public let imageSize: Int
    public let options: Options

    public init(imageSize: Int = 32, options: Options = Options()) {
        precondition((2...4).contains(options.shapeCount), "diagram: shapeCount must be in 2...4")
        self.imageSize = imageSize
        self.options = options
    }

    static let shapeTemplates = [
        "What does the arrow point to?", "Which shape is the arrow pointing at?",
        "Name the shape the arrow points to.",
    ]
    static let colourTemplates = [
        "What color is the shape the arrow points to?",
        "The arrow points to a shape. What color is it?",
    ]
    static let slotNames = ["top", "right", "bottom", "left"]
    static let directions = ["up", "right", "down", "left"]
    /// Slot centres: top, right, bottom, left.
    static let slots: [(x: Float, y: Float)] = [(16, 5), (27, 16), (16, 27), (5, 16)]

    public var words: Set<String> {
        Prompting.descriptionWords.union(Prompting.words(["the arrow points up down :"])).union(
            Prompting.words(
                Self.shapeTemplates + Self.colourTemplates + ShapeKind.basic.map(\.rawValue)
                    + NamedColour.objectColours.map(\.rawValue)))
    }

    public func draft(_ rng: inout RandomGenerator) -> Draft {
        let occupied = rng.sample(Array(0..<4), options.shapeCount)
        let shapes = rng.sample(ShapeKind.basic, options.shapeCount)
        let colours = rng.sample(NamedColour.objectColours, options.shapeCount)
        let target = rng.int(below: options.shapeCount)
        let background = rng.pick(Prompting.lightBackgrounds)
        let askColour = rng.chance(0.4)
        let prompt = Prompting.prompt(rng.pick(askColour ? Self.colourTemplates : Self.shapeTemplates))
        let answer = askColour ? colours[target].rawValue : shapes[target].rawValue
        let slot = occupied[target]
        let size = imageSize
        // "the arrow points up. top: yellow square, left: blue diamond." (the shapes clockwise from the top)
        let description =
            "the arrow points \(Self.directions[slot]). "
            + (0..<shapes.count).sorted { occupied[$0] < occupied[$1] }
            .map { "\(Self.slotNames[occupied[$0]]): \(colours[$0].rawValue) \(shapes[$0].rawValue)" }.joined(
                separator: ", ") + "."
        return Draft(prompt: prompt, answer: answer, description: description) {
            var canvas = Canvas(size: size, background: background)
            for i in 0..<shapes.count {
                let c = Self.slots[occupied[i]]
                canvas.shape(shapes[i], cx: c.x, cy: c.y, size: 8, colours[i].rgb)
            }
            // The arrow runs from just behind the centre out towards its shape, so where its body lies (not only
            // the few pixels of its head) tells the direction.
            let d = Self.slots[slot]
            let ux = (d.x - 16) / 11
            let uy = (d.y - 16) / 11
            canvas.arrow(
                from: (16 - ux * 2, 16 - uy * 2), to: (16 + ux * 6.5, 16 + uy * 6.5), thickness: 1.8,
                headLength: 4, headWidth: 6, RGB(25, 25, 25))
            return canvas.image
        }
    }

    public func score(prediction: String, example: Example) -> Double {
        SkillScoring.word(prediction, example.answer)
    }
}
