import Kernel

/// A Qwen2/Llama-style causal language model: `model` (the decoder stack) and `lm_head` (absent when tied).
///
/// It works on embeddings as well as token ids, so a multimodal backbone can splice projected image
/// features into the sequence before the decoder runs.
open class CausalLanguageModel: Module {
    public let config: DecoderConfig
    public var model: DecoderStack { child("model") as! DecoderStack }

    /// The unembedding matrix [vocab, hidden]: `lm_head.weight`, or the embedding matrix when tied.
    public var lmHeadWeight: Tensor {
        config.tieWordEmbeddings ? model.embedTokens : child("lm_head")!.parameter("weight")!
    }

    /// A freshly initialised model (HF initialisation: N(0, 0.02) matrices, zero biases, unit norms).
    /// - Parameter initializeLikeHF: false skips the N(0, 0.02) pass (the linears keep their uniform
    ///   default): for loaders that overwrite every parameter, where the normal draws cost seconds.
    public init(_ config: DecoderConfig, generator: inout RandomGenerator, initializeLikeHF: Bool = true) {
        precondition(config.problems().isEmpty, "DecoderConfig: " + config.problems().joined(separator: "; "))
        self.config = config
        super.init()
        registerChild("model", DecoderStack(config, generator: &generator))
        if !config.tieWordEmbeddings {
            registerChild(
                "lm_head", Linear(config.hiddenSize, config.vocabularySize, bias: false, generator: &generator))
        }
        if initializeLikeHF { Transformer.initializeLikeHF(self, generator: &generator) }
    }

    /// Token embeddings [batch, tokens.count / batch, hidden] for row-major ids.
    public func embed(_ tokens: [Int32], batchSize: Int) -> Tensor {
        precondition(
            batchSize > 0 && tokens.count % batchSize == 0,
            "embed: \(tokens.count) ids do not split into \(batchSize) rows")
        return embedding(model.embedTokens, ids: tokens).reshaped([
            batchSize, tokens.count / batchSize, config.hiddenSize,
        ])
    }

    /// Runs the decoder stack on embeddings [B, T, hidden] and applies the final norm.
    /// - Parameters:
    ///   - positions: T positions shared by every row, or B*T per row.
    ///   - keyMask: B*T flags hiding padding keys (not needed for right padding in training).
    ///   - cache: for generation (no grad): appends to and attends over the cache.
    public func hiddenStates(
        _ embeddings: Tensor, positions: [Int], keyMask: [Bool]? = nil, cache: KVCache? = nil,
        observer: ((LayerObservation) -> Void)? = nil
    ) -> Tensor {
        hiddenStates(
            embeddings, positions: RotaryPositions(positions), keyMask: keyMask, cache: cache, observer: observer)
    }

    /// `hiddenStates` with several position planes (M-RoPE's temporal, height and width, when the config has
    /// `mrope_section`).
    public func hiddenStates(
        _ embeddings: Tensor, positions: RotaryPositions, keyMask: [Bool]? = nil, cache: KVCache? = nil,
        observer: ((LayerObservation) -> Void)? = nil
    ) -> Tensor {
        var x = embeddings
        let stack = model
        for i in 0..<config.layers {
            x = stack.layer(i)(x, positions: positions, keyMask: keyMask, cache: cache, index: i, observer: observer)
        }
        return stack.norm(x)
    }

    /// Hidden states [..., hidden] -> logits [..., vocab].
    public func unembed(_ hidden: Tensor) -> Tensor { linear(hidden, lmHeadWeight) }

    /// Logits [B, T, vocab] for right-padded token rows.
    public func logits(_ tokens: [Int32], batchSize: Int, observer: ((LayerObservation) -> Void)? = nil) -> Tensor {
        let x = embed(tokens, batchSize: batchSize)
        return unembed(hiddenStates(x, positions: Array(0..<x.shape[1]), observer: observer))
    }

