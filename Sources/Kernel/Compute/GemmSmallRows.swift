import Dispatch

/// `Gemm.sgemm` for a few rows of A times a transposed B (`C[m, n] = A[m, k] B[n, k]^T` with m small): the
/// shape of every linear layer while decoding (m = the batch, B = the weight [out, in]).
///
/// Packing would copy (and transpose) the whole weight for a handful of rows, which costs more than the
/// product, so each C element is a dot product of two contiguous rows instead (`GemmSimple.dot`: a fixed
/// summation order, so results do not depend on the thread count). The columns (weight rows) are split
/// among the threads; each weight row is read from memory once and used for all m rows of A, which stay in
/// cache.
enum GemmSmallRows {
    /// The most rows of A this path takes.
    static let maximumRows = 16

    /// Whether `Gemm.sgemm` should use this path.
    static func applies(transA: Bool, transB: Bool, m: Int) -> Bool { !transA && transB && m <= maximumRows }

    static func multiply(m: Int, n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
                         b: UnsafePointer<Float>, ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int,
                         threads: Int) {
        // About 64k multiply-adds per chunk at least: waking a thread for less costs more than it saves.
        let chunks = max(1, min(threads, m * n * k / 65_536, n))
        func run(_ columns: Range<Int>) {
            for j in columns {
                let brow = b + j * ldb
                for i in 0..<m {
                    let sum = GemmSimple.dot(a + i * lda, brow, count: k)
                    let cij = c + i * ldc + j
                    cij.pointee = beta == 0 ? alpha * sum : beta * cij.pointee + alpha * sum
                }
            }
        }
        if chunks == 1 {
            run(0..<n)
        } else {
            DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                run(n * chunk / chunks ..< n * (chunk + 1) / chunks)
            }
        }
    }
}
