import Foundation

/// Scaled dot-product multi-head attention with grouped-query heads, causal masking and key padding.
///
/// Layout: [B, T, H, Dh] (batch, tokens, heads, head dim), the layout q/k/v have straight out of their linear
/// layers reshaped from [B, T, H * Dh], and the output reshapes straight back to [B, T, Hq * Dh] for o_proj.
/// No transposes are ever made: the kernels read heads with strides.
///
/// For each batch row b and query head h (which reads key/value head h / (Hq / Hkv)):
///
///     out[b, i, h] = sum_j softmax_j(scale * q[b, i, h] . k[b, j, kv(h)]) * v[b, j, kv(h)]
///
/// over the keys j that query i may see: with `causal`, query i sits at absolute position `queryOffset + i`
/// and sees keys 0...queryOffset + i (by default queryOffset = S - T: the queries are the last T positions,
/// which is both ordinary training (T == S) and generation against a longer cache); without `causal`, every
/// key. `keyMask` additionally hides keys (false = padding). A query that sees no key at all gets a zero
/// output and passes no gradient.
///
/// Forward keeps only one log-sum-exp per (batch, head, query); backward recomputes the probabilities, so the
/// memory cost is O(B * Hq * T), not O(B * Hq * T * S). Work is split over (batch, head) pairs; results do not
/// depend on the thread count.
///
/// - Parameters:
///   - query: [B, T, Hq, Dh].
///   - key: [B, S, Hkv, Dh], with Hq a multiple of Hkv.
///   - value: [B, S, Hkv, Dh].
///   - causal: whether query i is limited to keys at positions <= queryOffset + i.
///   - scale: the score multiplier, > 0; default 1 / sqrt(Dh).
///   - queryOffset: the absolute position of query 0 (only used with `causal`); default S - T.
///   - keyMask: B * S flags (row-major [B, S]); false hides that key from every query of that batch row.
/// - Returns: [B, T, Hq, Dh].
public func attention(
    _ query: Tensor, _ key: Tensor, _ value: Tensor, causal: Bool, scale: Float? = nil,
    queryOffset: Int? = nil, keyMask: [Bool]? = nil
) -> Tensor {
    precondition(
        query.rank == 4 && key.rank == 4 && value.rank == 4,
        "attention: q, k, v must be [B, T, Hq, Dh], [B, S, Hkv, Dh], [B, S, Hkv, Dh]; got \(query.shape), \(key.shape), \(value.shape)"
    )
    let b = query.shape[0]
    let t = query.shape[1]
    let hq = query.shape[2]
    let dh = query.shape[3]
    let s = key.shape[1]
    let hkv = key.shape[2]
    precondition(key.shape == value.shape, "attention: key \(key.shape) and value \(value.shape) differ")
    precondition(
        key.shape[0] == b && key.shape[3] == dh,
        "attention: key \(key.shape) does not match query \(query.shape) in batch or head dim")
    precondition(
        hkv > 0 && hq % hkv == 0,
        "attention: query heads \(hq) must be a multiple of key/value heads \(hkv) (q \(query.shape), k \(key.shape))")
    if let keyMask {
        precondition(keyMask.count == b * s, "attention: keyMask has \(keyMask.count) flags, expected B * S = \(b * s)")
    }
    let offset = queryOffset ?? (s - t)
    precondition(
        !causal || offset >= 0,
        "attention: causal queryOffset \(offset) must be >= 0 (q \(query.shape), k \(key.shape); T > S needs an explicit offset)"
    )
    let geometry = AttentionGeometry(
        batch: b, queries: t, keys: s, queryHeads: hq, kvHeads: hkv, headDim: dh,
        keyBatchStride: s * hkv * dh, queryOffset: offset, causal: causal,
        scale: scale ?? 1 / Float(dh).squareRoot())
    precondition(geometry.scale > 0, "attention: scale must be > 0, got \(geometry.scale)")

    let out = Tensor(uninitialized: query.shape)  // every row is written (a row that sees no key gets zeros)
    let recording = Autograd.needsGrad([query, key, value])
    let logSumExp = Storage(count: recording ? b * hq * t : 0)
    withOptionalPointer(keyMask) { mask in
        AttentionCore.forward(
            geometry, query.data, key.data, value.data, out.data,
            logSumExp: recording ? logSumExp.pointer : nil, mask: mask, maskBatchStride: s)
    }
    Autograd.record(out, inputs: [query, key, value], op: "attention") { dOut in
        // New gradient buffers are not zero-filled here: the backward zeroes each slice in the thread that
        // owns it (in parallel), then adds into it.
        let dQ = query.requiresGrad ? query.gradStorageForUpdate() : nil
        let dK = key.requiresGrad ? key.gradStorageForUpdate() : nil
        let dV = value.requiresGrad ? value.gradStorageForUpdate() : nil
        withOptionalPointer(keyMask) { mask in
            AttentionCore.backward(
                geometry, query.data, key.data, value.data, dOut,
                logSumExp: logSumExp.pointer, mask: mask, maskBatchStride: s,
                dQ: dQ?.pointer, dK: dK?.pointer, dV: dV?.pointer,
                zeroFirst: (
                    dQ?.accumulate == false, dK?.accumulate == false,
                    dV?.accumulate == false
                ))
        }
    }
    return out
}

