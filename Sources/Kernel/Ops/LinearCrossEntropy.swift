import Foundation

/// The output head and its cross-entropy in one op: `crossEntropy(linear(hidden, weight), targets)` without
/// materialising the [N, V] logits of every position, nor their gradient.
///
/// With a 151936-token vocabulary the logits of 1024 positions take 622 MB, and their gradient as much again;
/// this op holds the logits of one chunk of rows at a time (`chunkElements` floats), and only of the rows
/// that have a target (answer tokens): the ignored rows' logits are never computed.
///
/// The loss is a scalar whose gradient is known up to the factor `dLoss` as soon as the logits are, so when a
/// gradient is needed the forward pass computes it (as Liger-Kernel's fused linear cross-entropy does), and
/// backward only multiplies by `dLoss` (usually exactly 1: then the saved buffers become the gradients without
/// a copy). No logits are recomputed. Two ways, by whether the head's weight trains:
///
/// - **The weight trains** (`LinearCrossEntropyHead.chunkedByRows`): per chunk of kept rows `c`,
///
///       logits_c = hidden_c weight^T                              (GEMM, [C, V])
///       loss_r   = (logsumexp(logits_r) - logits_r[target_r]) w_r
///       dZ_c     = (softmax(logits_c) - onehot(targets_c)) w / sum(w)   (in place, in the logits buffer)
///       dHidden_c = dZ_c weight                                  (GEMM, [C, d])
///       dWeight  += dZ_c^T hidden_c                               (GEMM, [V, d])
///
///   The loss value, each logit and each kept row's logit gradient are computed by the same formulas in the
///   same order as `linear` + `crossEntropy`; the hidden gradient matches the unfused path as far as the GEMM
///   gives each row the same bits whatever the other rows are, and `weight`'s gradient sums the rows chunk by
///   chunk (equal up to float rounding).
/// - **The weight is frozen and the vocabulary wider than one block** (`LinearCrossEntropyHead
///   .streamedOverVocabulary`, every recipe that does not train `lm_head`, on a real checkpoint's vocabulary):
///   all kept rows at once, a block of `streamColumns` vocabulary entries at a time, with an online softmax, so
///   the head's weight is copied into packed panels twice per step instead of twice per chunk (a sa-proj step
///   at Qwen2-0.5B widths packed it 6 times) and no full logit row is ever held. Loss and hidden gradient equal
///   the unfused path's up to float rounding (the sums run in another order). A vocabulary of one block (the
///   built-in tiny-llava's 282 words) keeps the first way, whose one chunk already packs the weight once.
///
/// Semantics are `crossEntropy`'s (mean over the kept rows, `rowWeights`, `ignoreIndex`, loss 0 and no gradient
/// when every target is ignored). Which way runs depends only on `weight.requiresGrad` and the vocabulary, so a
/// loss computed with and without recording (`Autograd.withNoGrad`) has the same bits. Deterministic, and the
/// same bits for every thread count.
/// - Parameters:
///   - hidden: [..., d] (N rows).
///   - weight: [V, d], the head (`lm_head.weight`, no bias).
///   - targets: N class indices in 0..<V, or `ignoreIndex`.
///   - rowWeights: nil, or N finite weights >= 0 (as in `crossEntropy`).
///   - chunkElements: the most logits held at once (rounded up to one row, or to one block of
///     `LinearCrossEntropyHead.streamColumns` columns when the weight is frozen). With a trained weight each
///     chunk packs the head's weight for its products again (two copies of [V, d]), so fewer, larger chunks are
///     faster: 2^26 (256 MB; 3 chunks of 342 rows for 1024 positions at V = 151936) made a full step at
///     Qwen2-0.5B widths 3% faster than 2^25 (5 chunks).
/// - Returns: a scalar.
public func linearCrossEntropy(
    _ hidden: Tensor, weight: Tensor, targets: [Int32], rowWeights: [Float]? = nil,
    ignoreIndex: Int32 = -100, chunkElements: Int = 1 << 26
) -> Tensor {
    precondition(weight.rank == 2, "linearCrossEntropy: weight must be [V, d], got \(weight.shape)")
    let v = weight.shape[0]
    let d = weight.shape[1]
    precondition(
        v > 0 && hidden.rank >= 1 && hidden.shape[hidden.rank - 1] == d,
        "linearCrossEntropy: hidden \(hidden.shape) does not end in \(d) (weight \(weight.shape))")
    precondition(chunkElements > 0, "linearCrossEntropy: chunkElements must be > 0, got \(chunkElements)")
    let rows = d == 0 ? 0 : hidden.count / d
    precondition(
        targets.count == rows,
        "linearCrossEntropy: \(targets.count) targets for hidden \(hidden.shape), expected \(rows)")
    for (r, target) in targets.enumerated() where target != ignoreIndex {
        precondition(
            target >= 0 && Int(target) < v,
            "linearCrossEntropy: target \(target) at row \(r) is outside 0..<\(v) and is not ignoreIndex \(ignoreIndex)"
        )
    }
    if let rowWeights {
        precondition(
            rowWeights.count == rows,
            "linearCrossEntropy: \(rowWeights.count) row weights for hidden \(hidden.shape), expected \(rows)")
        precondition(
            rowWeights.allSatisfy { $0.isFinite && $0 >= 0 }, "linearCrossEntropy: row weights must be finite and >= 0")
    }
    // As in `crossEntropy`: each row's weight (0 when ignored) and their sum in row order.
    let weights = (0..<rows).map { targets[$0] == ignoreIndex ? 0 : rowWeights?[$0] ?? 1 }
    let total = weights.reduce(0.0) { $0 + Double($1) }
    precondition(
        rowWeights == nil || total > 0 || !targets.contains { $0 != ignoreIndex },
        "linearCrossEntropy: the kept rows' weights sum to 0")
    let kept = (0..<rows).filter { targets[$0] != ignoreIndex }
    let needsGrad = total > 0 && Autograd.needsGrad([hidden, weight])
    let wantsHidden = needsGrad && hidden.requiresGrad
    let wantsWeight = needsGrad && weight.requiresGrad

    let rowLoss = Storage(count: rows)  // ignored rows stay 0
    // The gradients, for dLoss = 1: the kept rows' hidden gradient [kept, d] and the weight's [V, d].
    let hiddenGrad = wantsHidden ? Storage(uninitializedCount: kept.count * d) : nil
    let weightGrad = wantsWeight ? Storage(uninitializedCount: v * d) : nil
    let head = LinearCrossEntropyHead(
        hidden: hidden.data, weight: weight.data, width: d, vocabulary: v, targets: targets, weights: weights,
        kept: kept, gradientScale: Float(1) / Float(total), rowLoss: rowLoss.pointer,
        hiddenGrad: hiddenGrad?.pointer, chunkElements: chunkElements)
    if weight.requiresGrad || v <= LinearCrossEntropyHead.streamColumns {
        head.chunkedByRows(weightGrad: weightGrad?.pointer, needsGrad: needsGrad)
    } else {
        head.streamedOverVocabulary()
    }
    var loss = 0.0
    for r in 0..<rows { loss += Double(rowLoss.pointer[r]) }
    let out = Tensor(scalar: total == 0 ? 0 : Float(loss / total))
    guard needsGrad else { return out }
    Autograd.record(out, inputs: [hidden, weight], op: "linearCrossEntropy") { dOut in
        let s = dOut[0]
        if let hiddenGrad, hidden.requiresGrad {
            addHiddenGradient(hiddenGrad, kept: kept, width: d, scale: s, into: hidden)
        }
        if let weightGrad, weight.requiresGrad {
            if weight.grad == nil && s == 1 {
                weight.grad = Tensor(shape: weight.shape, storage: weightGrad)
            } else {
                let (dW, accumulate) = weight.gradStorageForUpdate()
                scaledUpdate(dW, from: weightGrad.pointer, count: v * d, scale: s, accumulate: accumulate)
            }
        }
    }
    return out
}

