/// Token embedding lookup: rows of a [vocabulary, dimension] table, as `nn.Embedding`.

/// The rows `weight[ids[i]]`: a [ids.count, D] tensor for a weight of shape [V, D]. Reshape the result
/// for batched ids (`embedding(w, ids: flatIds).reshaped([B, T, D])` is free).
///
/// Backward adds each output row's gradient into the row it came from (repeated ids accumulate, in id
/// order, deterministically); a frozen table (`requiresGrad == false`) costs nothing in backward.
public func embedding(_ weight: Tensor, ids: [Int32]) -> Tensor {
    precondition(weight.rank == 2, "embedding: weight must be [vocabulary, dimension], got \(weight.shape)")
    let vocabulary = weight.shape[0]
    let width = weight.shape[1]
    for (i, id) in ids.enumerated() where id < 0 || Int(id) >= vocabulary {
        preconditionFailure(
            "embedding: id \(id) at position \(i) is out of range 0..<\(vocabulary) for weight \(weight.shape)")
    }
    let out = Tensor(uninitialized: [ids.count, width])  // every row is copied in
    ids.withUnsafeBufferPointer { idx in
        gatherRows(from: weight.data, width: width, indices: idx, into: out.data)
    }
    Autograd.record(out, inputs: [weight], op: "embedding") { g in
        let gw = weight.gradStorage()
        ids.withUnsafeBufferPointer { idx in
            scatterAddRows(from: g, width: width, indices: idx, into: gw)
        }
    }
    return out
}
