/// Entry points into the algorithms behind `Gemm.sgemm`, so that tests can cover every path and every
/// register block whatever this machine and build would choose. Production code calls `Gemm.sgemm`, which
/// picks for itself; these exist because `@testable import` does not work in release test builds.
public enum GemmTesting {
    /// An algorithm of `Gemm.sgemm` to force.
    public enum Path: Sendable, CaseIterable {
        /// Unpacked loops (tiny products).
        case simple
        /// Packed panels and a register-blocked microkernel (the general path).
        case packed
        /// Dot products parallel over columns (a few rows times a transposed B: decoding).
        case smallRows
    }

    /// The microkernels (register blocks), by name, e.g. "6x64 SIMD16"; an index into this list names one.
    public static var microkernelNames: [String] { GemmMicrokernel.allCases.map(\.name) }

    /// The index of the microkernel `Gemm.sgemm` uses on this machine.
    public static var selectedMicrokernel: Int { GemmMicrokernel.allCases.firstIndex(of: .selected)! }

    /// Columns of C one call of microkernel `index` computes (its panel width).
    public static func microkernelWidth(_ index: Int) -> Int { GemmMicrokernel.allCases[index].width }

    /// `Gemm.sgemm` with the algorithm and microkernel forced. Arguments as `Gemm.sgemm`; `.smallRows` needs
    /// `transA == false` and `transB == true`, and takes `rowOrder` (nil: the process's choice).
    public static func multiply(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int,
        microkernel: Int, path: Path, arithmetic: GemmArithmetic = .active, rowOrder: GemmRowOrder? = nil
    ) {
        let kernel = GemmMicrokernel.allCases[microkernel]
        switch path {
        case .simple, .packed:
            Gemm.multiply(
                transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b,
                ldb: ldb, beta: beta, c: c, ldc: ldc, threads: threads, kernel: kernel,
                arithmetic: arithmetic, path: path == .simple ? .simple : .packed)
        case .smallRows:
            precondition(!transA && transB, "GemmTesting: the small-rows path needs transA false and transB true")
            GemmSmallRows.multiply(
                m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta,
                c: c, ldc: ldc, threads: threads, arithmetic: arithmetic, rowOrder: rowOrder)
        }
    }

    /// The k blocks a packed product of depth `k` is computed (and packed) in, in order.
    public static func depthBlocks(k: Int) -> [Range<Int>] {
        let count = GemmMicrokernel.depthBlockCount(k)
        return (0..<count).map { GemmMicrokernel.depthRange($0, of: count, k: k) }
    }

    /// Packs rows `rows` and steps `depth` of opA(A) into 6-row micro-panels as the packed path does (a last
    /// partial panel padded with zeros): `dest` needs `ceil(rows.count / 6) * 6 * depth.count` values.
    public static func packA(
        transA: Bool, a: UnsafePointer<Float>, lda: Int, rows: Range<Int>, depth: Range<Int>,
        into dest: UnsafeMutablePointer<Float>
    ) {
        GemmPacking.packA(transA: transA, a: a, lda: lda, rows: rows, depth: depth, into: dest)
    }

    /// Packs steps `depth` and columns `columns` of opB(B) into micro-panels `width` columns wide as the
    /// packed path does: `dest` needs `ceil(columns.count / width) * width * depth.count` values.
    public static func packB(
        transB: Bool, b: UnsafePointer<Float>, ldb: Int, depth: Range<Int>, columns: Range<Int>, width: Int,
        into dest: UnsafeMutablePointer<Float>
    ) {
        GemmPacking.packB(transB: transB, b: b, ldb: ldb, depth: depth, columns: columns, width: width, into: dest)
    }

    /// Runs a fresh `GemmRowOrderChoice` as a decode would: for each product (row length, weights) in order,
    /// asks for an order, and, when the product is to be timed, records `nanoseconds(rowLength, order)` per
    /// weight times its weights. Returns the order each product got, and the decided order per row length.
    public static func simulateRowOrderChoice(
        products: [(rowLength: Int, values: Int)], nanosecondsPerValue: (Int, GemmRowOrder) -> Double
    ) -> (orders: [GemmRowOrder], decided: [Int: GemmRowOrder]) {
        let choice = GemmRowOrderChoice()
        var orders: [GemmRowOrder] = []
        for (rowLength, values) in products {
            let (order, timed) = choice.order(rowLength: rowLength, values: values)
            orders.append(order)
            if timed {
                let time = nanosecondsPerValue(rowLength, order) * Double(values)
                choice.record(rowLength: rowLength, order: order, values: values, nanoseconds: UInt64(time))
            }
        }
        return (orders, choice.choices)
    }

    /// Runs microkernel `index` on one tile: C[6, 64] (row stride `ldc`) = alpha * A B + beta * C, with A a packed
    /// panel (`kc` steps of 6 values) and B row-major [kc, 64], packed here for the kernel's width.
    public static func runMicrokernel(
        _ index: Int, kc: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
        c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float, beta: Float,
        arithmetic: GemmArithmetic = .active
    ) {
        let kernel = GemmMicrokernel.allCases[index]
        let packed = UnsafeMutableRawPointer.allocate(byteCount: 64 * max(kc, 1) * 4, alignment: 64)
            .bindMemory(to: Float.self, capacity: 64 * max(kc, 1))
        defer { packed.deallocate() }
        GemmPacking.packB(
            transB: false, b: b, ldb: 64, depth: 0..<kc, columns: 0..<64, width: kernel.width, into: packed)
        for j in stride(from: 0, to: 64, by: kernel.width) {
            kernel.run(
                kc: kc, a: a, b: packed + j * kc, c: c + j, ldc: ldc, alpha: alpha, beta: beta,
                arithmetic: arithmetic)
        }
    }
}
