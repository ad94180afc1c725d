import Kernel

/// Held-out ability `real-world`: yes/no questions about an outdoor scene (sky, ground, icon objects), a third
/// each: spatial relations between two objects ("Is the tree to the left of the house?"), where an object is in
/// the picture ("Is the sun on the left side of the picture?") and presence ("Is there a sun in this picture?").
/// Yes and no are equally likely; relations are only asked when the two objects are clearly apart on that axis,
/// sides only about objects clearly on one side.
public final class RealWorldBenchmark: ProceduralBenchmark {
    public struct Options: Sendable {
        /// Objects in the scene (2...4).
        public var objectCount = 2
        public init() {}
    }

    public let name = "real-world"
    public let role = BenchmarkRole.heldOut
    public let summary = "outdoor scenes: spatial relations and presence, yes/no"
    public let imageSize: Int
    public let options: Options

    public init(imageSize: Int = 32, options: Options = Options()) {
        precondition((2...4).contains(options.objectCount), "real-world: objectCount must be in 2...4")
        self.imageSize = imageSize
        self.options = options
    }

    enum Relation: CaseIterable {
        case left, right, above, below
        /// How a description says it: "left of the house".
        var phrase: String {
            switch self {
            case .left: return "left of"
            case .right: return "right of"
            case .above: return "above"
            case .below: return "below"
            }
        }
    }
    static let relationTemplates: [Relation: [String]] = [
        .left: ["Is the {a} to the left of the {b}?", "Is the {a} left of the {b}?"],
        .right: ["Is the {a} to the right of the {b}?", "Is the {a} right of the {b}?"],
        .above: ["Is the {a} above the {b}?", "Is the {a} higher than the {b}?"],
        .below: ["Is the {a} below the {b}?", "Is the {a} lower than the {b}?"],
    ]
    static let presenceTemplates = ["Is there a {a} in this picture?", "Can you see a {a}?"]
    enum Side: CaseIterable { case left, right, top, bottom }
    static let sideTemplates: [Side: [String]] = [
        .left: ["Is the {a} on the left side of the picture?", "Is the {a} on the left?"],
        .right: ["Is the {a} on the right side of the picture?", "Is the {a} on the right?"],
        .top: ["Is the {a} in the top part of the picture?", "Is the {a} near the top?"],
        .bottom: ["Is the {a} in the bottom part of the picture?", "Is the {a} near the bottom?"],
    ]

    public var words: Set<String> {
        Prompting.descriptionWords.union(Prompting.words(["a at the , and ."])).union(
            Prompting.words(
                Self.relationTemplates.values.flatMap { $0 } + Self.sideTemplates.values.flatMap { $0 }
                    + Self.presenceTemplates + Icon.allCases.map(\.rawValue)
                    + ["yes", "no"]))
    }

    /// Whether `a` stands in `relation` to `b` by a clear margin (nil when too close to tell).
    static func holds(_ relation: Relation, _ a: (x: Float, y: Float), _ b: (x: Float, y: Float)) -> Bool? {
        let margin: Float = 5
        switch relation {
        case .left, .right:
            guard abs(a.x - b.x) >= margin else { return nil }
            return relation == .left ? a.x < b.x : a.x > b.x
        case .above, .below:
            guard abs(a.y - b.y) >= margin else { return nil }
            return relation == .above ? a.y < b.y : a.y > b.y
        }
    }

    /// Whether an object centred at `p` is on `side` of the 32-unit picture (nil when it is in the middle band).
    static func onSide(_ side: Side, _ p: (x: Float, y: Float)) -> Bool? {
        let edge: Float = 10
        let far: Float = 32 - 10
        switch side {
        case .left, .right:
            guard p.x < edge || p.x > far else { return nil }
            return (side == .left) == (p.x < edge)
        case .top, .bottom:
            guard p.y < edge || p.y > far else { return nil }
            return (side == .top) == (p.y < edge)
        }
    }

