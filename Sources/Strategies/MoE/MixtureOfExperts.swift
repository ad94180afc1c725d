import Kernel

/// A per-token mixture of two feed-forward experts that stands in for a decoder MLP at the same path:
/// `experts.0` (the original MLP, frozen by the strategy), `experts.1` (a trainable copy) and `router`
/// (a `Linear` hidden -> 2 with bias), so parameters are named `model.layers.3.mlp.experts.1.gate_proj.weight`
/// and `model.layers.3.mlp.router.weight`.
///
/// Training mode: soft top-2, `y = p0 * experts.0(x) + p1 * experts.1(x)` with `p = softmax(router(x))`.
/// Evaluation mode: hard top-1, each token goes through only the expert with the larger router logit (the
/// first on ties, like torch.argmax) with weight 1; when every token picks the same expert, that expert runs
/// on the input as is, so a router preferring expert 0 everywhere reproduces the original MLP bit for bit.
public final class MixtureOfExperts: Module, UnaryLayer {
    public static let expertCount = 2

    public func expert(_ index: Int) -> any UnaryLayer { child("experts.\(index)") as! any UnaryLayer }
    public var router: Linear { child("router") as! Linear }

    /// `original` becomes `experts.0`, `copy` `experts.1`.
    public init(original: any UnaryLayer, copy: any UnaryLayer, router: Linear) {
        precondition(
            router.outFeatures == Self.expertCount,
            "MixtureOfExperts: the router must have \(Self.expertCount) outputs, got \(router.outFeatures)")
        super.init()
        registerChild("experts.0", original)
        registerChild("experts.1", copy)
        registerChild("router", router)
        setTraining(original.isTraining)
    }

    /// x: [..., hidden] -> [..., hidden].
    public func callAsFunction(_ x: Tensor) -> Tensor {
        let logits = router(x)  // [..., 2]
        if isTraining {
            let p = softmax(logits, axis: -1)
            let last = p.rank - 1
            let original = expert(0)
            let copy = expert(1)
            let fromOriginal = original.callAsFunction(x)
            let fromCopy = copy.callAsFunction(x)
            return p.slice(axis: last, start: 0, end: 1) * fromOriginal + p.slice(axis: last, start: 1, end: 2)
                * fromCopy
        }
        return hardTopOne(x, logits: logits)
    }

    /// Each token through the expert its router logit picks, weight 1.
    private func hardTopOne(_ x: Tensor, logits: Tensor) -> Tensor {
        let hidden = x.shape[x.rank - 1]
        let tokens = x.count / hidden
        var chosen: [[Int]] = Array(repeating: [], count: Self.expertCount)
        for t in 0..<tokens {
            let row = logits.data + t * Self.expertCount
            chosen[row[1] > row[0] ? 1 : 0].append(t)
        }
        if let only = chosen.firstIndex(where: { $0.count == tokens }) {
            let layer = expert(only)
            return layer.callAsFunction(x)
        }
        let flat = x.reshaped([tokens, hidden])
        var parts: [Tensor] = []
        var order: [Int] = []
        for (e, rows) in chosen.enumerated() where !rows.isEmpty {
            let layer = expert(e)
            parts.append(layer.callAsFunction(flat.indexSelect(axis: 0, indices: rows)))
            order += rows
        }
        // Rows of concat(parts) are in `order`; put each token back in its place.
        var position = [Int](repeating: 0, count: tokens)
        for (k, t) in order.enumerated() { position[t] = k }
        return concat(parts, axis: 0).indexSelect(axis: 0, indices: position).reshaped(x.shape)
    }
}
