import Dispatch
import Foundation

/// Single-precision matrix multiply on row-major buffers, BLAS style:
///
///     C[m, n] = alpha * sum_k opA(A)[m, k] * opB(B)[k, n] + beta * C[m, n]
///
/// `opA(A)` is A (stored m x k, row stride `lda`) or, with `transA`, the transpose of A (stored k x m).
/// `opB(B)` likewise (stored k x n, or n x k with `transB`). `beta == 0` overwrites C (NaNs in C are not
/// propagated); `beta == 1` accumulates, which is how gradients are added.
///
/// `threads` caps the threads used (default `Parallel.threads`); products under about a million
/// multiply-adds use one. Deterministic: each C element is computed by one thread with a fixed
/// summation order over k, so results do not depend on the thread count.
///
/// How it is fast (the Goto/BLIS scheme, see `GemmTask`): k is cut into blocks of at most
/// `GemmMicrokernel.depthBlock` steps; for each block, opA and opB are packed into contiguous micro-panels (packing handles
/// the transposes), then a register-blocked microkernel (`GemmMicrokernel`, chosen per machine by timing)
/// computes every 6-row x `width`-column tile of C. All four transpose variants run at about the same speed.
/// Packing and tiles are shared between threads. Tiny and single-row products take plain loops instead
/// (`GemmSimple`), where packing would not pay, and a few rows times a transposed B (decoding) take
/// row-by-row dot products split over the threads (`GemmSmallRows`).
///
/// Arithmetic: every multiply-add of every path is fused (one FMA instruction, one rounding) when the build
/// target has FMA, else a multiply then an add (`GemmArithmetic`, decided once per process). Results are
/// bitwise the same for every kernel and thread count within a process; a native (AVX-512) and a `haswell`
/// (AVX2) build agree with each other, the baseline build (no FMA) differs in the last bits.
///
/// For speed build with `-Xswiftc -target-cpu -Xswiftc native`; the baseline x86-64 build is correct
/// but several times slower (no FMA, 128-bit vectors).
public enum Gemm {
    /// Rows and columns of C handled per packing round: bounds the workspace (packed A at most 3 MB, packed
    /// B 2 MB; the k block is at most 256 deep, see `GemmMicrokernel.depthBlock`).
    /// The row count is a multiple of 6, so only the last round can have a partial row tile.
    static let packedRows = 3072, packedColumns = 2048
    /// At most this many packed A values (16 MB) are kept across column blocks (see `GemmTask.run`).
    static let keptPackedA = 1 << 22
    /// Below this many multiply-adds (m * n * k), a simple unpacked loop is used.
    static let smallProductLimit = 4096
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
        precondition(
            lda >= (transA ? m : k),
            "sgemm: lda=\(lda) is less than the row length \(transA ? m : k) of A (\(transA ? "k x m" : "m x k"), m=\(m) k=\(k))"
        )
        precondition(
            ldb >= (transB ? k : n),
            "sgemm: ldb=\(ldb) is less than the row length \(transB ? k : n) of B (\(transB ? "n x k" : "k x n"), k=\(k) n=\(n))"
        )
        precondition(ldc >= n, "sgemm: ldc=\(ldc) is less than the row length n=\(n) of C")
        precondition(threads == nil || threads! >= 1, "sgemm: threads must be at least 1, got \(threads!)")
        GemmWork.shared.add(m * n * k)

        multiply(
            transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
            beta: beta, c: c, ldc: ldc, threads: threads ?? Parallel.threads)
    }

    /// Which algorithm `multiply` uses (tests force each one).
    enum Path { case automatic, simple, packed }

    /// Whether the unpacked loops of `GemmSimple` beat packing: tiny products, a single row (where a
    /// 6-row tile would waste 5/6), and a few output columns that are dot products of contiguous rows
    /// (e.g. a one-output head; a 64-column tile would waste almost all its work).
    static func prefersSimple(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, ldb: Int) -> Bool {
        m * n * k < smallProductLimit || m == 1
            || (n < 8 && GemmSimple.isDotProducts(transA: transA, transB: transB, n: n, ldb: ldb))
    }

    /// `sgemm` after argument checks.
    static func multiply(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int,
        kernel: GemmMicrokernel = .selected, arithmetic: GemmArithmetic = .active, path: Path = .automatic
    ) {
        if k == 0 {
            scale(c: c, ldc: ldc, m: m, n: n, by: beta)
            return
        }
        if path == .automatic && GemmSmallRows.applies(transA: transA, transB: transB, m: m) {
            GemmSmallRows.multiply(
                m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta,
                c: c, ldc: ldc, threads: threads, arithmetic: arithmetic)
            return
        }
        if path == .simple
            || (path == .automatic && prefersSimple(transA: transA, transB: transB, m: m, n: n, k: k, ldb: ldb))
        {
            GemmSimple.multiply(
                transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, arithmetic: arithmetic)
            return
        }
        let task = GemmTask(
            transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
            b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, kernel: kernel,
            arithmetic: arithmetic, threads: m * n * k < parallelProductLimit ? 1 : threads)
        task.run()
    }

    /// Multiply-adds (m * n * k) of every `sgemm` call of this process so far. Divided by the FMA peak
    /// (`peakGflops`), the least time those products could take: `bench train` reports it per step.
    public static var multiplyAdds: Int { GemmWork.shared.total }

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
}

/// The running total behind `Gemm.multiplyAdds` (a lock per `sgemm` call: some 20 ns against products of
/// thousands of multiply-adds).
final class GemmWork: @unchecked Sendable {
    static let shared = GemmWork()
    private let lock = NSLock()
    private var count = 0

    func add(_ multiplyAdds: Int) {
        lock.lock()
        count &+= multiplyAdds
        lock.unlock()
    }

    var total: Int {
        lock.lock()
        defer { lock.unlock() }
        return count
    }
}