/// The loss's rows and buffers, and the two ways of computing it.
struct LinearCrossEntropyHead {
    let hidden: UnsafePointer<Float>, weight: UnsafePointer<Float>
    let width: Int, vocabulary: Int
    let targets: [Int32]
    /// Each row's weight, 0 for ignored rows.
    let weights: [Float]
    let kept: [Int]
    /// 1 / (the kept rows' weight sum): dLoss / dLoss_r per unit row weight.
    let gradientScale: Float
    let rowLoss: UnsafeMutablePointer<Float>
    /// [kept, width], or nil when the hidden states need no gradient.
    let hiddenGrad: UnsafeMutablePointer<Float>?
    let chunkElements: Int

    /// Vocabulary columns per block of `streamedOverVocabulary`: two column blocks of the packed product, so
    /// each logits product packs the hidden states once for both (`Gemm.keptPackedA`). A sa-proj step at
    /// Qwen2-0.5B widths took 7842-7861 ms with 4096, 7917-7946 with 2048 and 7838-7839 with 8192 (one Zen 4
    /// thread, haswell build); at 1024 rows a block of logits is 16 MB, which stays in a 32 MB L3.
    static let streamColumns = 2 * Gemm.packedColumns

    /// Chunks of whole logit rows (see `linearCrossEntropy`): the path when the head's weight trains.
    func chunkedByRows(weightGrad: UnsafeMutablePointer<Float>?, needsGrad: Bool) {
        let (d, v) = (width, vocabulary)
        let kept = self.kept
        let plan = LinearCrossEntropyPlan(kept: kept, vocabulary: v, chunkElements: chunkElements)
        let logits = Storage(uninitializedCount: plan.chunkRows * v)
        let gathered = plan.contiguous ? nil : Storage(uninitializedCount: plan.chunkRows * d)
        let g = gradientScale
        let (hidden, weight, rowLoss, hiddenGrad) = (self.hidden, self.weight, self.rowLoss, self.hiddenGrad)
        targets.withUnsafeBufferPointer { tp in
            weights.withUnsafeBufferPointer { w in
                for chunk in 0..<plan.chunks {
                    let range = plan.range(chunk)
                    let c = range.count
                    // The chunk's hidden rows, contiguous: in place when the kept rows are, else gathered.
                    let h: UnsafePointer<Float>
                    if let gathered {
                        for (i, r) in kept[range].enumerated() {
                            (gathered.pointer + i * d).update(from: hidden + r * d, count: d)
                        }
                        h = UnsafePointer(gathered.pointer)
                    } else {
                        h = UnsafePointer(hidden + kept[range.lowerBound] * d)
                    }
                    let z = logits.pointer
                    let losses = rowLoss
                    // logits_c = h_c W^T: the call `linear` makes.
                    Gemm.sgemm(
                        transA: false, transB: true, m: c, n: v, k: d, a: h, lda: d, b: weight, ldb: d,
                        beta: 0, c: z, ldc: v)
                    RowKernels.forEachRow(c, width: v) { i in
                        let r = kept[range.lowerBound + i]
                        let t = Int(tp[r])
                        let zr = z + i * v
                        let lse = RowKernels.logSumExp(zr, v, scale: 1)
                        losses[r] = (lse - zr[t]) * w[r]
                        guard needsGrad else { return }
                        let gr = g * w[r]
                        writeScaledSoftmax(zr, v, logSumExp: lse, factor: gr)
                        zr[t] -= gr
                    }
                    guard needsGrad else { continue }
                    if let hiddenGrad {  // dHidden_c = dZ_c W: the call `linear`'s backward makes.
                        Gemm.sgemm(
                            transA: false, transB: false, m: c, n: d, k: v, a: z, lda: v, b: weight, ldb: d,
                            beta: 0, c: hiddenGrad + range.lowerBound * d, ldc: d)
                    }
                    if let weightGrad {  // dW += dZ_c^T h_c
                        Gemm.sgemm(
                            transA: true, transB: false, m: v, n: d, k: c, a: z, lda: v, b: h, ldb: d,
                            beta: chunk == 0 ? 0 : 1, c: weightGrad, ldc: d)
                    }
                }
            }
        }
    }

