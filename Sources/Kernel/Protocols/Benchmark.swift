/// What a benchmark is for in the study.
public enum BenchmarkRole: String, Codable, Sendable {
    /// A new skill trained in one stage and measured for learning.
    case target
    /// An ability of the base model that is only watched for forgetting.
    case heldOut = "held-out"
    /// Data used for pretraining or probes, not scored in the study's tables.
    case auxiliary
}

public enum Split: String, Codable, Sendable, CaseIterable { case train, eval }

/// One earlier exchange of a multi-turn conversation: what the user said and what the assistant answered.
public struct ChatTurn: Sendable, Equatable, Codable {
    public var user: String
    public var assistant: String

    public init(user: String, assistant: String) {
        self.user = user
        self.assistant = assistant
    }
}

/// One question: prompt text (with an image placeholder where the image goes), the reference answer, and
/// an optional image. A question from a conversation also carries the conversation so far: an optional system
/// message and the earlier turns, which a backbone renders before the prompt (with its chat template if it
/// has one); the loss and the score cover `answer` only.
public struct Example: Sendable, Equatable {
    public var id: String
    public var prompt: String
    public var answer: String
    public var image: Image?
    /// The system message of the conversation, if any.
    public var system: String?
    /// Earlier turns of the conversation, oldest first (empty for a single question).
    public var history: [ChatTurn]

    public init(
        id: String, prompt: String, answer: String, image: Image? = nil, system: String? = nil,
        history: [ChatTurn] = []
    ) {
        self.id = id
        self.prompt = prompt
        self.answer = answer
        self.image = image
        self.system = system
        self.history = history
    }
}

/// A task suite: deterministic examples from a seed and a scoring rule.
public protocol Benchmark: AnyObject {
    var name: String { get }
    var role: BenchmarkRole { get }
    /// One line for listings.
    var summary: String { get }
    /// `count` examples of `split`. The same (split, count, seed) always gives the same examples, and the
    /// train and eval splits never share an example.
    func examples(_ split: Split, count: Int, seed: UInt64) throws -> [Example]
    /// 1 for a correct prediction, 0 for a wrong or malformed one (fractions where the task defines them).
    func score(prediction: String, example: Example) -> Double
    /// Every word (by `WordText`) this benchmark's prompts and answers can contain, when that set is closed;
    /// empty when it is open (a user's data). Word-level backbones build their vocabulary from it.
    var vocabulary: Set<String> { get }
    /// `count` dense descriptions of this benchmark's pictures ("describe the image in detail", answered with
    /// every object and its attributes), for pretraining a base model's perception the way LLaVA-style models
    /// are first trained on captions before answering questions. Deterministic like `examples`; empty (the
    /// default) when the benchmark has none.
    func descriptionExamples(_ split: Split, count: Int, seed: UInt64) throws -> [Example]
}

extension Benchmark {
    public var vocabulary: Set<String> { [] }
    public func descriptionExamples(_ split: Split, count: Int, seed: UInt64) throws -> [Example] { [] }
}
