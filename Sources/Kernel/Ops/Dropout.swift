/// Inverted dropout: during training each element is zeroed with probability p and the survivors are
/// scaled by 1 / (1 - p), so evaluation needs no rescaling.

/// Inverted dropout of `x` with drop probability `probability` (0...1).
///
/// - Returns `x` itself (no copy, no random draws) when `training` is false or `probability` is 0.
/// - Otherwise the mask depends only on `generator`'s state and `x.count`: it takes one 64-bit draw per
///   two elements (24 random bits each) and advances `generator` by (count + 1) / 2 draws. Same
///   generator state, same mask, on any machine and thread count.
/// - Backward multiplies the gradient by the same mask and scale. With probability 1 everything is
///   dropped and the gradient is zero.
public func dropout(_ x: Tensor, probability p: Float, generator: inout RandomGenerator, training: Bool) -> Tensor {
    precondition(p >= 0 && p <= 1, "dropout: probability \(p) is not in 0...1")
    guard training && p > 0 else { return x }
    let n = x.count
    let scale: Float = p < 1 ? 1 / (1 - p) : 0
    let threshold = p * 16_777_216  // keep when the 24-bit draw u satisfies u / 2^24 >= p
    let out = Tensor(zeros: x.shape)
    let px = x.data
    let po = out.data
    let recording = Autograd.needsGrad([x])
    // The mask is kept (one byte per element) only when backward will need it.
    var mask = [UInt8](repeating: 0, count: recording ? n : 0)
    // A local copy keeps the generator state in registers in the loop; written back afterwards.
    var stream = generator
    mask.withUnsafeMutableBufferPointer { maskBuffer in
        let maskPointer = recording ? maskBuffer.baseAddress : nil
        @inline(__always) func apply(_ i: Int, _ u: Float) {
            let keep = u >= threshold
            po[i] = keep ? px[i] * scale : 0
            if let maskPointer { maskPointer[i] = keep ? 1 : 0 }
        }
        var i = 0
        while i + 1 < n {
            let bits = stream.next()
            apply(i, Float(bits >> 40))
            apply(i + 1, Float((bits >> 8) & 0xFF_FFFF))
            i += 2
        }
        if i < n { apply(i, Float(stream.next() >> 40)) }
    }
    generator = stream
    Autograd.record(out, inputs: [x], op: "dropout") { g in
        let gx = x.gradStorage()
        mask.withUnsafeBufferPointer { keep in
            Parallel.forRanges(n, minimumPerChunk: elementwiseParallelGrain) { r in
                for i in r { gx[i] += keep[i] != 0 ? g[i] * scale : 0 }
            }
        }
    }
    return out
}