/// Calls `body` with a pointer to the flags, or nil.
@inline(__always)
func withOptionalPointer<R>(_ flags: [Bool]?, _ body: (UnsafePointer<Bool>?) -> R) -> R {
    guard let flags else { return body(nil) }
    return flags.withUnsafeBufferPointer { body($0.baseAddress) }
}

/// Sizes and strides of one attention call. Rows of q/out are `queryHeads * headDim` apart, rows of k/v
/// `kvHeads * headDim`; batch rows of k/v are `keyBatchStride` apart (larger than keys * row when the keys
/// live in a KV cache with spare capacity).
struct AttentionGeometry {
    let batch, queries, keys, queryHeads, kvHeads, headDim: Int
    let keyBatchStride: Int
    let queryOffset: Int
    let causal: Bool
    let scale: Float

    var group: Int { queryHeads / kvHeads }
    var queryRowStride: Int { queryHeads * headDim }
    var keyRowStride: Int { kvHeads * headDim }
    var queryBatchStride: Int { queries * queryRowStride }
    /// Query i sees keys 0..<visibleKeys(i) (before the key mask); non-decreasing in i.
    func visibleKeys(_ i: Int) -> Int { causal ? Swift.max(0, Swift.min(keys, queryOffset + i + 1)) : keys }
    /// Keys seen by at least one query.
    var usedKeys: Int { queries == 0 ? 0 : visibleKeys(queries - 1) }
    /// The first query that sees key j.
    func firstQuery(seeing j: Int) -> Int { causal ? Swift.max(0, j - queryOffset) : 0 }
}

/// The attention computation on raw buffers, shared by `attention` and `KVCache`.
enum AttentionCore {
    typealias Kernels = AttentionKernels

    /// Computes `out`, and the per-row log-sum-exp of the scaled scores into `logSumExp` ([B, Hq, T]) if given.
    static func forward(
        _ g: AttentionGeometry, _ q: UnsafePointer<Float>, _ k: UnsafePointer<Float>,
        _ v: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
        logSumExp: UnsafeMutablePointer<Float>?, mask: UnsafePointer<Bool>?, maskBatchStride: Int
    ) {
        let used = g.usedKeys
        let padded = Kernels.roundedUp(Swift.max(used, 1))
        let dh = g.headDim
        let qRow = g.queryRowStride
        let kRow = g.keyRowStride
        Parallel.forRanges(g.batch * g.queryHeads) { units in
            let keysT = UnsafeMutablePointer<Float>.allocate(capacity: dh * padded)
            let scores = UnsafeMutablePointer<Float>.allocate(capacity: 4 * padded)
            defer {
                keysT.deallocate()
                scores.deallocate()
            }
            for unit in units {
                let b = unit / g.queryHeads
                let h = unit % g.queryHeads
                let kvHead = h / g.group
                let qb = q + b * g.queryBatchStride + h * dh
                let ob = out + b * g.queryBatchStride + h * dh
                let kb = k + b * g.keyBatchStride + kvHead * dh
                let vb = v + b * g.keyBatchStride + kvHead * dh
                let maskRow = mask.map { $0 + b * maskBatchStride }
                Kernels.packTransposed(kb, ld: kRow, rows: used, depth: dh, into: keysT, ldDst: padded)
                for i0 in stride(from: 0, to: g.queries, by: 4) {
                    let rows = Swift.min(4, g.queries - i0)
                    let reach = g.visibleKeys(i0 + rows - 1)
                    if reach > 0 {
                        Kernels.rowsTimesPacked(
                            qb + i0 * qRow, lda: qRow, rows: rows, depth: dh, keysT, ldb: padded,
                            columns: Kernels.roundedUp(reach), scores, ldc: padded)
                    }
                    for r in 0..<rows {
                        let lse = softmaxInPlace(
                            scores + r * padded, visible: g.visibleKeys(i0 + r), width: reach,
                            mask: maskRow, scale: g.scale)
                        logSumExp?[unit * g.queries + i0 + r] = lse
                    }
                    Kernels.weightedRowSum(
                        scores, rowStride: padded, termStride: 1, rows: rows, range: 0..<reach,
                        vb, lds: kRow, width: dh, ob + i0 * qRow, ldo: qRow, accumulate: false)
                }
            }
        }
    }

