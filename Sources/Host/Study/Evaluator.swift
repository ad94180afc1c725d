import Foundation
import Kernel

/// Greedy-decoding evaluation of a backbone on a benchmark's examples, scored by the benchmark's own rule.
public enum Evaluator {
    /// The generation request for an example. A text-only backbone gets the prompt without its image (and
    /// without the image placeholder).
    public static func request(for example: Example, model: any Backbone) -> GenerationRequest {
        GenerationRequest(tokens: model.encodePrompt(for: example), image: model.acceptsImages ? example.image : nil)
    }

    public struct Outcome {
        /// Mean score in percent.
        public var accuracy: Double
        public var predictions: [String]
        public var scores: [Double]
    }

    /// Decodes every example greedily (batched) and scores the text before the end-of-answer token.
    public static func evaluate(
        _ model: any Backbone, on benchmark: any Benchmark, examples: [Example],
        maxNewTokens: Int
    ) -> Outcome {
        evaluate(model, examples: examples, maxNewTokens: maxNewTokens, score: benchmark.score)
    }

    /// Decodes every example greedily (batched) and scores the text before the end-of-answer token with `score`.
    public static func evaluate(
        _ model: any Backbone, examples: [Example], maxNewTokens: Int,
        score: (_ prediction: String, _ example: Example) -> Double
    ) -> Outcome {
        guard !examples.isEmpty else { return Outcome(accuracy: 0, predictions: [], scores: []) }
        model.setTraining(false)
        let requests = examples.map { request(for: $0, model: model) }
        let outputs = model.generate(requests, maxNewTokens: maxNewTokens)
        let eos = model.tokenizer.endOfSequenceIDs
        var predictions: [String] = []
        var scores: [Double] = []
        for (example, ids) in zip(examples, outputs) {
            let text = model.tokenizer.decode(ids.filter { !eos.contains($0) })
            predictions.append(text)
            scores.append(score(text, example))
        }
        return Outcome(
            accuracy: 100 * scores.reduce(0, +) / Double(scores.count), predictions: predictions, scores: scores)
    }

    /// Scores a free-text answer (a dense description) by its words: 1 when the prediction has exactly the
    /// reference's words in order (case, spacing and punctuation spacing aside), else 0.
    public static func sameWords(_ prediction: String, _ example: Example) -> Double {
        WordText.words(in: prediction.lowercased()) == WordText.words(in: example.answer.lowercased()) ? 1 : 0
    }
}
