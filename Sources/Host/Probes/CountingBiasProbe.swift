import Foundation
import Kernel

/// The study's counting-bias probe: how much probability a model puts on number tokens while it answers.
///
/// For each prompt, decode greedily; at every generated step take the softmax over the full vocabulary and
/// record the total probability on number tokens, the largest single number-token probability, and the
/// largest number-token logit. Per sample: mean and max over steps. Per split: mean and std over samples.
public enum CountingBiasProbe {
    /// Per-step statistics of one sample, then its mean and max over steps.
    struct SampleStats {
        var mass: [Double] = [], maxProbability: [Double] = [], maxLogit: [Double] = []
    }

    /// Runs the probe on one split of prompts.
    public static func measure(
        _ model: any Backbone, prompts: [GenerationRequest], numberIDs: [Int32],
        maxNewTokens: Int
    ) -> CountingBiasSplit {
        var samples = [SampleStats](repeating: SampleStats(), count: prompts.count)
        let ids = numberIDs.map(Int.init)
        model.setTraining(false)
        _ = model.generate(prompts, maxNewTokens: maxNewTokens) { request, logits in
            // Softmax over the full vocabulary in Double, max-shifted.
            var maxAll = -Double.infinity
            for v in logits { maxAll = Swift.max(maxAll, Double(v)) }
            var total = 0.0
            for v in logits { total += exp(Double(v) - maxAll) }
            var mass = 0.0
            var maxProbability = 0.0
            var maxLogit = -Double.infinity
            for i in ids {
                let p = exp(Double(logits[i]) - maxAll) / total
                mass += p
                maxProbability = Swift.max(maxProbability, p)
                maxLogit = Swift.max(maxLogit, Double(logits[i]))
            }
            samples[request].mass.append(mass)
            samples[request].maxProbability.append(maxProbability)
            samples[request].maxLogit.append(ids.isEmpty ? 0 : maxLogit)
        }
        let used = samples.filter { !$0.mass.isEmpty }
        func stats(_ values: (SampleStats) -> [Double], _ reduce: ([Double]) -> Double) -> MeanStd {
            meanStd(used.map { reduce(values($0)) })
        }
        let mean: ([Double]) -> Double = { $0.reduce(0, +) / Double($0.count) }
        let maximum: ([Double]) -> Double = { $0.max()! }
        return CountingBiasSplit(
            samples: used.count,
            numberMassMean: stats(\.mass, mean), numberMassMax: stats(\.mass, maximum),
            maxNumberProbabilityMean: stats(\.maxProbability, mean),
            maxNumberProbabilityMax: stats(\.maxProbability, maximum),
            maxNumberLogitMean: stats(\.maxLogit, mean), maxNumberLogitMax: stats(\.maxLogit, maximum))
    }

    /// Both splits: held-out caption-style prompts and counting prompts.
    public static func run(
        _ model: any Backbone, stage: String, heldOutPrompts: [GenerationRequest],
        countingPrompts: [GenerationRequest], maxNewTokens: Int
    ) -> CountingBiasResult {
        let numberIDs = NumberTokens.ids(in: model.tokenizer)
        return CountingBiasResult(
            stage: stage,
            heldOut: measure(model, prompts: heldOutPrompts, numberIDs: numberIDs, maxNewTokens: maxNewTokens),
            counting: measure(model, prompts: countingPrompts, numberIDs: numberIDs, maxNewTokens: maxNewTokens))
    }
}

/// Mean and population standard deviation (numpy's default), (0, 0) for no values.
public func meanStd(_ values: [Double]) -> MeanStd {
    guard !values.isEmpty else { return MeanStd(mean: 0, std: 0) }
    let mean = values.reduce(0, +) / Double(values.count)
    let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count)
    return MeanStd(mean: mean, std: variance.squareRoot())
}
