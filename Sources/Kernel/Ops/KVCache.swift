/// Keys and values of past tokens for incremental (no-grad) generation with `attention`'s layout.
///
/// Each layer has a key and a value buffer of shape [B, capacity, Hkv, Dh]. A generation step runs every
/// layer once with the new tokens' q/k/v ([B, Tnew, H, Dh], already rotated): `attend(layer:...)` appends the
/// new keys/values after that layer's cached ones and attends the new queries causally to the whole cache
/// (query i sits at position length + i). Feeding a prompt at once and then one token at a time gives the
/// same outputs as running `attention` over the full sequence.
///
/// For batched generation with prompts of different lengths (left padding), mark the padding positions with
/// `setKeyValidity`; they are then hidden from every query, like `attention`'s `keyMask`.
public final class KVCache {
    public let layerCount, batchSize, capacity, kvHeads, headDim: Int
    /// Per layer, [B, capacity, Hkv, Dh]; positions 0..<length(layer:) are filled.
    public let keys: [Tensor]
    /// Per layer, [B, capacity, Hkv, Dh].
    public let values: [Tensor]
    private var lengths: [Int]
    /// [B, capacity] key validity flags; nil while every key is valid.
    private var keyValid: [Bool]?

    public init(layers: Int, batchSize: Int, capacity: Int, kvHeads: Int, headDim: Int) {
        precondition(
            layers > 0 && batchSize > 0 && capacity > 0 && kvHeads > 0 && headDim > 0,
            "KVCache: sizes must be > 0, got layers \(layers), batch \(batchSize), capacity \(capacity), kvHeads \(kvHeads), headDim \(headDim)"
        )
        layerCount = layers
        self.batchSize = batchSize
        self.capacity = capacity
        self.kvHeads = kvHeads
        self.headDim = headDim
        keys = (0..<layers).map { _ in Tensor(zeros: [batchSize, capacity, kvHeads, headDim]) }
        values = (0..<layers).map { _ in Tensor(zeros: [batchSize, capacity, kvHeads, headDim]) }
        lengths = Array(repeating: 0, count: layers)
    }

    /// Positions cached in layer 0: the position of the next token to feed (read it before running a step's
    /// layers, e.g. for rotary positions).
    public var length: Int { lengths[0] }

    /// Positions cached in `layer`.
    public func length(layer: Int) -> Int { lengths[layer] }

    /// Forgets every cached position and validity flag (the buffers are reused).
    public func reset() {
        for i in lengths.indices { lengths[i] = 0 }
        keyValid = nil
    }

    /// Marks positions start..<start + n of each batch row valid (true) or padding (false); `valid` is row-major
    /// [B, n]. Positions never marked are valid.
    public func setKeyValidity(_ valid: [Bool], from start: Int) {
        precondition(
            valid.count % batchSize == 0,
            "KVCache.setKeyValidity: \(valid.count) flags is not a multiple of batch size \(batchSize)")
        let n = valid.count / batchSize
        precondition(
            start >= 0 && start + n <= capacity,
            "KVCache.setKeyValidity: positions \(start)..<\(start + n) exceed capacity \(capacity)")
        var flags = keyValid ?? Array(repeating: true, count: batchSize * capacity)
        for b in 0..<batchSize {
            for i in 0..<n { flags[b * capacity + start + i] = valid[b * n + i] }
        }
        keyValid = flags
    }

    /// Appends `newKeys`/`newValues` ([B, Tnew, Hkv, Dh]) to `layer`'s cache and returns the attention of
    /// `query` ([B, Tnew, Hq, Dh], Hq a multiple of Hkv) over all of that layer's cached keys, causally:
    /// new query i sees cached positions 0...previousLength + i. Result: [B, Tnew, Hq, Dh].
    /// For generation only: records no graph (call it under `Autograd.withNoGrad`, or with inputs that do
    /// not require grad).
    public func attend(layer: Int, query: Tensor, newKeys: Tensor, newValues: Tensor, scale: Float? = nil) -> Tensor {
        precondition(layer >= 0 && layer < layerCount, "KVCache.attend: layer \(layer) out of 0..<\(layerCount)")
        precondition(
            !Autograd.needsGrad([query, newKeys, newValues]),
            "KVCache.attend is for no-grad generation: wrap the step in Autograd.withNoGrad")
        let kvShape = [batchSize, newKeys.shape.count == 4 ? newKeys.shape[1] : -1, kvHeads, headDim]
        precondition(
            newKeys.shape == kvShape && newValues.shape == kvShape,
            "KVCache.attend: new keys \(newKeys.shape) and values \(newValues.shape) must be [B=\(batchSize), Tnew, Hkv=\(kvHeads), Dh=\(headDim)]"
        )
        let tNew = kvShape[1]
        precondition(
            query.rank == 4 && query.shape[0] == batchSize && query.shape[1] == tNew
                && query.shape[3] == headDim && query.shape[2] % kvHeads == 0,
            "KVCache.attend: query \(query.shape) must be [B=\(batchSize), Tnew=\(tNew), Hq (multiple of \(kvHeads)), Dh=\(headDim)]"
        )
        let past = lengths[layer]
        precondition(
            past + tNew <= capacity,
            "KVCache.attend: \(past) cached + \(tNew) new positions exceed capacity \(capacity)")

        let row = kvHeads * headDim
        let batchStride = capacity * row
        for b in 0..<batchSize {
            let dst = b * batchStride + past * row
            let src = b * tNew * row
            (keys[layer].data + dst).update(from: newKeys.data + src, count: tNew * row)
            (values[layer].data + dst).update(from: newValues.data + src, count: tNew * row)
        }
        lengths[layer] = past + tNew

        let out = Tensor(zeros: query.shape)
        let geometry = AttentionGeometry(
            batch: batchSize, queries: tNew, keys: past + tNew, queryHeads: query.shape[2], kvHeads: kvHeads,
            headDim: headDim, keyBatchStride: batchStride, queryOffset: past, causal: true,
            scale: scale ?? 1 / Float(headDim).squareRoot())
        precondition(geometry.scale > 0, "KVCache.attend: scale must be > 0, got \(geometry.scale)")
        withOptionalPointer(keyValid) { mask in
            AttentionCore.forward(
                geometry, query.data, keys[layer].data, values[layer].data, out.data,
                logSumExp: nil, mask: mask, maskBatchStride: capacity)
        }
        return out
    }
}
