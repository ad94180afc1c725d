import Kernel

/// Greedy-decoding evaluation of a backbone on a benchmark's examples, scored by the benchmark's own rule.
public enum Evaluator {
    public struct Outcome {
        /// Mean score in percent.
        public var accuracy: Double
        public var predictions: [String]
        public var scores: [Double]
    }

    /// Decodes every example greedily (batched) and scores the text before the end-of-answer token.
    public static func evaluate(_ model: any Backbone, on benchmark: any Benchmark, examples: [Example],
                                maxNewTokens: Int) -> Outcome {
        guard !examples.isEmpty else { return Outcome(accuracy: 0, predictions: [], scores: []) }
        model.setTraining(false)
        let requests = examples.map {
            GenerationRequest(tokens: model.encodePrompt($0.prompt, hasImage: $0.image != nil), image: $0.image)
        }
        let outputs = model.generate(requests, maxNewTokens: maxNewTokens)
        let eos = model.tokenizer.endOfSequenceIDs
        var predictions: [String] = [], scores: [Double] = []
        for (example, ids) in zip(examples, outputs) {
            let text = model.tokenizer.decode(ids.filter { !eos.contains($0) })
            predictions.append(text)
            scores.append(benchmark.score(prediction: text, example: example))
        }
        return Outcome(accuracy: 100 * scores.reduce(0, +) / Double(scores.count), predictions: predictions, scores: scores)
    }
}
