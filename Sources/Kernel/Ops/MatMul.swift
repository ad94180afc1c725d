/// Matrix products: `matmul` (optionally transposed, batched) and `linear` (HF/PyTorch `nn.Linear`).
///
/// Backward computes each input's gradient only if that input requires grad: a frozen weight skips its
/// weight-gradient GEMM entirely, which is what makes selective tuning cheaper than full tuning.

/// op(a) @ op(b) for a of shape [..., M, K] (or [..., K, M] with `transposeA`) and b of shape [..., K, N]
/// (or [..., N, K] with `transposeB`). Batch dimensions must match, or `b` may be 2-D and is then shared
/// by every batch entry. Result: [..., M, N].
public func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
    precondition(a.rank >= 2 && b.rank >= 2, "matmul: needs rank >= 2, got \(a.shape) and \(b.shape)")
    let batchShape = Array(a.shape.dropLast(2))
    let sharedB = b.rank == 2 && a.rank > 2
    precondition(
        sharedB || Array(b.shape.dropLast(2)) == batchShape,
        "matmul: batch dimensions differ: \(a.shape) vs \(b.shape)")
    let m = transposeA ? a.shape[a.rank - 1] : a.shape[a.rank - 2]
    let k = transposeA ? a.shape[a.rank - 2] : a.shape[a.rank - 1]
    let kb = transposeB ? b.shape[b.rank - 1] : b.shape[b.rank - 2]
    let n = transposeB ? b.shape[b.rank - 2] : b.shape[b.rank - 1]
    precondition(
        k == kb,
        "matmul: inner dimensions differ: \(a.shape)\(transposeA ? "^T" : "") x \(b.shape)\(transposeB ? "^T" : "")")
    let batch = Tensor.elementCount(batchShape)
    let out = Tensor(uninitialized: batchShape + [m, n])  // every element is written (beta 0)
    let aStride = m * k
    let bStride = sharedB ? 0 : k * n
    let cStride = m * n

    // A shared, untransposed weight folds the batch into M: one large GEMM instead of many small ones.
    let foldBatch = sharedB && !transposeA
    let lda = transposeA ? m : k
    let ldb = transposeB ? k : n
    if foldBatch {
        Gemm.sgemm(
            transA: false, transB: transposeB, m: batch * m, n: n, k: k,
            a: a.data, lda: lda, b: b.data, ldb: ldb, c: out.data, ldc: n)
    } else {
        for i in 0..<batch {
            Gemm.sgemm(
                transA: transposeA, transB: transposeB, m: m, n: n, k: k,
                a: a.data + i * aStride, lda: lda, b: b.data + i * bStride, ldb: ldb,
                c: out.data + i * cStride, ldc: n)
        }
    }

    Autograd.record(out, inputs: [a, b], op: "matmul") { dC in
        let rows = foldBatch ? batch * m : m
        let steps = foldBatch ? 1 : batch
        // A gradient that does not exist yet is written (beta 0) rather than zero-filled and added to.
        if a.requiresGrad {
            let (dA, accumulate) = a.gradStorageForUpdate()
            for i in 0..<steps {
                matmulGradA(
                    transA: transposeA, transB: transposeB, m: rows, n: n, k: k,
                    b: b.data + i * bStride, dC: dC + i * cStride, dA: dA + i * aStride,
                    beta: accumulate ? 1 : 0)
            }
        }
        if b.requiresGrad {
            let (dB, accumulate) = b.gradStorageForUpdate()
            for i in 0..<steps {
                // A shared B collects every batch entry's product into one gradient.
                let first = i == 0 || bStride != 0
                matmulGradB(
                    transA: transposeA, transB: transposeB, m: rows, n: n, k: k,
                    a: a.data + i * aStride, dC: dC + i * cStride, dB: dB + i * bStride,
                    beta: accumulate || !first ? 1 : 0)
            }
        }
    }
    return out
}

/// dA = beta * dA + dC op(B)^T, written in A's storage layout.
@inline(__always)
func matmulGradA(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
    b: UnsafePointer<Float>, dC: UnsafePointer<Float>, dA: UnsafeMutablePointer<Float>, beta: Float
) {
    switch (transA, transB) {
    case (false, false):  // dA[m,k] = dC[m,n] B[k,n]^T
        Gemm.sgemm(
            transA: false, transB: true, m: m, n: k, k: n, a: dC, lda: n, b: b, ldb: n, beta: beta, c: dA, ldc: k)
    case (false, true):  // dA[m,k] = dC[m,n] B[n,k]
        Gemm.sgemm(
            transA: false, transB: false, m: m, n: k, k: n, a: dC, lda: n, b: b, ldb: k, beta: beta, c: dA, ldc: k)
    case (true, false):  // dA[k,m] = B[k,n] dC[m,n]^T
        Gemm.sgemm(
            transA: false, transB: true, m: k, n: m, k: n, a: b, lda: n, b: dC, ldb: n, beta: beta, c: dA, ldc: m)
    case (true, true):  // dA[k,m] = B[n,k]^T dC[m,n]^T
        Gemm.sgemm(transA: true, transB: true, m: k, n: m, k: n, a: b, lda: k, b: dC, ldb: n, beta: beta, c: dA, ldc: m)
    }
}