    /// The path when the head's weight is frozen (every recipe but those that train `lm_head`): the logits of
    /// all kept rows (up to `chunkElements / streamColumns` at a time), a block of `streamColumns` vocabulary
    /// entries at a time, with the softmax kept online as flash attention keeps it. Per row r, over the blocks b
    /// in order, with m_r the largest logit so far, s_r the sum of exp(z - m_r) so far and u_r (the row's
    /// hidden gradient buffer) the sum of exp(z_v - m_r) W_v so far:
    ///
    ///     Z_b = h W_b^T                                     (GEMM, [rows, streamColumns])
    ///     m' = max(m_r, max Z_b[r]);  s_r, u_r *= exp(m_r - m')  (only when the maximum grows)
    ///     P_b[r] = exp(Z_b[r] - m'),  s_r += sum P_b[r]     (in place)
    ///     u += P_b W_b                                      (GEMM, [rows, d])
    ///
    /// then loss_r = (m_r + log s_r - z_r[target_r]) w_r and dHidden_r = g w_r (u_r / s_r - W[target_r]).
    /// The head's weight is read once per chunk for each of the two products, against twice per chunk of
    /// `chunkedByRows`, whose chunks must hold whole logit rows (at a 151936 vocabulary and 1024 positions, 3
    /// chunks: 6 copies of the weight into packed panels), and a block of logits (16 MB at 1024 rows) stays
    /// in the last-level cache between its two products. The sums are taken in a different order from
    /// `crossEntropy`'s, so the loss and gradient equal the unfused path's up to float rounding.
    func streamedOverVocabulary() {
        let (d, v) = (width, vocabulary)
        let kept = self.kept
        guard !kept.isEmpty else { return }
        let columns = min(v, Self.streamColumns)
        let chunkRows = min(kept.count, max(1, chunkElements / columns))
        let contiguous = kept[kept.count - 1] - kept[0] == kept.count - 1
        let logits = Storage(uninitializedCount: chunkRows * columns)
        let gathered = contiguous ? nil : Storage(uninitializedCount: chunkRows * d)
        let largest = Storage(uninitializedCount: chunkRows)
        let sums = Storage(uninitializedCount: chunkRows)
        let targetLogits = Storage(uninitializedCount: chunkRows)
        let (hidden, weight, rowLoss, hiddenGrad) = (self.hidden, self.weight, self.rowLoss, self.hiddenGrad)
        let (z, m, s, zt) = (logits.pointer, largest.pointer, sums.pointer, targetLogits.pointer)
        let g = gradientScale
        targets.withUnsafeBufferPointer { tp in
            weights.withUnsafeBufferPointer { w in
                for first in stride(from: 0, to: kept.count, by: chunkRows) {
                    let c = min(chunkRows, kept.count - first)
                    let h: UnsafePointer<Float>
                    if let gathered {
                        for i in 0..<c {
                            (gathered.pointer + i * d).update(from: hidden + kept[first + i] * d, count: d)
                        }
                        h = UnsafePointer(gathered.pointer)
                    } else {
                        h = hidden + kept[first] * d
                    }
                    let u = hiddenGrad.map { $0 + first * d }
                    m.update(repeating: -.infinity, count: c)
                    s.update(repeating: 0, count: c)
                    u?.update(repeating: 0, count: c * d)
                    for j0 in stride(from: 0, to: v, by: columns) {
                        let n = min(columns, v - j0)
                        Gemm.sgemm(
                            transA: false, transB: true, m: c, n: n, k: d, a: h, lda: d, b: weight + j0 * d,
                            ldb: d, beta: 0, c: z, ldc: n)
                        RowKernels.forEachRow(c, width: n) { i in
                            let zr = z + i * n
                            let t = Int(tp[kept[first + i]]) - j0
                            if t >= 0 && t < n { zt[i] = zr[t] }
                            let grown = max(m[i], RowKernels.max(zr, n))
                            if grown > m[i] {
                                if m[i] > -.infinity {
                                    let factor = RowKernels.exp(m[i] - grown)
                                    s[i] *= factor
                                    if let u { RowKernels.scale(u + i * d, d, by: factor) }
                                }
                                m[i] = grown
                            }
                            if u != nil {
                                s[i] += RowKernels.expAndSum(zr, zr, n, scale: 1, shift: grown)
                            } else {
                                s[i] += RowKernels.sumOfExp(zr, n, scale: 1, shift: grown)
                            }
                        }
                        if let u {
                            Gemm.sgemm(
                                transA: false, transB: false, m: c, n: d, k: n, a: z, lda: n, b: weight + j0 * d,
                                ldb: d, beta: 1, c: u, ldc: d)
                        }
                    }
                    RowKernels.forEachRow(c, width: d) { i in
                        let r = kept[first + i]
                        rowLoss[r] = (m[i] + Foundation.log(s[i]) - zt[i]) * w[r]
                        guard let u else { return }
                        let gr = g * w[r]
                        let ur = u + i * d
                        let target = weight + Int(tp[r]) * d
                        let inverse = gr / s[i]
                        for j in 0..<d { ur[j] = ur[j] * inverse - gr * target[j] }
                    }
                }
            }
        }
    }
}

