import Kernel

/// Target skill 4, reading scene text: a short word in the 5x7 font on a sign over a cluttered scene.
///
/// Words come from a fixed list of 3-4 letter words (each one vocabulary word, so the answer is one word the model
/// must read from 3-4 glyphs); with `codeFraction` > 0 some signs show codes instead, a letter and one or two
/// digits ("K42", read as the words "k", "4", "2"). The sign sits on the 8x8 grid with one character per cell, as
/// the document task's forms do: at 32x32 through 8x8 patches, glyphs that straddle patches at any pixel offset
/// were not learned by any recipe (llm +2 points after 480 steps). Clutter is random muted rectangles, discs and
/// lines. The answer is the text as drawn (capitals); scoring ignores case, whitespace and a trailing period.
public final class SceneTextBenchmark: ProceduralBenchmark {
    public struct Options: Sendable {
        /// Fraction of examples showing a code instead of a word (0 by default: a code's spelled description would
        /// be its answer).
        public var codeFraction: Float = 0
        /// Number of clutter objects behind the sign.
        public var clutter = 5
        /// The words that can appear.
        public var words: [String] = SceneTextBenchmark.wordList
        public init() {}
    }

    public static let wordList = [
        "STOP", "EXIT", "OPEN", "SHOP", "TAXI", "PARK", "BANK", "CAFE", "FOOD", "GATE",
        "POOL", "ROAD", "SALE", "CAT", "DOG", "SUN", "BUS", "CAR", "MAP", "PEN", "CUP",
        "BOX", "KEY", "HOT", "INN", "BAR", "ZOO", "GYM", "ART", "SPA", "TOY", "ICE",
    ]

    public let name = "scene-text"
    public let role = BenchmarkRole.target
    public let summary = "read a short word or code on a sign in a cluttered scene; exact text"
    public let imageSize: Int
    public let options: Options

    public init(imageSize: Int = 32, options: Options = Options()) {
        precondition(
            options.words.allSatisfy {
                (1...4).contains($0.count) && $0.allSatisfy { BitmapFont.characters.contains($0) }
            },
            "scene-text: words must be 1-4 characters the font draws")
        self.imageSize = imageSize
        self.options = options
    }

    static let templates = [
        "What does the sign say?", "What word is written in the image?",
        "Read the text in this image.", "What is written on the sign?",
    ]
    static let codeLetters = Array("ABCDEFGHJKLMNPRSTUVWXYZ")

    public var words: Set<String> {
        Prompting.words(
            Self.templates + options.words + options.words.map(Self.describe) + [
                Self.describe(String(Self.codeLetters) + "0123456789")
            ])
    }

    /// The text spelled out, one character at a time ("a sign: s t o p."): what the sign shows, while the answer
    /// is the word itself ("stop", one word of the vocabulary), so reading the word is the skill.
    static func describe(_ text: String) -> String {
        "a sign: " + text.lowercased().map(String.init).joined(separator: " ") + "."
    }

    public func draft(_ rng: inout RandomGenerator) -> Draft {
        let text: String
        if rng.chance(options.codeFraction) {
            let digits = rng.int(in: 1...2)
            text = String(rng.pick(Self.codeLetters)) + (0..<digits).map { _ in String(rng.int(below: 10)) }.joined()
        } else {
            text = rng.pick(options.words)
        }
        let background = RGB(UInt8(rng.int(in: 90...200)), UInt8(rng.int(in: 90...200)), UInt8(rng.int(in: 90...200)))
        let clutter = (0..<options.clutter).map { _ in Clutter(&rng) }
        // One character per 8x8 cell of the patch grid (as on the document task's forms): the sign moves by
        // whole cells, so each glyph lands in one patch of a patch-8 vision tower.
        let textWidth = BitmapFont.width(of: text, advance: 8)
        let x = Float(8 * rng.int(in: 0...(4 - text.count))) + 1.5
        let y = Float(8 * rng.int(in: 0...3)) + 0.5
        let darkPlate = rng.chance(0.5)
        let plate =
            darkPlate
            ? RGB(30, 40, 60).mixed(with: RGB(70, 20, 20), rng.grid(0, 1, step: 0.5))
            : RGB(245, 240, 225).mixed(with: RGB(250, 230, 120), rng.grid(0, 1, step: 0.5))
        let ink = darkPlate ? RGB(250, 250, 250) : RGB(15, 15, 15)
        let template = rng.pick(Self.templates)
        let size = imageSize
        return Draft(prompt: Prompting.prompt(template), answer: text, description: Self.describe(text)) {
            var canvas = Canvas(size: size, background: background)
            for item in clutter { item.draw(&canvas) }
            canvas.fillRect(x: x - 1.5, y: y - 0.5, width: textWidth + 3, height: 8, plate)
            canvas.text(text, x: x, y: y, advance: 8, ink)
            return canvas.image
        }
    }

    public func score(prediction: String, example: Example) -> Double {
        SkillScoring.text(prediction, example.answer)
    }
}

/// One random muted rectangle, disc or line behind a sign or object.
struct Clutter {
    let kind: Int
    let x: Float, y: Float, width: Float, height: Float
    let colour: RGB

    init(_ rng: inout RandomGenerator) {
        kind = rng.int(below: 3)
        x = rng.grid(0, 30)
        y = rng.grid(0, 30)
        width = rng.grid(3, 12)
        height = rng.grid(3, 12)
        colour = RGB(UInt8(rng.int(in: 60...220)), UInt8(rng.int(in: 60...220)), UInt8(rng.int(in: 60...220)))
    }

    func draw(_ canvas: inout Canvas) {
        switch kind {
        case 0: canvas.fillRect(x: x, y: y, width: width, height: height, colour)
        case 1: canvas.fillCircle(cx: x, cy: y, radius: width / 2, colour)
        default: canvas.line(from: (x, y), to: (x + width, y + height - 6), thickness: 1.5, colour)
        }
    }
}
