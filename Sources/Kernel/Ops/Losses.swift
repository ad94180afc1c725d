/// Training losses over rows of logits, each fused into one pass per row (log-softmax and loss together),
/// with the softmax recomputed from a saved log-sum-exp in backward instead of stored.
///
/// Logits are [N, V] (any [..., V] works: the rows are all leading dimensions together). Row losses are
/// summed in Double in row order, so the result does not depend on the thread count.

/// Mean next-token cross-entropy over the rows whose target is not `ignoreIndex`:
/// `mean_r (logsumexp(logits[r]) - logits[r, targets[r]])`, PyTorch `F.cross_entropy` semantics.
///
/// "Loss only on answer tokens" is expressed by giving every non-answer position `ignoreIndex`. If every
/// target is ignored the loss is 0 and the logits get a zero gradient (PyTorch would return NaN).
/// Backward adds `(softmax(logits[r]) - onehot(targets[r])) * dLoss / count` into each kept row.
///
/// With `rowWeights` the loss is the weighted mean `sum_r w_r loss_r / sum_r w_r` over the kept rows (PyTorch's
/// `reduction="none"` losses weighted and summed, divided by the kept weights' sum); giving each row `1 / (its
/// sequence's answer tokens)` makes every sequence count the same however long its answer (`answerCrossEntropy`'s
/// `.perExample`).
/// - Parameters:
///   - logits: [N, V].
///   - targets: N class indices in 0..<V, or `ignoreIndex`.
///   - rowWeights: nil (every kept row weighs 1), or N finite weights >= 0 whose kept sum is > 0.
/// - Returns: a scalar.
public func crossEntropy(_ logits: Tensor, targets: [Int32], rowWeights: [Float]? = nil, ignoreIndex: Int32 = -100)
    -> Tensor
{
    let (rows, v) = lossRows(logits, op: "crossEntropy")
    precondition(
        targets.count == rows,
        "crossEntropy: \(targets.count) targets for logits \(logits.shape), expected \(rows)")
    for (r, target) in targets.enumerated() where target != ignoreIndex {
        precondition(
            target >= 0 && Int(target) < v,
            "crossEntropy: target \(target) at row \(r) is outside 0..<\(v) and is not ignoreIndex \(ignoreIndex)")
    }
    if let rowWeights {
        precondition(
            rowWeights.count == rows,
            "crossEntropy: \(rowWeights.count) row weights for logits \(logits.shape), expected \(rows)")
        precondition(
            rowWeights.allSatisfy { $0.isFinite && $0 >= 0 }, "crossEntropy: row weights must be finite and >= 0")
    }
    // Each kept row's weight (1 without rowWeights) and their sum, in row order.
    let weights = (0..<rows).map { targets[$0] == ignoreIndex ? 0 : rowWeights?[$0] ?? 1 }
    let total = weights.reduce(0.0) { $0 + Double($1) }
    precondition(
        rowWeights == nil || total > 0 || !targets.contains { $0 != ignoreIndex },
        "crossEntropy: the kept rows' weights sum to 0")
    let logSumExp = Storage(count: rows)
    let rowLoss = Storage(count: rows)
    let x = logits.data
    let lse = logSumExp.pointer
    let losses = rowLoss.pointer
    targets.withUnsafeBufferPointer { tp in
        weights.withUnsafeBufferPointer { w in
            RowKernels.forEachRow(rows, width: v) { r in
                guard tp[r] != ignoreIndex else { return }
                let xr = x + r * v
                lse[r] = RowKernels.logSumExp(xr, v, scale: 1)
                losses[r] = (lse[r] - xr[Int(tp[r])]) * w[r]
            }
        }
    }
    let out = Tensor(scalar: total == 0 ? 0 : Float(orderedSum(losses, rows) / total))
    Autograd.record(out, inputs: [logits], op: "crossEntropy") { dOut in
        guard total > 0 else { return }
        let g = dOut[0] / Float(total)
        let dX = logits.gradStorage()
        let lse = logSumExp.pointer
        targets.withUnsafeBufferPointer { tp in
            weights.withUnsafeBufferPointer { w in
                RowKernels.forEachRow(rows, width: v) { r in
                    guard tp[r] != ignoreIndex else { return }
                    let gr = g * w[r]
                    addScaledSoftmax(x + r * v, into: dX + r * v, v, scale: 1, logSumExp: lse[r], factor: gr)
                    dX[r * v + Int(tp[r])] -= gr
                }
            }
        }
    }
    return out
}

