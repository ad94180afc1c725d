import Foundation
import Kernel

/// A forgetting monitor that needs no held-out labels (the study's insight made a tool): how far the tuned
/// model's next-token distribution on held-out prompts has moved from the base model's,
///
///     KL(tuned ‖ base) = Σᵥ p_tuned(v) · (log p_tuned(v) − log p_base(v)),
///
/// at the first answer token of each prompt (the logits greedy decoding starts from), in nats, averaged over the
/// prompts; with the counting-bias probe's number-token mass beside it. Recorded at `--probe-at` steps of every
/// stage; the report ranks it against the measured held-out change.
public enum ForgettingMonitor {
    /// The steps of a stage of `stageSteps` after which the monitor runs: `probeAt` up to the stage's length, and
    /// its last step; none without `probeAt`.
    public static func steps(_ probeAt: [Int]?, stageSteps: Int) -> Set<Int> {
        guard let probeAt, !probeAt.isEmpty else { return [] }
        return Set(probeAt.filter { $0 <= stageSteps } + [stageSteps])
    }

    /// Log-probabilities (Double, max-shifted softmax) of the first generated token of each prompt.
    public static func firstTokenLogProbabilities(_ model: any Backbone, prompts: [GenerationRequest]) -> [[Double]] {
        var out = [[Double]](repeating: [], count: prompts.count)
        model.setTraining(false)
        _ = model.generate(prompts, maxNewTokens: 1) { request, logits in
            out[request] = logSoftmax(logits)
        }
        return out
    }

    static func logSoftmax(_ logits: UnsafeBufferPointer<Float>) -> [Double] {
        var maxAll = -Double.infinity
        for v in logits { maxAll = max(maxAll, Double(v)) }
        var total = 0.0
        for v in logits { total += exp(Double(v) - maxAll) }
        let logTotal = log(total)
        return logits.map { Double($0) - maxAll - logTotal }
    }

    /// Mean over prompts of KL(tuned ‖ base) from log-probabilities; prompts whose distributions are missing or of
    /// different sizes are left out (0 when none is left).
    public static func meanKL(tuned: [[Double]], base: [[Double]]) -> Double {
        var sum = 0.0
        var count = 0
        for (t, b) in zip(tuned, base) where !t.isEmpty && t.count == b.count {
            var kl = 0.0
            for (lt, lb) in zip(t, b) where lt > -Double.infinity { kl += exp(lt) * (lt - lb) }
            sum += max(0, kl)
            count += 1
        }
        return count == 0 ? 0 : sum / Double(count)
    }
}

/// The forgetting monitor of a run: the held-out prompts and the base model's distributions on them, computed
/// once; `point` measures the model being trained (forward passes only, in eval mode: the caller puts it back in
/// training mode, and training goes on bit for bit as without the monitor).
struct StageMonitorRun {
    let heldOut: [GenerationRequest]
    let baseLogProbabilities: [[Double]]
    /// Prompts for the held-out number-token mass, and for the counting split (nil for none).
    let captions: [GenerationRequest]
    let counting: [GenerationRequest]?

    init(base: any Backbone, heldOut: [Example], captions: [Example], counting: [Example]?) {
        self.heldOut = heldOut.map { Evaluator.request(for: $0, model: base) }
        baseLogProbabilities = ForgettingMonitor.firstTokenLogProbabilities(base, prompts: self.heldOut)
        self.captions = captions.map { Evaluator.request(for: $0, model: base) }
        self.counting = counting?.map { Evaluator.request(for: $0, model: base) }
    }

    /// A study's: its layer-shift examples (held-out questions), caption prompts and counting prompts.
    init(base: any Backbone, data: StudyData) {
        self.init(
            base: base, heldOut: data.layerShiftExamples, captions: data.probeCaptions, counting: data.probeCounting)
    }

    func point(_ step: Int, model: any Backbone, maxNewTokens: Int) -> MonitorPoint {
        let kl = ForgettingMonitor.meanKL(
            tuned: ForgettingMonitor.firstTokenLogProbabilities(model, prompts: heldOut), base: baseLogProbabilities)
        let numbers = NumberTokens.ids(in: model.tokenizer)
        func mass(_ prompts: [GenerationRequest]) -> Double {
            CountingBiasProbe.measure(model, prompts: prompts, numberIDs: numbers, maxNewTokens: maxNewTokens)
                .numberMassMean.mean
        }
        return MonitorPoint(
            step: step, klToBase: kl, heldOutNumberMass: mass(captions), countingNumberMass: counting.map(mass))
    }
}
