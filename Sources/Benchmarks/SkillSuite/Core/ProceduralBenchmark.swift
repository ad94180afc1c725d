import Kernel

/// One candidate example before it is accepted into a split.
///
/// `contentKey` spells out everything that decides the image (positions, colours, noise seeds, the values
/// shown), so two drafts with equal keys draw equal images. The key's hash decides the split: a fixed eighth
/// of all possible images belongs to eval and the rest to train, so the splits never share an image whatever
/// the seeds. The image is rendered only once the draft is accepted.
public struct Draft {
    public var contentKey: String
    public var prompt: String
    public var answer: String
    public var render: () -> Image

    public init(contentKey: String, prompt: String, answer: String, render: @escaping () -> Image) {
        self.contentKey = contentKey
        self.prompt = prompt
        self.answer = answer
        self.render = render
    }
}

/// A benchmark whose examples are drawn one at a time from a seeded generator; `examples` is provided.
public protocol ProceduralBenchmark: Benchmark {
    /// Side of the square images in pixels.
    var imageSize: Int { get }
    /// A fresh candidate example drawn from `rng`.
    func draft(_ rng: inout RandomGenerator) -> Draft
    /// Every word this task's prompts and answers can contain (by `WordText.words(in:)`).
    var words: Set<String> { get }
}

public enum SplitAssignment {
    /// One in `evalBuckets` content keys belongs to eval.
    public static let evalBuckets: UInt64 = 8

    /// The split an image with this content key belongs to.
    public static func split(ofContentKey key: String) -> Split {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325  // FNV-1a, then a SplitMix finaliser to spread the low bits
        for b in key.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
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
    /// Deterministic examples: the generator is forked per benchmark and split from `seed`, drafts are drawn in
    /// sequence and kept when their content key belongs to `split`. A shorter request is a prefix of a longer one.
    public func examples(_ split: Split, count: Int, seed: UInt64) throws -> [Example] {
        precondition(count >= 0, "\(name): negative example count \(count)")
        var rng = RandomGenerator(seed: seed).fork("skillsuite/\(name)/\(split.rawValue)")
        var result: [Example] = []
        result.reserveCapacity(count)
        var attempts = 0
        let maxAttempts = 1000 + count * Int(SplitAssignment.evalBuckets) * 20
        while result.count < count {
            attempts += 1
            guard attempts <= maxAttempts else {
                throw ExampleGenerationError(description: "\(name): found only \(result.count) of \(count) \(split.rawValue) "
                    + "examples in \(maxAttempts) draws; the difficulty options leave too few distinct images")
            }
            let draft = draft(&rng)
            guard SplitAssignment.split(ofContentKey: draft.contentKey) == split else { continue }
            result.append(Example(id: "\(name)/\(split.rawValue)/\(seed)/\(result.count)", prompt: draft.prompt,
                                  answer: draft.answer, image: draft.render()))
        }
        return result
    }
}
