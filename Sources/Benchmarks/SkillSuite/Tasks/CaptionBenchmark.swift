import Kernel

/// Auxiliary `caption` data: describe the objects, left to right ("a red circle, an orange square and a green
/// triangle."). Used in pretraining and as the held-out prompts of the counting-bias probe; scored by the F1 of
/// the (colour, shape) pairs named, so a partly right caption earns part of the point.
public final class CaptionBenchmark: ProceduralBenchmark {
    public struct Options: Sendable {
        /// Largest number of objects (1...3).
        public var maxObjects = 3
        public init() {}
    }

    public let name = "caption"
    public let role = BenchmarkRole.auxiliary
    public let summary = "describe the objects left to right (captions for pretraining and the counting-bias probe)"
    public let imageSize: Int
    public let options: Options

    public init(imageSize: Int = 32, options: Options = Options()) {
        precondition((1...3).contains(options.maxObjects), "caption: maxObjects must be in 1...3")
        self.imageSize = imageSize
        self.options = options
    }

    static let templates = [
        "Describe the image.", "What is in this picture?", "Write a short caption for this image.",
        "Describe the objects you see.",
    ]

    public var words: Set<String> {
        Prompting.words(
            Self.templates + ["a, an and."] + ShapeKind.basic.map(\.rawValue)
                + NamedColour.objectColours.map(\.rawValue))
    }

    /// "a red circle.", "a red circle and a blue square.", "a red circle, a blue square and a green triangle."
    static func caption(_ objects: [(colour: NamedColour, shape: ShapeKind)]) -> String {
        let phrases = objects.map {
            ("aeiou".contains($0.colour.rawValue.first!) ? "an " : "a ") + "\($0.colour.rawValue) \($0.shape.rawValue)"
        }
        return Prompting.list(phrases) + "."
    }

    public func draft(_ rng: inout RandomGenerator) -> Draft {
        let n = rng.int(in: 1...options.maxObjects)
        let columns = rng.sample(Array(0..<3), n).sorted()  // left to right
        var objects: [(colour: NamedColour, shape: ShapeKind)] = []
        while objects.count < n {
            let o = (colour: rng.pick(NamedColour.objectColours), shape: rng.pick(ShapeKind.basic))
            if !objects.contains(where: { $0.colour == o.colour && $0.shape == o.shape }) { objects.append(o) }
        }
        let placement = (0..<n).map { _ in (dx: rng.grid(-1, 1), y: rng.grid(7, 25), size: rng.grid(8, 10)) }
        let background = rng.pick(Prompting.lightBackgrounds)
        let size = imageSize
        return Draft(prompt: Prompting.prompt(rng.pick(Self.templates)), answer: Self.caption(objects)) {
            var canvas = Canvas(size: size, background: background)
            for i in 0..<n {
                canvas.shape(
                    objects[i].shape, cx: Float(columns[i]) * 10.5 + 5.5 + placement[i].dx, cy: placement[i].y,
                    size: placement[i].size, objects[i].colour.rgb)
            }
            return canvas.image
        }
    }

    /// The (colour, shape) pairs a caption names, in order.
    static func objectsNamed(in text: String) -> [String] {
        let words = WordText.words(in: text)
        let colours = Set(NamedColour.allCases.map(\.rawValue))
        let shapes = Set(ShapeKind.allCases.map(\.rawValue))
        var result: [String] = []
        for i in 0..<max(0, words.count - 1) where colours.contains(words[i]) && shapes.contains(words[i + 1]) {
            result.append(words[i] + " " + words[i + 1])
        }
        return result
    }

    public func score(prediction: String, example: Example) -> Double {
        let predicted = Self.objectsNamed(in: prediction)
        let reference = Self.objectsNamed(in: example.answer)
        guard !predicted.isEmpty, !reference.isEmpty else { return 0 }
        var remaining = reference
        var matched = 0
        for p in predicted {
            if let i = remaining.firstIndex(of: p) {
                remaining.remove(at: i)
                matched += 1
            }
        }
        return 2 * Double(matched) / Double(predicted.count + reference.count)
    }
}
