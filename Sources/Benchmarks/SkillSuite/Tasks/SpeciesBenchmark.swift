import Kernel

/// Target skill 1, fine-grained bird species: 26-way multiple choice answered with a letter.
///
/// A species is a combination of body, head and wing colours and beak and tail lengths; every species has a
/// sister species that differs from it in one attribute only, so telling them apart needs the details. The species <-> letter mapping is fixed
/// (species A is always the same bird, chosen once from a constant seed) and the prompt does not list options:
/// with 26 options the prompt would be longer than the rest of the example, and the study's bird benchmark is
/// also a fixed label set. Pose (facing left or right), position, background and perch clutter vary.
public final class SpeciesBenchmark: ProceduralBenchmark {
    public struct Options: Sendable {
        /// Number of species (letters A... in order), at most 26.
        public var speciesCount = 26
        /// Up to this many leaves around the bird.
        public var maxLeaves = 3
        public init() {}
    }

    public let name = "species"
    public let role = BenchmarkRole.target
    public let summary =
        "fine-grained sprite birds (colour/beak/tail combinations); 26-way, answer the species letter A-Z"
    public let imageSize: Int
    public let options: Options

    public init(imageSize: Int = 32, options: Options = Options()) {
        precondition((2...26).contains(options.speciesCount), "species: speciesCount must be in 2...26")
        self.imageSize = imageSize
        self.options = options
    }

    /// The 26 species in letter order, fixed for all seeds: 13 pairs of sister species that differ in exactly
    /// one attribute (beak, tail, wing or head, in turn), drawn once from a constant seed.
    public static let species: [BirdLooks] = {
        let bodies: [NamedColour] = [.red, .blue, .yellow, .green, .brown, .gray]
        let heads: [NamedColour] = [.black, .white, .red, .blue, .yellow]
        let wings: [NamedColour] = [.black, .white, .orange]
        var all: [BirdLooks] = []
        for body in bodies {
            for head in heads where head != body {
                for wing in wings {
                    for beak in [BirdLooks.Length.short, .long] {
                        for tail in [BirdLooks.Length.short, .long] {
                            all.append(BirdLooks(body: body, head: head, wing: wing, beak: beak, tail: tail))
                        }
                    }
                }
            }
        }
        var rng = RandomGenerator(seed: 26_2025)
        rng.shuffle(&all)
        func sister(_ b: BirdLooks, _ attribute: Int) -> BirdLooks {
            var s = b
            switch attribute {
            case 0: s.beak = b.beak == .short ? .long : .short
            case 1: s.tail = b.tail == .short ? .long : .short
            case 2: s.wing = wings[(wings.firstIndex(of: b.wing)! + 1) % wings.count]
            default:
                let choices = heads.filter { $0 != b.body }
                s.head = choices[(choices.firstIndex(of: b.head)! + 1) % choices.count]
            }
            return s
        }
        var chosen: [BirdLooks] = []
        for candidate in all where chosen.count < 26 {
            let partner = sister(candidate, chosen.count / 2 % 4)
            if !chosen.contains(candidate) && !chosen.contains(partner) { chosen += [candidate, partner] }
        }
        return chosen
    }()

    static let templates = [
        "Which species (A-Z) is this bird? Answer with the letter.",
        "Identify the bird species. Answer with a letter from A to Z.",
        "What species of bird is shown? Reply with its letter (A-Z).",
    ]
    static let skies: [RGB] = [RGB(200, 225, 245), RGB(215, 235, 215), RGB(235, 225, 205), RGB(225, 220, 240)]

    public var words: Set<String> {
        Prompting.words(Self.templates + Prompting.optionLetters + ["Z"] + Self.species.map(Self.describe))
    }

    /// What the bird looks like, never its letter: "a bird: red body, black head, white wings, long beak, short
    /// tail." Telling the species apart from these is the skill.
    static func describe(_ b: BirdLooks) -> String {
        "a bird: \(b.body.rawValue) body, \(b.head.rawValue) head, \(b.wing.rawValue) wings, \(b.beak.rawValue) beak, "
            + "\(b.tail.rawValue) tail."
    }

    public func draft(_ rng: inout RandomGenerator) -> Draft {
        let index = rng.int(below: options.speciesCount)
        let looks = Self.species[index]
        let cx = rng.grid(14, 18)
        let cy = rng.grid(12, 16)
        let facingRight = rng.chance(0.5)
        let sky = rng.pick(Self.skies)
        let leaves = (0..<rng.int(in: 0...options.maxLeaves)).map { _ in (x: rng.grid(1, 31), y: rng.grid(1, 8)) }
        let template = rng.pick(Self.templates)
        let letter = String(UnicodeScalar(UInt8(65 + index)))
        let size = imageSize
        return Draft(prompt: Prompting.prompt(template), answer: letter, description: Self.describe(looks)) {
            var canvas = Canvas(size: size, background: sky)
            for leaf in leaves { canvas.fillEllipse(cx: leaf.x, cy: leaf.y, rx: 2, ry: 1.2, RGB(60, 150, 60)) }
            canvas.line(from: (0, cy + 7.5), to: (32, cy + 7.5), thickness: 1.6, RGB(110, 70, 40))  // the perch
            canvas.bird(looks, cx: cx, cy: cy, facingRight: facingRight)
            return canvas.image
        }
    }

    public func score(prediction: String, example: Example) -> Double {
        SkillScoring.letter(prediction, example.answer)
    }
}
