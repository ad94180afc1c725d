import Kernel

/// Target skill 3, pathology VQA on textured "tissue" patches (H&E-like pink and purple).
///
/// Each patch shows one tissue pattern (striped, dotted, checkered, speckled, wavy) with random period, phase,
/// orientation and stain shades, and half the patches carry a dark lesion. Questions: the open "which pattern"
/// (answer one pattern word), "does it show a {pattern} pattern" (yes/no, balanced) and "is there a lesion"
/// (yes/no, balanced). Colours are shared by all patterns, so only the texture tells them apart.
public final class PathologyBenchmark: ProceduralBenchmark {
    public enum Pattern: String, CaseIterable, Sendable { case striped, dotted, checkered, speckled, wavy }

    public struct Options: Sendable {
        /// The patterns that occur (at least two).
        public var patterns: [Pattern] = Pattern.allCases
        /// Probability that a patch has a lesion.
        public var lesionProbability: Float = 0.5
        public init() {}
    }

    public let name = "pathology"
    public let role = BenchmarkRole.target
    public let summary = "tissue-texture patches: which pattern (open) and yes/no questions on pattern and lesions"
    public let imageSize: Int
    public let options: Options

    public init(imageSize: Int = 32, options: Options = Options()) {
        precondition(options.patterns.count >= 2, "pathology: needs at least two patterns")
        self.imageSize = imageSize
        self.options = options
    }

    static let openTemplates = [
        "Which pattern does this tissue show?", "What kind of texture is in this tissue sample?",
        "Describe the tissue pattern in one word.",
    ]
    static let patternTemplates = [
        "Does this tissue show a {pattern} pattern?", "Is the tissue {pattern}?",
        "Is this sample {pattern}? Answer yes or no.",
    ]
    static let lesionTemplates = [
        "Is there a lesion in this tissue?", "Does this sample contain a dark lesion?",
        "Is a lesion visible? Answer yes or no.",
    ]

    public var words: Set<String> {
        Prompting.words(
            Self.openTemplates + Self.patternTemplates + Self.lesionTemplates + ["yes", "no"]
                + options.patterns.map(\.rawValue))
    }

    func texture(_ pattern: Pattern, _ rng: inout RandomGenerator) -> Texture {
        switch pattern {
        case .striped:
            let period = rng.grid(4, 6, step: 1)
            return .stripes(direction: rng.int(below: 4), period: period, ink: period / 2, phase: rng.grid(0, 5))
        case .dotted:
            return .dots(spacing: rng.grid(5, 7, step: 1), radius: rng.grid(1.2, 1.8, step: 0.3), phase: rng.grid(0, 5))
        case .checkered:
            return .checker(cell: rng.grid(3, 5, step: 1), phase: rng.grid(0, 4))
        case .speckled:
            return .noise(cell: 1, density: rng.grid(0.3, 0.45, step: 0.05), seed: rng.next())
        case .wavy:
            return .waves(
                period: rng.grid(5, 6), ink: rng.grid(2, 2.5), wavelength: rng.grid(10, 16, step: 1),
                amplitude: rng.grid(1.5, 2.5), phase: rng.grid(0, 5))
        }
    }

    public func draft(_ rng: inout RandomGenerator) -> Draft {
        let pattern = rng.pick(options.patterns)
        let tex = texture(pattern, &rng)
        let ground = RGB(235, 180, 205).mixed(with: RGB(245, 205, 225), rng.grid(0, 1, step: 0.25))
        let ink = RGB(125, 55, 150).mixed(with: RGB(160, 80, 170), rng.grid(0, 1, step: 0.25))
        let hasLesion = rng.chance(options.lesionProbability)
        let lesion = (x: rng.grid(7, 25), y: rng.grid(7, 25), r: rng.grid(3, 4.5))
        let prompt: String
        let answer: String
        switch rng.int(below: 3) {
        case 0:
            prompt = Prompting.prompt(rng.pick(Self.openTemplates))
            answer = pattern.rawValue
        case 1:
            let yes = rng.chance(0.5)
            let asked = yes ? pattern : rng.pick(options.patterns.filter { $0 != pattern })
            prompt = Prompting.prompt(rng.pick(Self.patternTemplates), ["pattern": asked.rawValue])
            answer = yes ? "yes" : "no"
        default:
            prompt = Prompting.prompt(rng.pick(Self.lesionTemplates))
            answer = hasLesion ? "yes" : "no"
        }
        let size = imageSize
        return Draft(prompt: prompt, answer: answer) {
            var canvas = Canvas(size: size, background: ground)
            canvas.fill(tex, ink: ink, ground: nil)
            if hasLesion {
                canvas.fillCircle(cx: lesion.x, cy: lesion.y, radius: lesion.r, RGB(70, 15, 60))
                canvas.strokeCircle(
                    cx: lesion.x, cy: lesion.y, radius: lesion.r + 0.8, thickness: 0.8, RGB(110, 40, 90))
            }
            return canvas.image
        }
    }

    public func score(prediction: String, example: Example) -> Double {
        ["yes", "no"].contains(example.answer)
            ? SkillScoring.yesNo(prediction, example.answer)
            : SkillScoring.word(prediction, example.answer)
    }
}
