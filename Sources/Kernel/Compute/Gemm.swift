/// Single-precision matrix multiply on row-major buffers, BLAS style:
///
///     C[m, n] = alpha * sum_k opA(A)[m, k] * opB(B)[k, n] + beta * C[m, n]
///
/// `opA(A)` is A (stored m x k, row stride `lda`) or, with `transA`, the transpose of A (stored k x m).
/// `opB(B)` likewise (stored k x n, or n x k with `transB`). `beta == 0` overwrites C (NaNs in C are not
/// propagated); `beta == 1` accumulates, which is how gradients are added.
///
/// Deterministic: each C element is computed by one thread with a fixed summation order over k,
/// so results do not depend on the thread count.
public enum Gemm {
    public static func sgemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0,
        c: UnsafeMutablePointer<Float>, ldc: Int,
        threads: Int? = nil
    ) {
        precondition(m >= 0 && n >= 0 && k >= 0, "sgemm: negative size m=\(m) n=\(n) k=\(k)")
        guard m > 0 && n > 0 else { return }
        Parallel.forRanges(m, minimumPerChunk: 8) { rows in
            for i in rows {
                let crow = c + i * ldc
                if beta == 0 {
                    for j in 0..<n { crow[j] = 0 }
                } else if beta != 1 {
                    for j in 0..<n { crow[j] *= beta }
                }
                for p in 0..<k {
                    let aip = alpha * (transA ? a[p * lda + i] : a[i * lda + p])
                    if transB {
                        for j in 0..<n { crow[j] = crow[j] + aip * b[j * ldb + p] }
                    } else {
                        let brow = b + p * ldb
                        for j in 0..<n { crow[j] = crow[j] + aip * brow[j] }
                    }
                }
            }
        }
    }
}
