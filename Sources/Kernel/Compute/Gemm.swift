import Dispatch
import Foundation
func tuning(_ name: String, _ d: Int) -> Int { Int(ProcessInfo.processInfo.environment[name] ?? "") ?? d } // TEMP

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
///
/// How it is fast (the Goto/BLIS scheme, see `GemmTask`): k is cut into blocks of at most `depthBlock`
/// steps; for each block, opA and opB are packed into contiguous micro-panels (packing handles the
/// transposes, so all four variants run at about the same speed), then a register-blocked microkernel
/// (`GemmMicrokernel`) computes every 6-row x `width`-column tile of C. Packing and tiles are shared
/// between threads. Products below `smallProductLimit` multiply-adds take a plain loop instead, where
/// packing would not pay.
///
/// For speed build with `-Xswiftc -target-cpu -Xswiftc native`; the baseline x86-64 build is correct
/// but several times slower.
public enum Gemm {
    /// Steps of k per packed block (KC).
    static let depthBlock = tuning("GEMM_KC", 768)
    /// Rows of packed A one thread runs every B micro-panel over (MC): they stay in L2 meanwhile.
    static let rowBlock = tuning("GEMM_MC", 96)
    /// Rows and columns of C packed for at a time: bounds the workspace (about 6 MB per operand).
    static let packedRows = tuning("GEMM_PR", 4096), packedColumns = tuning("GEMM_PC", 4096)
    /// Below this many multiply-adds (m * n * k), a simple unpacked loop is used.
    static let smallProductLimit = 32 * 1024
    /// Below this many multiply-adds, one thread is used (starting a second costs more than it saves).
    static let parallelProductLimit = 1 << 20

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
        precondition(lda >= (transA ? m : k), "sgemm: lda=\(lda) is less than the row length \(transA ? m : k) of A (\(transA ? "k x m" : "m x k"), m=\(m) k=\(k))")
        precondition(ldb >= (transB ? k : n), "sgemm: ldb=\(ldb) is less than the row length \(transB ? k : n) of B (\(transB ? "n x k" : "k x n"), k=\(k) n=\(n))")
        precondition(ldc >= n, "sgemm: ldc=\(ldc) is less than the row length n=\(n) of C")
        precondition(threads == nil || threads! >= 1, "sgemm: threads must be at least 1, got \(threads!)")

        multiply(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                 beta: beta, c: c, ldc: ldc, threads: threads ?? Parallel.threads)
    }

    /// `sgemm` after argument checks. Tests pass `kernel` and `simpleBelow` to reach every code path.
    static func multiply(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int,
        kernel: GemmMicrokernel = .selected, simpleBelow: Int = smallProductLimit
    ) {
        if k == 0 {
            scale(c: c, ldc: ldc, m: m, n: n, by: beta)
            return
        }
        let work = m * n * k
        if work < simpleBelow {
            simpleProduct(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                          b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
            return
        }

        let task = GemmTask(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                            b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, kernel: kernel,
                            threads: work < parallelProductLimit ? 1 : threads)
        task.run()
    }

    /// C = beta * C (beta == 0 writes zeros).
    static func scale(c: UnsafeMutablePointer<Float>, ldc: Int, m: Int, n: Int, by beta: Float) {
        guard beta != 1 else { return }
        for i in 0..<m {
            let row = c + i * ldc
            if beta == 0 {
                row.update(repeating: 0, count: n)
            } else {
                for j in 0..<n { row[j] = beta * row[j] }
            }
        }
    }

    /// The unpacked product for small sizes: one row of sums at a time, each over k in order.
    static func simpleProduct(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                              a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                              beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        withUnsafeTemporaryAllocation(of: Float.self, capacity: n) { buffer in
            let sums = buffer.baseAddress!
            for i in 0..<m {
                sums.update(repeating: 0, count: n)
                for p in 0..<k {
                    let aip = transA ? a[p * lda + i] : a[i * lda + p]
                    if transB {
                        var bp = b + p
                        for j in 0..<n { sums[j] = sums[j] + aip * bp.pointee; bp += ldb }
                    } else {
                        let brow = b + p * ldb
                        for j in 0..<n { sums[j] = sums[j] + aip * brow[j] }
                    }
                }
                let crow = c + i * ldc
                if beta == 0 {
                    for j in 0..<n { crow[j] = alpha * sums[j] }
                } else {
                    for j in 0..<n { crow[j] = beta * crow[j] + alpha * sums[j] }
                }
            }
        }
    }
}
