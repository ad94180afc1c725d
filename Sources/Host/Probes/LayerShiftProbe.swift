import Kernel

/// The study's per-layer output-shift probe: for each decoder layer, how far tuning moved the attention and
/// MLP outputs in the space of output tokens.
///
/// For every held-out example (prompt and reference answer, teacher-forced), run the base and the tuned
/// model, take each layer's self-attention and MLP outputs (before the residual add), project the
/// difference through the tuned model's lm_head, and average the L2 norm of that logit-space change over
/// every token position.
public enum LayerShiftProbe {
    public static func run(base: any Backbone, tuned: any Backbone, examples: [Example], stage: String) -> LayerShiftResult {
        let layers = tuned.decoderLayerCount
        precondition(base.decoderLayerCount == layers,
                     "layer-shift: base has \(base.decoderLayerCount) decoder layers, tuned has \(layers)")
        var attention = [Double](repeating: 0, count: layers), mlp = [Double](repeating: 0, count: layers)
        var tokens = 0
        base.setTraining(false)
        tuned.setTraining(false)
        Autograd.withNoGrad {
            for example in examples {
                let batch = Batch(prompts: [tuned.encodePrompt(example.prompt, hasImage: example.image != nil)],
                                  answers: [tuned.encodeAnswer(example.answer)], images: [example.image])
                var baseOutputs: [String: Tensor] = [:]
                _ = base.forward(batch) { baseOutputs["\($0.layer).\($0.component.rawValue)"] = $0.output }
                var positions = 0
                _ = tuned.forward(batch) { observation in
                    guard let reference = baseOutputs["\(observation.layer).\(observation.component.rawValue)"] else { return }
                    let shift = tuned.unembed(observation.output - reference)  // [1, T, V]
                    let v = shift.shape[shift.rank - 1], t = shift.count / v
                    positions = t
                    var sum = 0.0
                    for p in 0..<t {
                        var s = 0.0
                        let row = shift.data + p * v
                        for j in 0..<v { s += Double(row[j]) * Double(row[j]) }
                        sum += s.squareRoot()
                    }
                    if observation.component == .attention { attention[observation.layer] += sum } else { mlp[observation.layer] += sum }
                }
                tokens += positions
            }
        }
        let n = Double(Swift.max(tokens, 1))
        return LayerShiftResult(stage: stage, attention: attention.map { $0 / n }, mlp: mlp.map { $0 / n })
    }
}