    /// Adds the gradients of q, k, v (those given) for output gradient `dOut`; a gradient whose `zeroFirst`
    /// flag is set is zeroed first (a new, unset buffer).
    /// Work is split over (batch, kv head), so each thread owns its dK/dV rows and its group's dQ rows, and
    /// zeroes them itself.
    static func backward(
        _ g: AttentionGeometry, _ q: UnsafePointer<Float>, _ k: UnsafePointer<Float>,
        _ v: UnsafePointer<Float>, _ dOut: UnsafePointer<Float>,
        logSumExp: UnsafePointer<Float>, mask: UnsafePointer<Bool>?, maskBatchStride: Int,
        dQ: UnsafeMutablePointer<Float>?, dK: UnsafeMutablePointer<Float>?,
        dV: UnsafeMutablePointer<Float>?,
        zeroFirst: (dQ: Bool, dK: Bool, dV: Bool) = (false, false, false)
    ) {
        let used = g.usedKeys
        let padded = Kernels.roundedUp(Swift.max(used, 1))
        let t = g.queries
        let dh = g.headDim
        let qRow = g.queryRowStride
        let kRow = g.keyRowStride
        let needScoreGradient = dQ != nil || dK != nil
        /// Zeroes the gradient rows that unit (b, kvHead) owns, for the gradients flagged in `zeroFirst`.
        func zeroOwnedRows(b: Int, kvHead: Int) {
            for (grad, zero) in [(dK, zeroFirst.dK), (dV, zeroFirst.dV)] {
                guard let grad, zero else { continue }
                for j in 0..<g.keys {
                    (grad + b * g.keyBatchStride + j * kRow + kvHead * dh).update(repeating: 0, count: dh)
                }
            }
            if let dQ, zeroFirst.dQ {
                for i in 0..<t {
                    (dQ + b * g.queryBatchStride + i * qRow + kvHead * g.group * dh).update(
                        repeating: 0, count: g.group * dh)
                }
            }
        }
        guard used > 0, t > 0 else {
            for unit in 0..<(g.batch * g.kvHeads) { zeroOwnedRows(b: unit / g.kvHeads, kvHead: unit % g.kvHeads) }
            return
        }
        Parallel.forRanges(g.batch * g.kvHeads) { units in
            let keysT = UnsafeMutablePointer<Float>.allocate(capacity: dh * padded)
            let valuesT = UnsafeMutablePointer<Float>.allocate(capacity: dh * padded)
            let probs = UnsafeMutablePointer<Float>.allocate(capacity: t * padded)  // P [T, padded]
            let scoreGrads = UnsafeMutablePointer<Float>.allocate(capacity: t * padded)  // dS [T, padded]
            let probGrads = UnsafeMutablePointer<Float>.allocate(capacity: 4 * padded)  // dP, 4 rows
            defer {
                keysT.deallocate()
                valuesT.deallocate()
                probs.deallocate()
                scoreGrads.deallocate()
                probGrads.deallocate()
            }
            for unit in units {
                let b = unit / g.kvHeads
                let kvHead = unit % g.kvHeads
                zeroOwnedRows(b: b, kvHead: kvHead)
                let kvOffset = b * g.keyBatchStride + kvHead * dh
                let kb = k + kvOffset
                let vb = v + kvOffset
                let maskRow = mask.map { $0 + b * maskBatchStride }
                Kernels.packTransposed(kb, ld: kRow, rows: used, depth: dh, into: keysT, ldDst: padded)
                if needScoreGradient {
                    Kernels.packTransposed(vb, ld: kRow, rows: used, depth: dh, into: valuesT, ldDst: padded)
                }
                for h in kvHead * g.group..<(kvHead + 1) * g.group {
                    let qOffset = b * g.queryBatchStride + h * dh
                    let qb = q + qOffset
                    let gb = dOut + qOffset
                    let lse = logSumExp + (b * g.queryHeads + h) * t
                    for i0 in stride(from: 0, to: t, by: 4) {
                        let rows = Swift.min(4, t - i0)
                        let reach = g.visibleKeys(i0 + rows - 1)
                        let pBlock = probs + i0 * padded
                        let dsBlock = scoreGrads + i0 * padded
                        if reach > 0 {
                            Kernels.rowsTimesPacked(
                                qb + i0 * qRow, lda: qRow, rows: rows, depth: dh, keysT,
                                ldb: padded, columns: Kernels.roundedUp(reach), pBlock, ldc: padded)
                        }
                        for r in 0..<rows {
                            recomputeProbabilities(
                                pBlock + r * padded, visible: g.visibleKeys(i0 + r), width: used,
                                mask: maskRow, scale: g.scale, logSumExp: lse[i0 + r])
                        }
                        guard needScoreGradient else { continue }
                        if reach > 0 {
                            Kernels.rowsTimesPacked(
                                gb + i0 * qRow, lda: qRow, rows: rows, depth: dh, valuesT,
                                ldb: padded, columns: Kernels.roundedUp(reach), probGrads, ldc: padded)
                        }
                        for r in 0..<rows {  // dS = scale * P * (dP - sum_j P dP)
                            let p = pBlock + r * padded
                            let dp = probGrads + r * padded
                            let ds = dsBlock + r * padded
                            let visible = g.visibleKeys(i0 + r)
                            let inner = RowKernels.dot(p, dp, visible)
                            for j in 0..<visible { ds[j] = g.scale * p[j] * (dp[j] - inner) }
                            for j in visible..<used { ds[j] = 0 }
                        }
                        if let dQ, reach > 0 {
                            Kernels.weightedRowSum(
                                dsBlock, rowStride: padded, termStride: 1, rows: rows,
                                range: 0..<reach, kb, lds: kRow, width: dh,
                                dQ + qOffset + i0 * qRow, ldo: qRow, accumulate: true)
                        }
                    }
                    // dV[j] += sum_i P[i, j] dO[i];  dK[j] += sum_i dS[i, j] q[i]  (over the queries that see j)
                    for (grad, weights, source) in [(dV, probs, gb), (dK, scoreGrads, qb)] {
                        guard let grad else { continue }
                        for j0 in stride(from: 0, to: used, by: 4) {
                            Kernels.weightedRowSum(
                                weights + j0, rowStride: 1, termStride: padded,
                                rows: Swift.min(4, used - j0), range: g.firstQuery(seeing: j0)..<t,
                                source, lds: qRow, width: dh,
                                grad + kvOffset + j0 * kRow, ldo: kRow, accumulate: true)
                        }
                    }
                }
            }
        }
    }