/// How the kept rows split into chunks of at most `chunkRows` rows (balanced: the chunks differ by at most one).
struct LinearCrossEntropyPlan {
    let chunks: Int
    let chunkRows: Int
    let keptCount: Int
    /// Whether the kept rows are consecutive rows (then chunks read the hidden states in place).
    let contiguous: Bool

    init(kept: [Int], vocabulary: Int, chunkElements: Int) {
        keptCount = kept.count
        let most = max(1, chunkElements / max(vocabulary, 1))
        chunks = kept.isEmpty ? 0 : (kept.count + most - 1) / most
        chunkRows = chunks == 0 ? 0 : (kept.count + chunks - 1) / chunks
        contiguous = kept.isEmpty || kept[kept.count - 1] - kept[0] == kept.count - 1
    }

    /// Positions in the kept-row list of chunk `i`.
    func range(_ i: Int) -> Range<Int> { i * chunkRows..<min(keptCount, (i + 1) * chunkRows) }
}

/// Adds `scale` times the kept rows' gradient [kept, d] into `hidden`'s gradient (zero for the other rows).
/// A gradient that does not exist yet is handed over (every row kept, scale 1) or written, not zero-filled
/// and then added to.
private func addHiddenGradient(_ rowsGrad: Storage, kept: [Int], width d: Int, scale s: Float, into hidden: Tensor) {
    let rows = d == 0 ? 0 : hidden.count / d
    if hidden.grad == nil && s == 1 && kept.count == rows {  // every row, in order: the buffer is the gradient
        hidden.grad = Tensor(shape: hidden.shape, storage: rowsGrad)
        return
    }
    let (dX, accumulate) = hidden.gradStorageForUpdate()
    if !accumulate { dX.update(repeating: 0, count: rows * d) }
    for (i, r) in kept.enumerated() {
        scaledUpdate(dX + r * d, from: rowsGrad.pointer + i * d, count: d, scale: s, accumulate: true)
    }
}