/// Mean over the kept rows of KL(softmax(teacher / T) || softmax(student / T))
/// `= sum_v p_t (log p_t - log p_s)`, the distillation term of Learning without Forgetting.
///
/// The LwF loss of the study is `CE + lambda * T^2 * KL`: the `T^2` factor (which keeps gradient magnitudes
/// comparable across temperatures) is NOT applied here; the caller multiplies. Only the student gets a
/// gradient, `(p_s - p_t) / T * dLoss / count` per kept row; the teacher is a constant (even if it requires
/// grad, nothing flows to it). If no row is kept the loss is 0 with a zero gradient.
/// - Parameters:
///   - studentLogits: [N, V].
///   - teacherLogits: [N, V].
///   - temperature: T > 0.
///   - mask: N flags, true = the row counts; nil = every row.
/// - Returns: a scalar.
public func klDivergence(
    student studentLogits: Tensor, teacher teacherLogits: Tensor, temperature: Float,
    mask: [Bool]? = nil
) -> Tensor {
    let (rows, v) = lossRows(studentLogits, op: "klDivergence")
    precondition(
        teacherLogits.shape == studentLogits.shape,
        "klDivergence: teacher logits \(teacherLogits.shape) differ from student logits \(studentLogits.shape)")
    precondition(temperature > 0, "klDivergence: temperature must be > 0, got \(temperature)")
    let keep = mask ?? Array(repeating: true, count: rows)
    precondition(keep.count == rows, "klDivergence: mask has \(keep.count) flags, expected \(rows) rows")
    let kept = keep.filter { $0 }.count
    let invT = 1 / temperature
    let logSumExp = Storage(count: 2 * rows)
    let rowLoss = Storage(count: rows)  // (student, teacher) per row
    let s = studentLogits.data
    let t = teacherLogits.data
    let lse = logSumExp.pointer
    let losses = rowLoss.pointer
    keep.withUnsafeBufferPointer { kp in
        RowKernels.forEachRow(rows, width: 2 * v) { r in
            guard kp[r] else { return }
            let sr = s + r * v
            let tr = t + r * v
            let lseS = RowKernels.logSumExp(sr, v, scale: invT)
            let lseT = RowKernels.logSumExp(tr, v, scale: invT)
            lse[2 * r] = lseS
            lse[2 * r + 1] = lseT
            // sum p_t * (log p_t - log p_s), written so identical logits give exactly 0.
            var acc = RowKernels.Vector.zero
            let scale = RowKernels.Vector(repeating: invT)
            let shiftS = RowKernels.Vector(repeating: lseS)
            let shiftT = RowKernels.Vector(repeating: lseT)
            RowKernels.forEachVector(v) { j, n in
                let logPS = RowKernels.load(sr + j, count: n) * scale - shiftS
                let logPT = RowKernels.load(tr + j, count: n) * scale - shiftT
                var term = RowKernels.exp(logPT) * (logPT - logPS)
                for lane in n..<RowKernels.lanes { term[lane] = 0 }  // padding lanes of the tail
                acc += term
            }
            losses[r] = acc.sum()
        }
    }
    let out = Tensor(scalar: kept == 0 ? 0 : Float(orderedSum(losses, rows) / Double(kept)))
    Autograd.record(out, inputs: [studentLogits], op: "klDivergence") { dOut in
        guard kept > 0 else { return }
        // The closure holds the tensors and buffers it reads (not just their pointers) to keep them alive.
        let g = dOut[0] * invT / Float(kept)
        let dS = studentLogits.gradStorage()
        let s = studentLogits.data
        let t = teacherLogits.data
        let lse = logSumExp.pointer
        keep.withUnsafeBufferPointer { kp in
            RowKernels.forEachRow(rows, width: 2 * v) { r in
                guard kp[r] else { return }
                let sr = s + r * v
                let tr = t + r * v
                let dr = dS + r * v
                let scale = RowKernels.Vector(repeating: invT)
                let factor = RowKernels.Vector(repeating: g)
                let shiftS = RowKernels.Vector(repeating: lse[2 * r])
                let shiftT = RowKernels.Vector(repeating: lse[2 * r + 1])
                RowKernels.forEachVector(v) { j, n in  // dS += g * (p_s - p_t)
                    let ps = RowKernels.exp(RowKernels.load(sr + j, count: n) * scale - shiftS)
                    let pt = RowKernels.exp(RowKernels.load(tr + j, count: n) * scale - shiftT)
                    RowKernels.store(RowKernels.load(dr + j, count: n) + factor * (ps - pt), dr + j, count: n)
                }
            }
        }
    }
    return out
}

/// `klDivergence` over the rows whose target is not `ignoreIndex` (the same rows `crossEntropy` counts).
public func klDivergence(
    student studentLogits: Tensor, teacher teacherLogits: Tensor, temperature: Float,
    targets: [Int32], ignoreIndex: Int32 = -100
) -> Tensor {
    klDivergence(
        student: studentLogits, teacher: teacherLogits, temperature: temperature,
        mask: targets.map { $0 != ignoreIndex })
}

/// dst[j] += factor * exp(src[j] * scale - logSumExp) for j < n: a softmax row added into a gradient.
@inline(__always)
private func addScaledSoftmax(
    _ src: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>, _ n: Int,
    scale: Float, logSumExp: Float, factor: Float
) {
    let sc = RowKernels.Vector(repeating: scale)
    let sh = RowKernels.Vector(repeating: logSumExp)
    let f = RowKernels.Vector(repeating: factor)
    var j = 0
    while j + RowKernels.lanes <= n {
        let p = RowKernels.exp(RowKernels.load(src + j) * sc - sh)
        RowKernels.store(RowKernels.load(dst + j) + f * p, dst + j)
        j += RowKernels.lanes
    }
    while j < n {
        dst[j] = dst[j] + factor * RowKernels.exp(src[j] * scale - logSumExp)
        j += 1
    }
}

/// The sum of p[0..<n] in Double, in order.
private func orderedSum(_ p: UnsafePointer<Float>, _ n: Int) -> Double {
    var total = 0.0
    for i in 0..<n { total += Double(p[i]) }
    return total
}

/// Checks that logits are [..., V] with V > 0 and returns (rows, V).
private func lossRows(_ logits: Tensor, op: String) -> (rows: Int, v: Int) {
    precondition(
        logits.rank >= 1 && logits.shape[logits.rank - 1] > 0,
        "\(op): logits must be [N, V] with V > 0, got \(logits.shape)")
    let v = logits.shape[logits.rank - 1]
    return (logits.count / v, v)
}