    /// Greedy decoding from prompt embeddings (each [T_i, hidden]), batched with left padding and a KV cache.
    /// Returns each prompt's new tokens, ending with the first end-of-sequence token (included) or after
    /// `maxNewTokens`. `onStep(prompt, logits)` sees the logits each new token was chosen from.
    ///
    /// `promptPositions` gives each prompt's rotary positions (M-RoPE's planes for a prompt with images);
    /// by default 0..<T_i. New tokens take one position on every plane, counting on from the prompt's largest
    /// (for 0..<T_i that is T_i; for M-RoPE it is transformers' `rope_deltas` + T_i).
    public func generateGreedy(
        _ prompts: [Tensor], maxNewTokens: Int, endOfSequence: Set<Int32>,
        promptPositions: [RotaryPositions]? = nil, batchSize: Int = 16,
        onStep: ((Int, UnsafeBufferPointer<Float>) -> Void)? = nil
    ) -> [[Int32]] {
        precondition(maxNewTokens >= 0, "generateGreedy: maxNewTokens must be >= 0, got \(maxNewTokens)")
        var results = [[Int32]](repeating: [], count: prompts.count)
        guard maxNewTokens > 0 else { return results }
        let d = config.hiddenSize
        let vocab = config.vocabularySize
        Autograd.withNoGrad {
            for start in stride(from: 0, to: prompts.count, by: max(1, batchSize)) {
                let rows = Array(start..<min(prompts.count, start + max(1, batchSize)))
                let b = rows.count
                let lengths = rows.map { prompts[$0].shape[0] }
                precondition(lengths.allSatisfy { $0 > 0 }, "generateGreedy: empty prompt")
                let tMax = lengths.max()!
                // Left padding: row r's prompt occupies the last lengths[r] positions.
                let x = Tensor(zeros: [b, tMax, d])
                let given = rows.map { promptPositions?[$0] ?? RotaryPositions(Array(0..<prompts[$0].shape[0])) }
                let planeCount = given.map(\.planes.count).max()!
                var planes = [[Int]](repeating: [Int](repeating: 0, count: b * tMax), count: planeCount)
                var valid = [Bool](repeating: false, count: b * tMax)
                var nextPosition = [Int](repeating: 0, count: b)
                for (r, p) in rows.enumerated() {
                    precondition(
                        prompts[p].rank == 2 && prompts[p].shape[1] == d,
                        "generateGreedy: prompt \(p) has shape \(prompts[p].shape), expected [T, \(d)]")
                    precondition(
                        given[r].count == lengths[r],
                        "generateGreedy: prompt \(p) has \(lengths[r]) tokens but \(given[r].count) positions")
                    let pad = tMax - lengths[r]
                    (x.data + (r * tMax + pad) * d).update(from: prompts[p].data, count: lengths[r] * d)
                    for plane in 0..<planeCount {
                        let source = given[r].plane(plane)
                        for j in pad..<tMax { planes[plane][r * tMax + j] = source[j - pad] }
                    }
                    for j in pad..<tMax { valid[r * tMax + j] = true }
                    nextPosition[r] = given[r].maximum + 1
                }
                let positions = RotaryPositions(planes: planes)
                let cache = KVCache(
                    layers: config.layers, batchSize: b, capacity: tMax + maxNewTokens,
                    kvHeads: config.kvHeads, headDim: config.headDim)
                cache.setKeyValidity(valid, from: 0)
                let h = hiddenStates(x, positions: positions, cache: cache)
                let last = Tensor(zeros: [b, d])
                for r in 0..<b { (last.data + r * d).update(from: h.data + (r * tMax + tMax - 1) * d, count: d) }
                var logits = unembed(last)
                var done = [Bool](repeating: false, count: b)
                for step in 0..<maxNewTokens {
                    var next = [Int32](repeating: 0, count: b)
                    for r in 0..<b where !done[r] {
                        let row = UnsafeBufferPointer(start: logits.data + r * vocab, count: vocab)
                        onStep?(rows[r], row)
                        let token = Int32(argmax(row))
                        results[rows[r]].append(token)
                        next[r] = token
                        if endOfSequence.contains(token) { done[r] = true }
                    }
                    if step == maxNewTokens - 1 || done.allSatisfy({ $0 }) { break }
                    let stepPositions = RotaryPositions((0..<b).map { nextPosition[$0] + step })
                    let hs = hiddenStates(embed(next, batchSize: b), positions: stepPositions, cache: cache)
                    logits = unembed(hs.reshaped([b, d]))
                }
            }
        }
        return results
    }
}

/// Index of the largest value (the first one on ties, like torch.argmax). NaNs are never chosen.
public func argmax(_ values: UnsafeBufferPointer<Float>) -> Int {
    var best = 0
    var bestValue = -Float.infinity
    for (i, v) in values.enumerated() where v > bestValue {
        best = i
        bestValue = v
    }
    return best
}