    public func draft(_ rng: inout RandomGenerator) -> Draft {
        let n = options.objectCount
        let icons = rng.sample(Icon.allCases, n)
        // Objects in distinct cells of a 3x3 grid (left, middle, right; top, middle, bottom). Each icon fills one cell
        // of the 8-unit grid, so a patch-8 vision tower sees a whole object in one patch: the sides are the outer
        // cells, the middle one of the two inner cells. Positions are icon centres.
        let cells = rng.sample(Array(0..<9), n)
        let unit = { (third: Int, rng: inout RandomGenerator) -> Int in
            third == 0 ? 0 : third == 2 ? 3 : rng.int(in: 1...2)
        }
        let positions = cells.map { c in (x: Float(unit(c % 3, &rng) * 8) + 4, y: Float(unit(c / 3, &rng) * 8) + 4) }
        let horizon = rng.grid(12, 20, step: 1)
        let sky = RGB(170, 210, 245).mixed(with: RGB(220, 235, 250), rng.grid(0, 1, step: 0.5))
        let ground = RGB(140, 190, 110).mixed(with: RGB(190, 170, 120), rng.grid(0, 1, step: 0.5))
        let yes = rng.chance(0.5)
        var prompt = ""
        var answer = yes ? "yes" : "no"
        let kind = rng.int(below: 3)
        if kind == 0 {
            // A pair and a relation clearly true (or clearly false) for it.
            var found = false
            for _ in 0..<40 where !found {
                let pair = rng.sample(Array(0..<n), 2)
                let relation = rng.pick(Relation.allCases)
                if let truth = Self.holds(relation, positions[pair[0]], positions[pair[1]]), truth == yes {
                    prompt = Prompting.prompt(
                        rng.pick(Self.relationTemplates[relation]!),
                        ["a": icons[pair[0]].rawValue, "b": icons[pair[1]].rawValue])
                    found = true
                }
            }
            if !found { answer = "" }
        } else if kind == 1 {
            // An object and a side of the picture it is clearly on (or clearly not on).
            for _ in 0..<40 where prompt.isEmpty {
                let i = rng.int(below: n)
                let side = rng.pick(Side.allCases)
                if let truth = Self.onSide(side, positions[i]), truth == yes {
                    prompt = Prompting.prompt(rng.pick(Self.sideTemplates[side]!), ["a": icons[i].rawValue])
                }
            }
        }
        if prompt.isEmpty {
            let absent = Icon.allCases.filter { !icons.contains($0) }
            let asked = yes ? rng.pick(icons) : rng.pick(absent)
            prompt = Prompting.prompt(rng.pick(Self.presenceTemplates), ["a": asked.rawValue])
            answer = yes ? "yes" : "no"
        }
        let size = imageSize
        // "a sun at the top left and a house at the bottom middle." (reading order of the 3x3 cells)
        let rows = ["top", "middle", "bottom"]
        let columns = ["left", "middle", "right"]
        let phrases = (0..<n).sorted { cells[$0] < cells[$1] }
            .map { "a \(icons[$0].rawValue) at the \(rows[cells[$0] / 3]) \(columns[cells[$0] % 3])" }
        let description = Prompting.list(phrases) + "."
        // Each object with where it is and how it stands to the others ("the tree is at the top left, left of the
        // house and above the house."), and one icon that is not there ("there is no sun.").
        var details: [Draft.Detail] = (0..<n).map { i in
            var relations: [String] = []
            for j in 0..<n where j != i {
                for relation in Relation.allCases where Self.holds(relation, positions[i], positions[j]) == true {
                    relations.append("\(relation.phrase) the \(icons[j].rawValue)")
                }
            }
            let place = "the \(icons[i].rawValue) is at the \(rows[cells[i] / 3]) \(columns[cells[i] % 3])"
            let text = relations.isEmpty ? place + "." : place + ", " + Prompting.list(relations) + "."
            return Draft.Detail(subject: icons[i].rawValue, text: text)
        }
        let absent = Icon.allCases.filter { !icons.contains($0) }
        if !absent.isEmpty {
            let missing = rng.pick(absent)
            details.append(Draft.Detail(subject: missing.rawValue, text: "there is no \(missing.rawValue)."))
        }
        return Draft(prompt: prompt, answer: answer, description: description, details: details) {
            var canvas = Canvas(size: size, background: sky)
            canvas.fillRect(x: 0, y: horizon, width: 32, height: 32 - horizon, ground)
            for i in 0..<n { canvas.icon(icons[i], x: positions[i].x - 3.5, y: positions[i].y - 3.5) }
            return canvas.image
        }
    }

    public func score(prediction: String, example: Example) -> Double {
        SkillScoring.yesNo(prediction, example.answer)
    }
}
