/// Row normalizations over the last axis: RMSNorm (Llama/Qwen2 decoders) and LayerNorm (ViT encoders).
///
/// Each row of `D` values is normalized independently; the learned `weight` (and LayerNorm's `bias`) of
/// shape [D] are shared by every row. Forward saves one or two floats per row (the reciprocal RMS or standard
/// deviation, the mean) for the backward pass. The input gradient is computed row-parallel; the weight and
/// bias gradients are computed column-parallel (each thread owns a range of the D columns and sums over all
/// rows in order), so they are deterministic whatever the thread count, and skipped for frozen parameters.

/// HF `Qwen2RMSNorm` / `LlamaRMSNorm` in float32: `weight * (x * rsqrt(mean(x^2) + eps))`.
/// - Parameters:
///   - x: [..., D].
///   - weight: [D].
///   - eps: added to the mean square (HF Qwen2 uses 1e-6, Llama 1e-5 or 1e-6: read it from the config).
/// - Returns: [..., D].
public func rmsNorm(_ x: Tensor, weight: Tensor, eps: Float = 1e-6) -> Tensor {
    let (rows, d) = normalizationRows(x, weight: weight, bias: nil, op: "rmsNorm")
    let out = Tensor(uninitialized: x.shape)
    let recording = Autograd.needsGrad([x, weight])
    let inverseRMS = Storage(count: recording ? rows : 0)
    let xs = x.data
    let ws = weight.data
    let ys = out.data
    let saved = inverseRMS.pointer
    RowKernels.forEachRow(rows, width: d) { r in
        let xr = xs + r * d
        let yr = ys + r * d
        let inv = 1 / (RowKernels.dot(xr, xr, d) / Float(d) + eps).squareRoot()
        if recording { saved[r] = inv }
        for j in 0..<d { yr[j] = (xr[j] * inv) * ws[j] }
    }
    Autograd.record(out, inputs: [x, weight], op: "rmsNorm") { dY in
        let inv = inverseRMS.pointer
        if x.requiresGrad {
            // dx = inv * w * g - x * inv^3 / D * sum(g * w * x)
            let (dX, accumulate) = x.gradStorageForUpdate()
            RowKernels.forEachRow(rows, width: d) { r in
                let xr = xs + r * d
                let gr = dY + r * d
                let dr = dX + r * d
                let ir = inv[r]
                let c = RowKernels.dot3(gr, ws, xr, d) * ir * ir * ir / Float(d)
                if accumulate {
                    for j in 0..<d { dr[j] = dr[j] + ir * ws[j] * gr[j] - xr[j] * c }
                } else {
                    for j in 0..<d { dr[j] = ir * ws[j] * gr[j] - xr[j] * c }
                }
            }
        }
        if weight.requiresGrad {  // dw = sum over rows of g * x * inv
            let dW = weight.gradStorage()
            Parallel.forRanges(d, minimumPerChunk: 16) { columns in
                for r in 0..<rows {
                    let xr = xs + r * d
                    let gr = dY + r * d
                    let ir = inv[r]
                    for j in columns { dW[j] = dW[j] + gr[j] * (xr[j] * ir) }
                }
            }
        }
    }
    return out
}

/// PyTorch `nn.LayerNorm` over the last axis: `(x - mean) / sqrt(var + eps) * weight + bias`, with the
/// biased variance (divided by D).
/// - Parameters:
///   - x: [..., D].
///   - weight: [D].
///   - bias: [D], or nil for none.
///   - eps: added to the variance (PyTorch default 1e-5; CLIP/SigLIP configs give their own).
/// - Returns: [..., D].
public func layerNorm(_ x: Tensor, weight: Tensor, bias: Tensor?, eps: Float = 1e-5) -> Tensor {
    let (rows, d) = normalizationRows(x, weight: weight, bias: bias, op: "layerNorm")
    var inputs = [x, weight]
    if let bias { inputs.append(bias) }
    let out = Tensor(zeros: x.shape)
    let recording = Autograd.needsGrad(inputs)
    let stats = Storage(count: recording ? 2 * rows : 0)  // mean, inverse std per row
    let xs = x.data
    let ws = weight.data
    let bs = bias?.data
    let ys = out.data
    let saved = stats.pointer
    RowKernels.forEachRow(rows, width: d) { r in
        let xr = xs + r * d
        let yr = ys + r * d
        let mean = RowKernels.sum(xr, d) / Float(d)
        let inv = 1 / (RowKernels.squaredDeviation(xr, d, from: mean) / Float(d) + eps).squareRoot()
        if recording {
            saved[2 * r] = mean
            saved[2 * r + 1] = inv
        }
        if let bs {
            for j in 0..<d { yr[j] = (xr[j] - mean) * inv * ws[j] + bs[j] }
        } else {
            for j in 0..<d { yr[j] = (xr[j] - mean) * inv * ws[j] }
        }
    }
    Autograd.record(out, inputs: inputs, op: "layerNorm") { dY in
        let st = stats.pointer
        if x.requiresGrad {
            // With xhat = (x - mean) * inv and h = g * w: dx = inv * (h - mean(h) - xhat * mean(h * xhat)).
            let dX = x.gradStorage()
            RowKernels.forEachRow(rows, width: d) { r in
                let xr = xs + r * d
                let gr = dY + r * d
                let dr = dX + r * d
                let mean = st[2 * r]
                let inv = st[2 * r + 1]
                let meanH = RowKernels.dot(gr, ws, d) / Float(d)
                let meanHX = RowKernels.dot3(gr, ws, xr, d, center: mean) * inv / Float(d)
                for j in 0..<d {
                    let xhat = (xr[j] - mean) * inv
                    dr[j] = dr[j] + inv * (gr[j] * ws[j] - meanH - xhat * meanHX)
                }
            }
        }
        let dW = weight.requiresGrad ? weight.gradStorage() : nil
        let dB = bias?.requiresGrad == true ? bias?.gradStorage() : nil
        if dW != nil || dB != nil {  // dw = sum g * xhat, db = sum g, over rows
            Parallel.forRanges(d, minimumPerChunk: 16) { columns in
                for r in 0..<rows {
                    let xr = xs + r * d
                    let gr = dY + r * d
                    let mean = st[2 * r]
                    let inv = st[2 * r + 1]
                    if let dW { for j in columns { dW[j] = dW[j] + gr[j] * ((xr[j] - mean) * inv) } }
                    if let dB { for j in columns { dB[j] = dB[j] + gr[j] } }
                }
            }
        }
    }
    return out
}

/// Checks the shapes of a last-axis normalization and returns (rows, D).
private func normalizationRows(_ x: Tensor, weight: Tensor, bias: Tensor?, op: String) -> (rows: Int, d: Int) {
    precondition(x.rank >= 1, "\(op): x must be [..., D], got \(x.shape)")
    let d = x.shape[x.rank - 1]
    precondition(d > 0, "\(op): x must be [..., D] with D > 0, got \(x.shape)")
    precondition(weight.shape == [d], "\(op): weight must be [\(d)] for x \(x.shape), got \(weight.shape)")
    if let bias { precondition(bias.shape == [d], "\(op): bias must be [\(d)] for x \(x.shape), got \(bias.shape)") }
    return (x.count / d, d)
}
