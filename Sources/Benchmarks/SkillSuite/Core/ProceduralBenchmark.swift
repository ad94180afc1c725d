import Kernel

/// One candidate example before it is accepted into a split. The image is drawn by `render`.
public struct Draft {
    public var prompt: String
    public var answer: String
    /// A dense description of the picture (every object with its attributes, in reading order), or nil when the
    /// task has none. It becomes the answer of a "describe the image in detail" example for pretraining.
    public var description: String?
    /// Focused descriptions of single objects ("Describe the square." -> "a red square at the top left."): they
    /// teach finding an object in the picture by what it is, which the task's questions need and the reading-order
    /// description does not. Empty when the task has none.
    public var details: [Detail]
    public var render: () -> Image

    /// One object's description, asked for by `subject` ("square", "field K", "red bar").
    public struct Detail: Sendable, Equatable {
        public var subject: String
        public var text: String
        public init(subject: String, text: String) {
            self.subject = subject
            self.text = text
        }
    }

    public init(
        prompt: String, answer: String, description: String? = nil, details: [Detail] = [],
        render: @escaping () -> Image
    ) {
        self.prompt = prompt
        self.answer = answer
        self.description = description
        self.details = details
        self.render = render
    }
}

/// A benchmark whose examples are drawn one at a time from a seeded generator; `examples` is provided.
extension ProceduralBenchmark {
    public var vocabulary: Set<String> { words }
}

public protocol ProceduralBenchmark: Benchmark {
    /// Side of the square images in pixels.
    var imageSize: Int { get }
    /// A fresh candidate example drawn from `rng`.
    func draft(_ rng: inout RandomGenerator) -> Draft
    /// Every word this task's prompts and answers can contain (by `WordText.words(in:)`).
    var words: Set<String> { get }
}

/// Which split an image belongs to, decided by its pixels alone: a fixed eighth of all possible images is eval
/// and the rest train. So the splits can never share an image, whatever the seeds, options or prompts, and
/// the same picture asked about in two ways stays in one split.
public enum SplitAssignment {
    /// One in `evalBuckets` images belongs to eval.
    public static let evalBuckets: UInt64 = 8

    /// The split `image` belongs to.
    public static func split(of image: Image) -> Split {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325  // FNV-1a over size and pixels, then a SplitMix finaliser
        for v in [image.width, image.height] { h = (h ^ UInt64(v)) &* 0x0000_0100_0000_01B3 }
        for b in image.pixels { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        h = (h ^ (h >> 30)) &* 0xBF58_476D_1CE4_E5B9
        h = (h ^ (h >> 27)) &* 0x94D0_49BB_1331_11EB
        h ^= h >> 31
        return h % evalBuckets == 0 ? .eval : .train
    }
}

/// Raised when a split cannot be filled (difficulty knobs that leave too few distinct images).
public struct ExampleGenerationError: Error, CustomStringConvertible {
    public var description: String
}

extension ProceduralBenchmark {
    /// Deterministic examples: the generator is forked per benchmark and split from `seed`, drafts are drawn and
    /// rendered in sequence and kept when their image belongs to `split`. A shorter request is a prefix of a
    /// longer one.
    public func examples(_ split: Split, count: Int, seed: UInt64) throws -> [Example] {
        try drawExamples(split, count: count, seed: seed, purpose: "") { draft, _ in (draft.prompt, draft.answer) }
    }

    /// Dense descriptions of the task's pictures: "describe the image in detail" prompts answered with each
    /// draft's `description`, drawn like `examples` from their own fork of the seed (so they never repeat the
    /// question examples' pictures in order). Where the task's drafts have `details`, half of the examples
    /// describe one object instead ("Describe the square."). Empty when the task's drafts carry no description.
    public func descriptionExamples(_ split: Split, count: Int, seed: UInt64) throws -> [Example] {
        var probe = RandomGenerator(seed: seed).fork("skillsuite/\(name)/describe-probe")
        guard draft(&probe).description != nil else { return [] }
        return try drawExamples(split, count: count, seed: seed, purpose: "/describe") { draft, rng in
            guard let description = draft.description else { return nil }
            if !draft.details.isEmpty, rng.chance(0.5) {
                let detail = rng.pick(draft.details)
                return (Prompting.prompt(rng.pick(Prompting.detailTemplates), ["subject": detail.subject]), detail.text)
            }
            return (Prompting.prompt(rng.pick(Prompting.describeTemplates)), description)
        }
    }

    /// Draws drafts from the fork `skillsuite/NAME/SPLIT PURPOSE` of `seed`, keeps those whose image belongs to
    /// `split` and for which `make` gives a prompt and answer, until `count` are found.
    private func drawExamples(
        _ split: Split, count: Int, seed: UInt64, purpose: String,
        make: (Draft, inout RandomGenerator) -> (prompt: String, answer: String)?
    ) throws -> [Example] {
        precondition(count >= 0, "\(name): negative example count \(count)")
        var rng = RandomGenerator(seed: seed).fork("skillsuite/\(name)/\(split.rawValue)\(purpose)")
        var result: [Example] = []
        result.reserveCapacity(count)
        var attempts = 0
        let maxAttempts = 1000 + count * Int(SplitAssignment.evalBuckets) * 20
        while result.count < count {
            attempts += 1
            guard attempts <= maxAttempts else {
                throw ExampleGenerationError(
                    description: "\(name): found only \(result.count) of \(count) \(split.rawValue) "
                        + "examples in \(maxAttempts) draws; the difficulty options leave too few distinct images")
            }
            let draft = draft(&rng)
            let image = draft.render()
            guard SplitAssignment.split(of: image) == split, let made = make(draft, &rng) else { continue }
            result.append(
                Example(
                    id: "\(name)/\(split.rawValue)\(purpose)/\(seed)/\(result.count)", prompt: made.prompt,
                    answer: made.answer, image: image))
        }
        return result
    }
}
