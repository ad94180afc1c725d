/// Global gradient-norm clipping, as `torch.nn.utils.clip_grad_norm_` with the L2 norm.

/// Scales the gradients of `parameters` so that their global L2 norm is at most `maxNorm`, and returns the
/// norm before clipping.
///
/// The norm is accumulated in Double in a fixed order (fixed-size blocks, parameters in the given order), so
/// it is bitwise the same for any thread count. Parameters without a gradient are ignored. As in torch, the
/// gradients are multiplied by `maxNorm / (norm + 1e-6)` when that factor is below 1.
///
/// A non-finite norm (a NaN or infinite gradient) is returned as is and the gradients are left untouched,
/// unlike torch, which would multiply them by NaN or zero: the caller decides (typically skips the step).
@discardableResult
public func clipGradNorm(_ parameters: [Tensor], maxNorm: Float) -> Float {
    precondition(maxNorm > 0 && maxNorm.isFinite, "clipGradNorm: maxNorm must be finite and > 0, got \(maxNorm)")
    let grads = parameters.compactMap(\.grad)
    let norm = globalGradientNorm(grads)
    guard norm.isFinite else { return Float(norm) }
    let coefficient = Double(maxNorm) / (norm + 1e-6)
    if coefficient < 1 {
        let c = Float(coefficient)
        for g in grads {
            let p = g.data
            Parallel.forRanges(g.count, minimumPerChunk: 1 << 15) { range in
                for i in range { p[i] = p[i] * c }
            }
        }
    }
    return Float(norm)
}

/// Named-parameter form of `clipGradNorm(_:maxNorm:)`.
@discardableResult
public func clipGradNorm(_ parameters: [(name: String, tensor: Tensor)], maxNorm: Float) -> Float {
    clipGradNorm(parameters.map(\.tensor), maxNorm: maxNorm)
}

/// The L2 norm of all elements of `tensors` taken together, in Double, independent of the thread count.
public func globalGradientNorm(_ tensors: [Tensor]) -> Double {
    var sumOfSquares = 0.0
    for t in tensors { sumOfSquares += sumOfSquaresDeterministic(t.data, count: t.count) }
    return sumOfSquares.squareRoot()
}

/// Sum of x^2 over `count` floats in Double: fixed blocks summed in parallel, block sums added in order.
func sumOfSquaresDeterministic(_ x: UnsafeMutablePointer<Float>, count: Int) -> Double {
    let blockSize = 1 << 14
    let blocks = (count + blockSize - 1) / blockSize
    guard blocks > 1 else { return sumOfSquaresBlock(x, count: count) }
    let partials = UnsafeMutablePointer<Double>.allocate(capacity: blocks)
    defer { partials.deallocate() }
    Parallel.forRanges(blocks) { range in
        for b in range {
            let start = b * blockSize
            partials[b] = sumOfSquaresBlock(x + start, count: min(blockSize, count - start))
        }
    }
    var total = 0.0
    for b in 0..<blocks { total += partials[b] }
    return total
}

/// Sum of x^2 in Double with four interleaved accumulators (a fixed order, so deterministic).
@inline(__always)
private func sumOfSquaresBlock(_ x: UnsafeMutablePointer<Float>, count: Int) -> Double {
    var s0 = 0.0
    var s1 = 0.0
    var s2 = 0.0
    var s3 = 0.0
    var i = 0
    while i + 4 <= count {
        let a = Double(x[i])
        let b = Double(x[i + 1])
        let c = Double(x[i + 2])
        let d = Double(x[i + 3])
        s0 = s0 + a * a
        s1 = s1 + b * b
        s2 = s2 + c * c
        s3 = s3 + d * d
        i += 4
    }
    while i < count {
        let a = Double(x[i])
        s0 = s0 + a * a
        i += 1
    }
    return (s0 + s1) + (s2 + s3)
}