/// dB = beta * dB + op(A)^T dC, written in B's storage layout.
@inline(__always)
func matmulGradB(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
    a: UnsafePointer<Float>, dC: UnsafePointer<Float>, dB: UnsafeMutablePointer<Float>, beta: Float
) {
    switch (transA, transB) {
    case (false, false):  // dB[k,n] = A[m,k]^T dC[m,n]
        Gemm.sgemm(
            transA: true, transB: false, m: k, n: n, k: m, a: a, lda: k, b: dC, ldb: n, beta: beta, c: dB, ldc: n)
    case (false, true):  // dB[n,k] = dC[m,n]^T A[m,k]
        Gemm.sgemm(
            transA: true, transB: false, m: n, n: k, k: m, a: dC, lda: n, b: a, ldb: k, beta: beta, c: dB, ldc: k)
    case (true, false):  // dB[k,n] = A[k,m] dC[m,n]
        Gemm.sgemm(
            transA: false, transB: false, m: k, n: n, k: m, a: a, lda: m, b: dC, ldb: n, beta: beta, c: dB, ldc: n)
    case (true, true):  // dB[n,k] = dC[m,n]^T A[k,m]^T
        Gemm.sgemm(transA: true, transB: true, m: n, n: k, k: m, a: dC, lda: n, b: a, ldb: m, beta: beta, c: dB, ldc: k)
    }
}

/// `x @ weight^T + bias`, with x of shape [..., in], weight [out, in] (the HF/PyTorch layout) and
/// bias [out]. Result: [..., out].
public func linear(_ x: Tensor, _ weight: Tensor, bias: Tensor? = nil) -> Tensor {
    precondition(weight.rank == 2, "linear: weight must be [out, in], got \(weight.shape)")
    let inF = weight.shape[1]
    let outF = weight.shape[0]
    precondition(
        x.rank >= 1 && x.shape[x.rank - 1] == inF,
        "linear: input \(x.shape) does not end in \(inF) (weight \(weight.shape))")
    if let bias { precondition(bias.shape == [outF], "linear: bias \(bias.shape), expected [\(outF)]") }
    let rows = x.count / max(inF, 1)
    let out = Tensor(uninitialized: Array(x.shape.dropLast()) + [outF])  // bias rows or beta 0 set every element
    var beta: Float = 0
    if let bias {
        for r in 0..<rows { (out.data + r * outF).update(from: bias.data, count: outF) }
        beta = 1
    }
    Gemm.sgemm(
        transA: false, transB: true, m: rows, n: outF, k: inF,
        a: x.data, lda: inF, b: weight.data, ldb: inF, beta: beta, c: out.data, ldc: outF)

    var inputs = [x, weight]
    if let bias { inputs.append(bias) }
    Autograd.record(out, inputs: inputs, op: "linear") { dY in
        // A gradient that does not exist yet is written (beta 0) rather than zero-filled and added to.
        if x.requiresGrad {  // dX[rows,in] += dY[rows,out] W[out,in]
            let (dX, accumulate) = x.gradStorageForUpdate()
            Gemm.sgemm(
                transA: false, transB: false, m: rows, n: inF, k: outF,
                a: dY, lda: outF, b: weight.data, ldb: inF, beta: accumulate ? 1 : 0, c: dX, ldc: inF)
        }
        if weight.requiresGrad {  // dW[out,in] += dY^T X
            let (dW, accumulate) = weight.gradStorageForUpdate()
            Gemm.sgemm(
                transA: true, transB: false, m: outF, n: inF, k: rows,
                a: dY, lda: outF, b: x.data, ldb: inF, beta: accumulate ? 1 : 0, c: dW, ldc: inF)
        }
        if let bias, bias.requiresGrad {
            let db = bias.gradStorage()
            for r in 0..<rows {
                let row = dY + r * outF
                for j in 0..<outF { db[j] += row[j] }
            }
        }
    }
    return out
}
