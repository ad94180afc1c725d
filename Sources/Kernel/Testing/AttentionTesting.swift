/// Entry points into the inner loops of `attention` (`AttentionKernels`) with the multiply-add forced, so
/// that tests can check both arithmetic modes whatever this build would choose (`@testable import` does not
/// work in release test builds).
public enum AttentionTesting {
    /// C[r, 0..<columns] = sum_{d < depth} A[r, d] * Bt[d, 0..<columns] for r < rows (1...4); `columns` a
    /// multiple of 32 that fits in `ldb`.
    public static func rowsTimesPacked(
        _ a: UnsafePointer<Float>, lda: Int, rows: Int, depth: Int, _ bt: UnsafePointer<Float>, ldb: Int,
        columns: Int, _ c: UnsafeMutablePointer<Float>, ldc: Int, arithmetic: GemmArithmetic
    ) {
        AttentionKernels.rowsTimesPacked(
            a, lda: lda, rows: rows, depth: depth, bt, ldb: ldb, columns: columns, c, ldc: ldc,
            arithmetic: arithmetic)
    }

    /// out[r, 0..<width] = (or += with `accumulate`) sum_{j in range} W(r, j) * R[j, 0..<width] for r < rows
    /// (1...4), with W(r, j) = w[r * rowStride + j * termStride].
    public static func weightedRowSum(
        _ w: UnsafePointer<Float>, rowStride: Int, termStride: Int, rows: Int, range: Range<Int>,
        _ src: UnsafePointer<Float>, lds: Int, width: Int, _ out: UnsafeMutablePointer<Float>, ldo: Int,
        accumulate: Bool, arithmetic: GemmArithmetic
    ) {
        AttentionKernels.weightedRowSum(
            w, rowStride: rowStride, termStride: termStride, rows: rows, range: range, src, lds: lds, width: width,
            out, ldo: ldo, accumulate: accumulate, arithmetic: arithmetic)
    }
}
