import Kernel

/// The study's per-layer output-shift probe: for each decoder layer, how far tuning moved the attention and
/// MLP outputs in the space of output tokens, as the reference (`layer_contribution_delta_analysis.py`)
/// computes it.
///
/// For every held-out example (prompt and reference answer, teacher-forced), run the base and the tuned model
/// and take each layer's self-attention and MLP outputs (before the residual add), `h_base` and `h_tuned`.
/// At every answer position (a position whose input token is an answer token) the shift is
/// `|| W_tuned h_tuned - W_base h_base ||_2`, each model's output through its OWN lm_head (no final norm, as
/// the reference projects the raw block outputs). Per example: the mean over its answer positions; per layer:
/// the mean over examples (examples without answer positions are left out).
public enum LayerShiftProbe {
    public static func run(base: any Backbone, tuned: any Backbone, examples: [Example], stage: String)
        -> LayerShiftResult
    {
        let layers = tuned.decoderLayerCount
        precondition(
            base.decoderLayerCount == layers,
            "layer-shift: base has \(base.decoderLayerCount) decoder layers, tuned has \(layers)")
        var attention = [Double](repeating: 0, count: layers)
        var mlp = [Double](repeating: 0, count: layers)
        var samples = 0
        base.setTraining(false)
        tuned.setTraining(false)
        Autograd.withNoGrad {
            for example in examples {
                guard let shifts = sampleShifts(base: base, tuned: tuned, example: example) else { continue }
                for (key, value) in shifts {
                    if key.component == .attention { attention[key.layer] += value } else { mlp[key.layer] += value }
                }
                samples += 1
            }
        }
        let n = Double(Swift.max(samples, 1))
        return LayerShiftResult(stage: stage, attention: attention.map { $0 / n }, mlp: mlp.map { $0 / n })
    }

    struct Key: Hashable {
        var layer: Int
        var component: LayerObservation.Component
    }

    /// Each layer's and component's mean shift over the answer positions of one example; nil when the example
    /// has no answer position.
    static func sampleShifts(base: any Backbone, tuned: any Backbone, example: Example) -> [Key: Double]? {
        let request = Evaluator.request(for: example, model: tuned)
        let batch = Batch(
            prompts: [request.tokens], answers: [tuned.encodeAnswer(example.answer)], images: [request.image])
        var baseOutputs: [Key: Tensor] = [:]
        var tunedOutputs: [Key: Tensor] = [:]
        _ = base.forward(batch) { baseOutputs[Key(layer: $0.layer, component: $0.component)] = $0.output }
        let output = tuned.forward(batch) { tunedOutputs[Key(layer: $0.layer, component: $0.component)] = $0.output }
        let positions = answerPositions(output.targets)
        guard !positions.isEmpty else { return nil }
        var shifts: [Key: Double] = [:]
        for (key, tunedOutput) in tunedOutputs {
            guard let baseOutput = baseOutputs[key] else { continue }
            let projectedTuned = tuned.unembed(rows(tunedOutput, positions))
            let projectedBase = base.unembed(rows(baseOutput, positions))
            shifts[key] = meanRowNorm(projectedTuned - projectedBase)
        }
        return shifts
    }

    /// The positions whose input token is an answer token: p such that the label at p - 1 (which predicts
    /// token p) is not ignored. `targets` is one row's labels.
    static func answerPositions(_ targets: [Int32]) -> [Int] {
        targets.indices.dropLast().filter { targets[$0] != Batch.ignoreIndex }.map { $0 + 1 }
    }

    /// Rows `positions` of a [1, T, H] tensor, as [n, H].
    static func rows(_ x: Tensor, _ positions: [Int]) -> Tensor {
        let h = x.shape[x.rank - 1]
        let out = Tensor(zeros: [positions.count, h])
        for (i, p) in positions.enumerated() { (out.data + i * h).update(from: x.data + p * h, count: h) }
        return out
    }

    /// The mean L2 norm of the rows of an [n, V] tensor.
    static func meanRowNorm(_ x: Tensor) -> Double {
        let v = x.shape[x.rank - 1]
        let n = x.count / v
        var sum = 0.0
        for r in 0..<n {
            var s = 0.0
            let row = x.data + r * v
            for j in 0..<v { s += Double(row[j]) * Double(row[j]) }
            sum += s.squareRoot()
        }
        return sum / Double(max(n, 1))
    }
}
