import Kernel

/// Target skill 4, reading scene text: a short word or code in the 5x7 font on a sign over a cluttered scene.
///
/// Words come from a fixed list of 3-4 letter words (each a vocabulary word); codes are a letter and one or two
/// digits ("K42", read as the words "k", "4", "2"). Clutter is random muted rectangles, discs and lines. The
/// answer is the text as drawn (capitals); scoring ignores case, whitespace and a trailing period.
public final class SceneTextBenchmark: ProceduralBenchmark {
    public struct Options: Sendable {
        /// Fraction of examples showing a code instead of a word.
        public var codeFraction: Float = 0.25
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

    public var words: Set<String> { Prompting.words(Self.templates + options.words) }

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
        let textWidth = BitmapFont.width(of: text)
        let x = rng.grid(2, 30 - textWidth, step: 1)
        let y = rng.grid(3, 22, step: 1)
        let darkPlate = rng.chance(0.5)
        let plate =
            darkPlate
            ? RGB(30, 40, 60).mixed(with: RGB(70, 20, 20), rng.grid(0, 1, step: 0.5))
            : RGB(245, 240, 225).mixed(with: RGB(250, 230, 120), rng.grid(0, 1, step: 0.5))
        let ink = darkPlate ? RGB(250, 250, 250) : RGB(15, 15, 15)
        let template = rng.pick(Self.templates)
        let size = imageSize
        return Draft(prompt: Prompting.prompt(template), answer: text) {
            var canvas = Canvas(size: size, background: background)
            for item in clutter { item.draw(&canvas) }
            canvas.fillRect(x: x - 1.5, y: y - 1.5, width: textWidth + 3, height: 10, plate)
            canvas.text(text, x: x, y: y, ink)
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
