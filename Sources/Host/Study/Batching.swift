import Kernel

/// Turns examples into a training batch for a backbone (prompt and answer tokens, images).
public func makeBatch(_ model: any Backbone, _ examples: [Example]) -> Batch {
    Batch(
        prompts: examples.map { model.encodePrompt(for: $0) },
        answers: examples.map { model.encodeAnswer($0.answer) },
        images: examples.map { model.acceptsImages ? $0.image : nil })
}

/// A deterministic endless sequence of minibatches over `examples`: a fresh seeded shuffle each epoch.
public struct BatchSchedule {
    public let examples: [Example]
    public let batchSize: Int
    private var order: [Int] = []
    private var generator: RandomGenerator

    public init(examples: [Example], batchSize: Int, generator: RandomGenerator) {
        precondition(!examples.isEmpty, "BatchSchedule: no examples")
        self.examples = examples
        self.batchSize = batchSize
        self.generator = generator
    }

    /// The examples of the next batch.
    public mutating func next() -> [Example] {
        var out: [Example] = []
        while out.count < batchSize {
            if order.isEmpty {
                order = Array(examples.indices)
                generator.shuffle(&order)
                order.reverse()  // popLast takes them in shuffled order
            }
            out.append(examples[order.removeLast()])
        }
        return out
    }
}
