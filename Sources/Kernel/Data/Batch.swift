/// Token sequences for one forward pass, padded on the right to one length.
///
/// `targets[i]` is the label predicted *at* position i (the next token), or `Batch.ignoreIndex` where no loss
/// is taken: prompts, padding and image placeholders. Answer-only loss is expressed that way.
public struct Batch: Sendable {
    public static let ignoreIndex: Int32 = -100

    /// Row-major [batchSize, sequenceLength] token ids (padding positions hold any valid id, e.g. 0).
    public var tokens: [Int32]
    /// Row-major [batchSize, sequenceLength] next-token labels, `ignoreIndex` where no loss is taken.
    public var targets: [Int32]
    /// Number of real (non-padding) tokens in each row.
    public var lengths: [Int]
    /// The images of each row, in the order of the row's image placeholders (most rows have none or one).
    public var imageLists: [[Image]]
    /// One optional image per row (the first of each row's images), for backbones that read one image per row.
    public var images: [Image?] {
        get { imageLists.map(\.first) }
        set { imageLists = newValue.map { $0.map { [$0] } ?? [] } }
    }
    public let batchSize: Int
    public let sequenceLength: Int

    public init(
        tokens: [Int32], targets: [Int32], lengths: [Int], images: [Image?]? = nil,
        batchSize: Int, sequenceLength: Int
    ) {
        precondition(
            tokens.count == batchSize * sequenceLength && targets.count == tokens.count,
            "Batch: \(tokens.count) tokens / \(targets.count) targets for \(batchSize)x\(sequenceLength)")
        precondition(lengths.count == batchSize, "Batch: \(lengths.count) lengths for \(batchSize) rows")
        self.tokens = tokens
        self.targets = targets
        self.lengths = lengths
        imageLists = (images ?? Array(repeating: nil, count: batchSize)).map { $0.map { [$0] } ?? [] }
        precondition(imageLists.count == batchSize, "Batch: \(imageLists.count) images for \(batchSize) rows")
        self.batchSize = batchSize
        self.sequenceLength = sequenceLength
    }

    /// Builds a right-padded batch from (prompt, answer) token sequences: the loss covers the answer tokens
    /// only (each answer token is the target of the position before it).
    public init(prompts: [[Int32]], answers: [[Int32]], images: [Image?]? = nil, padToken: Int32 = 0) {
        precondition(prompts.count == answers.count, "Batch: \(prompts.count) prompts, \(answers.count) answers")
        let rows = prompts.count
        let length = zip(prompts, answers).map { $0.count + $1.count }.max() ?? 0
        var tokens = [Int32](repeating: padToken, count: rows * length)
        var targets = [Int32](repeating: Batch.ignoreIndex, count: rows * length)
        var lengths: [Int] = []
        for r in 0..<rows {
            let seq = prompts[r] + answers[r]
            for (i, t) in seq.enumerated() { tokens[r * length + i] = t }
            for i in prompts[r].count..<seq.count where i > 0 { targets[r * length + i - 1] = seq[i] }
            lengths.append(seq.count)
        }
        self.init(
            tokens: tokens, targets: targets, lengths: lengths, images: images,
            batchSize: rows, sequenceLength: length)
    }

    /// A batch whose rows may carry several images each (`imageLists[r]`: row r's images in placeholder order).
    public init(
        tokens: [Int32], targets: [Int32], lengths: [Int], imageLists: [[Image]], batchSize: Int,
        sequenceLength: Int
    ) {
        self.init(
            tokens: tokens, targets: targets, lengths: lengths, images: nil, batchSize: batchSize,
            sequenceLength: sequenceLength)
        precondition(imageLists.count == batchSize, "Batch: \(imageLists.count) image lists for \(batchSize) rows")
        self.imageLists = imageLists
    }
}

/// What a backbone's forward pass returns: logits and the labels aligned with them.
///
/// A multimodal backbone expands an image placeholder into many visual positions, so its sequence can be
/// longer than the batch's; it returns the targets re-aligned to its own positions.
public struct ModelOutput {
    /// [batchSize, positions, vocabularySize]
    public var logits: Tensor
    /// [batchSize * positions] labels, `Batch.ignoreIndex` where no loss is taken.
    public var targets: [Int32]

    public init(logits: Tensor, targets: [Int32]) {
        self.logits = logits
        self.targets = targets
    }
}

/// A prompt to continue greedily.
public struct GenerationRequest: Sendable {
    public var tokens: [Int32]
    /// The prompt's images, in the order of its image placeholders.
    public var images: [Image]
    /// The prompt's first image, for backbones that read one image per prompt.
    public var image: Image? {
        get { images.first }
        set { images = newValue.map { [$0] } ?? [] }
    }
    public init(tokens: [Int32], image: Image? = nil) {
        self.tokens = tokens
        images = image.map { [$0] } ?? []
    }
    public init(tokens: [Int32], images: [Image]) {
        self.tokens = tokens
        self.images = images
    }
}

/// One decoder layer's intermediate output, offered to probes during a forward pass.
public struct LayerObservation {
    public enum Component: String, Sendable {
        case attention = "self_attn"
        case mlp
    }
    /// Decoder layer index.
    public var layer: Int
    public var component: Component
    /// The block's output before it is added to the residual stream: [batch, positions, hidden].
    public var output: Tensor

    public init(layer: Int, component: Component, output: Tensor) {
        self.layer = layer
        self.component = component
        self.output = output
    }
}