    /// Turns raw scores row[0..<visible] into probabilities softmax(scale * score) in place, with masked keys
    /// at 0, and zeros row[visible..<width]. Returns the log-sum-exp of the scaled scores (-infinity, and an
    /// all-zero row, when no key is visible).
    @inline(__always)
    static func softmaxInPlace(
        _ row: UnsafeMutablePointer<Float>, visible: Int, width: Int,
        mask: UnsafePointer<Bool>?, scale: Float
    ) -> Float {
        if let mask { for j in 0..<visible where !mask[j] { row[j] = -.infinity } }
        let m = RowKernels.max(row, visible)
        guard m > -.infinity else {
            row.update(repeating: 0, count: width)
            return -.infinity
        }
        let sum = RowKernels.expAndSum(row, row, visible, scale: scale, shift: m * scale)
        RowKernels.scale(row, visible, by: 1 / sum)
        if width > visible { (row + visible).update(repeating: 0, count: width - visible) }
        return m * scale + log(sum)
    }

    /// Backward's version of `softmaxInPlace`: probabilities exp(scale * score - logSumExp) from the saved
    /// log-sum-exp, masked keys and row[visible..<width] at 0.
    @inline(__always)
    static func recomputeProbabilities(
        _ row: UnsafeMutablePointer<Float>, visible: Int, width: Int,
        mask: UnsafePointer<Bool>?, scale: Float, logSumExp: Float
    ) {
        guard logSumExp > -.infinity else {
            row.update(repeating: 0, count: width)
            return
        }
        if let mask { for j in 0..<visible where !mask[j] { row[j] = -.infinity } }
        _ = RowKernels.expAndSum(row, row, visible, scale: scale, shift: logSumExp)
        if width > visible { (row + visible).update(repeating: 0, count: width - visible) }
    }
}
