import Kernel

/// The built-in benchmark suite: a procedural, deterministic miniature of the study's protocol.
///
/// Five target skills in the study's order (`species`, `count`, `pathology`, `scene-text`, `clock`), eight
/// held-out abilities (`diagram`, `chart`, `document`, `infographic`, `real-world`, `seed`, `science`,
/// `mmstar`) and auxiliary `caption` data, all drawn as small RGB images (32x32 by default) with several prompt
/// templates each. Every prompt starts with `<image>` and a newline.
///
/// Text is split into words by `WordText.words(in:)` (lowercase; each digit, punctuation mark and `<image>` a
/// word of its own; so "07:45" is the five words `0 7 : 4 5`), and `vocabulary` lists every word any prompt or
/// answer of the suite can contain.
public enum SkillSuite {
    /// Knobs shared by every task.
    public struct Options: Sendable {
        /// Side of the square images, in pixels (layouts are designed on a 32x32 grid and scale with it).
        public var imageSize = 32
        public init(imageSize: Int = 32) { self.imageSize = imageSize }
    }

    /// The five target skills in the study's order.
    public static func targets(_ options: Options = Options()) -> [any ProceduralBenchmark] {
        let s = options.imageSize
        return [
            SpeciesBenchmark(imageSize: s), CountBenchmark(imageSize: s), PathologyBenchmark(imageSize: s),
            SceneTextBenchmark(imageSize: s), ClockBenchmark(imageSize: s),
        ]
    }

    /// The eight held-out abilities in the study's order.
    public static func heldOut(_ options: Options = Options()) -> [any ProceduralBenchmark] {
        let s = options.imageSize
        return [
            DiagramBenchmark(imageSize: s), ChartBenchmark(imageSize: s), DocumentBenchmark(imageSize: s),
            InfographicBenchmark(imageSize: s), RealWorldBenchmark(imageSize: s), SeedBenchmark(imageSize: s),
            ScienceBenchmark(imageSize: s), MMStarBenchmark(imageSize: s),
        ]
    }

    /// The auxiliary caption data (pretraining, and the held-out prompts of the counting-bias probe).
    public static func auxiliary(_ options: Options = Options()) -> [any ProceduralBenchmark] {
        [CaptionBenchmark(imageSize: options.imageSize)]
    }

    /// All fourteen: targets, held-out, then auxiliary.
    public static func all(_ options: Options = Options()) -> [any Benchmark] {
        targets(options) + heldOut(options) + auxiliary(options)
    }

    /// Names of the target skills, in the study's order.
    public static let targetNames = ["species", "count", "pathology", "scene-text", "clock"]
    /// Names of the held-out abilities, in the study's order.
    public static let heldOutNames = [
        "diagram", "chart", "document", "infographic", "real-world", "seed", "science", "mmstar",
    ]

    /// One benchmark by name, or nil.
    public static func benchmark(named name: String, options: Options = Options()) -> (any Benchmark)? {
        all(options).first { $0.name == name }
    }

    /// The words of `text` by the suite's rule (see `WordText`).
    public static func words(in text: String) -> [String] { WordText.words(in: text) }

    /// Number words every word-level vocabulary of the suite carries, so the counting-bias probe finds them:
    /// zero...twenty, thirty...ninety, hundred, thousand.
    public static let numberWords = [
        "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
        "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
        "eighteen", "nineteen", "twenty", "thirty", "forty", "fifty", "sixty", "seventy",
        "eighty", "ninety", "hundred", "thousand",
    ]

    /// Sorted unique words used by every task's prompts and answers (at default options), plus the letters a-z,
    /// the digits 0-9, the number words, the colour and shape names, common punctuation and `<image>`.
    public static let vocabulary: [String] = vocabulary(of: targets() + heldOut() + auxiliary())

    /// The vocabulary for tasks built with non-default options (custom word lists, shapes...): their words plus
    /// the fixed sets listed for `vocabulary`.
    public static func vocabulary(of tasks: [any ProceduralBenchmark]) -> [String] {
        var words = Set<String>()
        for task in tasks { words.formUnion(task.words) }
        words.formUnion("abcdefghijklmnopqrstuvwxyz".map(String.init))
        words.formUnion((0...9).map(String.init))
        words.formUnion(numberWords)
        words.formUnion(NamedColour.allCases.map(\.rawValue))
        words.formUnion(ShapeKind.allCases.flatMap { [$0.rawValue, $0.plural] })
        words.formUnion([".", ",", "?", ":", "!", "(", ")", "-", "'", Prompting.imagePlaceholder])
        return words.sorted()
    }
}
