import Kernel

/// Held-out ability `document`: read a field of a small form.
///
/// A paper form with a coloured header band and rows "K:7" (a field letter, a colon and its value) drawn in the
/// 5x7 font. Questions ask a field's value (digits) or, less often, which field holds a value (a letter).
public final class DocumentBenchmark: ProceduralBenchmark {
    public struct Options: Sendable {
        /// Rows on the form (2...3).
        public var rows = 2
        /// Digits per value (1 or 2).
        public var valueDigits = 1
        public init() {}
    }

    public let name = "document"
    public let role = BenchmarkRole.heldOut
    public let summary = "read a field of a small form (field letter -> digits, or value -> field letter)"
    public let imageSize: Int
    public let options: Options

    public init(imageSize: Int = 32, options: Options = Options()) {
        precondition((2...3).contains(options.rows), "document: rows must be in 2...3")
        precondition((1...2).contains(options.valueDigits), "document: valueDigits must be 1 or 2")
        self.imageSize = imageSize
        self.options = options
    }

    static let valueTemplates = [
        "What is the value of field {key}?", "What number is written next to {key}?",
        "Read field {key} of the form.",
    ]
    static let keyTemplates = ["Which field has the value {value}?", "Which field of the form shows {value}?"]
    /// Field letters (I and O are left out: they look like 1 and 0).
    static let keys = Array("ABCDEFGHJKLMNPRSTUVWXYZ").map(String.init)
    static let papers: [RGB] = [RGB(250, 250, 246), RGB(246, 240, 222), RGB(236, 242, 250)]
    static let headers: [RGB] = [RGB(60, 90, 170), RGB(170, 60, 60), RGB(60, 140, 80), RGB(120, 120, 120)]

    public var words: Set<String> {
        Prompting.descriptionWords.union(
            Prompting.words(
                Self.valueTemplates + Self.keyTemplates + Self.keys + ["fields:"]
                    + (0...9).map(String.init)))
    }

    public func draft(_ rng: inout RandomGenerator) -> Draft {
        let keys = rng.sample(Self.keys, options.rows)
        let limit = options.valueDigits == 1 ? 10 : 100
        let values = rng.sample(Array(0..<limit), options.rows).map(String.init)  // distinct values
        // Fixed positions: the form's layout is the same on every page, as a form is; only its content varies.
        let x: Float = 1.5
        let y0: Float = 8.5
        let paper = rng.pick(Self.papers)
        let header = rng.pick(Self.headers)
        let asked = rng.int(below: options.rows)
        let prompt: String
        let answer: String
        if rng.chance(0.75) {
            prompt = Prompting.prompt(rng.pick(Self.valueTemplates), ["key": keys[asked]])
            answer = values[asked]
        } else {
            prompt = Prompting.prompt(rng.pick(Self.keyTemplates), ["value": values[asked]])
            answer = keys[asked]
        }
        let size = imageSize
        let rows = options.rows
        let description = "fields: " + zip(keys, values).map { "\($0) \($1)" }.joined(separator: ", ") + "."
        // Each field asked for by its letter or by its value (values are distinct).
        let details = zip(keys, values).flatMap { key, value -> [Draft.Detail] in
            let text = "field \(key) shows \(value)."
            return [
                Draft.Detail(subject: "field \(key)", text: text), Draft.Detail(subject: "value \(value)", text: text),
            ]
        }
        return Draft(prompt: prompt, answer: answer, description: description, details: details) {
            var canvas = Canvas(size: size, background: paper)
            canvas.fillRect(x: 0, y: 0, width: 32, height: 3, header)
            let spacing: Float = 8
            for r in 0..<rows {
                let y = y0 + Float(r) * spacing
                // One character per 8-unit cell: each glyph in one patch of a patch-8 vision tower.
                canvas.text("\(keys[r]):\(values[r])", x: x, y: y, advance: 8, RGB(20, 20, 30))
                canvas.fillRect(x: 1, y: y + 7.5, width: 30, height: 0.6, RGB(190, 190, 200))
            }
            return canvas.image
        }
    }

    public func score(prediction: String, example: Example) -> Double {
        example.answer.first!.isNumber
            ? SkillScoring.integer(prediction, example.answer)
            : SkillScoring.word(prediction, example.answer)
    }
}