/// dst = (accumulate ? dst : 0) + scale * src, split over threads for large counts (each element independent).
private func scaledUpdate(
    _ dst: UnsafeMutablePointer<Float>, from src: UnsafePointer<Float>, count: Int, scale: Float,
    accumulate: Bool
) {
    Parallel.forRanges(count, minimumPerChunk: 1 << 16) { range in
        let f = RowKernels.Vector(repeating: scale)
        var j = range.lowerBound
        while j + RowKernels.lanes <= range.upperBound {
            let add = scale == 1 ? RowKernels.load(src + j) : f * RowKernels.load(src + j)
            RowKernels.store(accumulate ? RowKernels.load(dst + j) + add : add, dst + j)
            j += RowKernels.lanes
        }
        while j < range.upperBound {
            let add = scale == 1 ? src[j] : scale * src[j]
            dst[j] = accumulate ? dst[j] + add : add
            j += 1
        }
    }
}

/// p[j] = factor * exp(p[j] - logSumExp) for j < n: a softmax row scaled, in place. The same arithmetic as
/// `crossEntropy`'s backward adding that row into a zero gradient (0 + x is x).
@inline(__always)
private func writeScaledSoftmax(_ p: UnsafeMutablePointer<Float>, _ n: Int, logSumExp: Float, factor: Float) {
    let sc = RowKernels.Vector(repeating: 1)
    let sh = RowKernels.Vector(repeating: logSumExp)
    let f = RowKernels.Vector(repeating: factor)
    var j = 0
    while j + RowKernels.lanes <= n {
        RowKernels.store(f * RowKernels.exp(RowKernels.load(p + j) * sc - sh), p + j)
        j += RowKernels.lanes
    }
    while j < n {
        p[j] = factor * RowKernels.exp(p[j] * 1 - logSumExp)
        j += 1
    }
}
