import Kernel
import XCTest

/// `Gemm.sgemm` against a naive Double reference, around every tile and block edge of the packed path.
final class GemmTests: XCTestCase {
    /// Runs sgemm on random operands stored with padded strides and checks C (including the padding,
    /// which must stay untouched) against `alpha * reference + beta * C0`; also forces the packed path
    /// with each microkernel, so tile edges are covered whatever kernel this machine selects.
    func check(
        m: Int, n: Int, k: Int, transA: Bool, transB: Bool, alpha: Float = 1, beta: Float = 0,
        pad: Int = 0, threads: Int? = nil, seed: UInt64, file: StaticString = #filePath, line: UInt = #line
    ) {
        var rng = TestRandom(seed)
        let aRows = transA ? k : m
        let aCols = transA ? m : k
        let bRows = transB ? n : k
        let bCols = transB ? k : n
        let lda = aCols + pad
        let ldb = bCols + pad
        let ldc = n + pad
        let aStored = (0..<(aRows * lda)).map { _ in rng.next() }
        let bStored = (0..<(bRows * ldb)).map { _ in rng.next() }
        let c0 = (0..<(m * ldc)).map { _ in rng.next() }
        let aDense = (0..<(aRows * aCols)).map { aStored[$0 / aCols * lda + $0 % aCols] }
        let bDense = (0..<(bRows * bCols)).map { bStored[$0 / bCols * ldb + $0 % bCols] }
        let product = referenceMatmul(aDense, bDense, m: m, n: n, k: k, transA: transA, transB: transB)

        // The public entry, the simple path, then the packed path with every microkernel.
        var variants: [(String, Int?, GemmTesting.Path)] = [
            ("sgemm", nil, .simple),
            ("simple", GemmTesting.selectedMicrokernel, .simple),
        ]
        for (index, name) in GemmTesting.microkernelNames.enumerated() {
            variants.append(("packed \(name)", index, .packed))
        }
        if !transA && transB { variants.append(("small rows", GemmTesting.selectedMicrokernel, .smallRows)) }
        let tolerance = 2e-5 * Float(k).squareRoot() * max(1, abs(alpha)) + 1e-5
        for (label, kernel, path) in variants {
            var c = c0
            if let kernel {
                GemmTesting.multiply(
                    transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: aStored, lda: lda,
                    b: bStored, ldb: ldb, beta: beta, c: &c, ldc: ldc, threads: threads ?? 1,
                    microkernel: kernel, path: path)
            } else {
                Gemm.sgemm(
                    transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: aStored, lda: lda,
                    b: bStored, ldb: ldb, beta: beta, c: &c, ldc: ldc, threads: threads)
            }
            var failures = 0
            for i in 0..<m {
                for j in 0..<ldc {
                    let index = i * ldc + j
                    let expected = j < n ? alpha * product[i * n + j] + (beta == 0 ? 0 : beta * c0[index]) : c0[index]
                    if !(abs(c[index] - expected) <= tolerance) {
                        failures += 1
                        if failures <= 3 {
                            XCTFail(
                                "\(label) m=\(m) n=\(n) k=\(k) tA=\(transA) tB=\(transB) alpha=\(alpha) beta=\(beta) "
                                    + "pad=\(pad): C[\(i), \(j)] = \(c[index]), expected \(expected)", file: file,
                                line: line)
                        }
                    }
                }
            }
        }
    }

    func testTileEdgesForAllTransposes() {
        var seed: UInt64 = 100
        for transA in [false, true] {
            for transB in [false, true] {
                for m in 1...13 {
                    for (n, k) in [(1, 1), (63, 40), (64, 17), (65, 9), (129, 5)] {
                        seed += 1
                        check(m: m, n: n, k: k, transA: transA, transB: transB, seed: seed)
                    }
                }
                for (m, n, k) in [
                    (7, 127, 40), (25, 65, 383), (25, 64, 384), (13, 129, 385), (97, 130, 769),
                    (6, 64, 1), (1, 200, 300), (200, 1, 300), (7, 2100, 3), (7, 4100, 3), (4100, 7, 3),
                    (203, 70, 300),  // many full A panels (8-value copies when transposed), then a partial one
                    (13, 2100, 600),  // several column blocks and k blocks: opA packed once and kept
                ] {
                    seed += 1
                    check(m: m, n: n, k: k, transA: transA, transB: transB, seed: seed)
                }
            }
        }
    }

    func testAlphaBetaAndStrides() {
        var seed: UInt64 = 500
        for transA in [false, true] {
            for transB in [false, true] {
                for (alpha, beta) in [(Float(1), Float(0)), (1, 1), (0.5, 0.5), (-2, 1), (0.5, 0)] {
                    for pad in [0, 3] {
                        for (m, n, k) in [(5, 9, 7), (31, 70, 50), (100, 67, 400)] {
                            seed += 1
                            check(
                                m: m, n: n, k: k, transA: transA, transB: transB, alpha: alpha, beta: beta,
                                pad: pad, seed: seed)
                        }
                    }
                }
            }
        }
    }

    func testBetaZeroIgnoresNaNInC() {
        for (m, n, k) in [(3, 4, 5), (50, 70, 40)] {
            let a = [Float](repeating: 1, count: m * k)
            let b = [Float](repeating: 2, count: k * n)
            var c = [Float](repeating: .nan, count: m * n)
            Gemm.sgemm(transA: false, transB: false, m: m, n: n, k: k, a: a, lda: k, b: b, ldb: n, c: &c, ldc: n)
            XCTAssertEqual(c, [Float](repeating: Float(2 * k), count: m * n), "m=\(m) n=\(n) k=\(k)")
        }
    }

    func testZeroDepthScalesC() {
        let a: [Float] = []
        let b: [Float] = []
        var c: [Float] = [1, 2, 3, 4]
        Gemm.sgemm(transA: false, transB: false, m: 2, n: 2, k: 0, a: a, lda: 0, b: b, ldb: 2, beta: 0.5, c: &c, ldc: 2)
        XCTAssertEqual(c, [0.5, 1, 1.5, 2])
        Gemm.sgemm(transA: false, transB: false, m: 2, n: 2, k: 0, a: a, lda: 0, b: b, ldb: 2, c: &c, ldc: 2)
        XCTAssertEqual(c, [0, 0, 0, 0])
    }

    /// Results must not depend on the thread count (the shared phases split along M and along N, and the
    /// independent parts along M and along N) nor on the microkernel.
    func testBitwiseIdenticalAcrossThreadCounts() {
        var rng = TestRandom(900)
        for (m, n, k, transA, transB) in [
            (301, 130, 390, false, false), (70, 333, 200, true, false),
            (130, 129, 777, false, true), (64, 700, 100, true, true),
            (20, 2200, 530, false, true),  // opA kept across column blocks
            // Cut into independent parts on 2 and 3 threads: along M (each part packs all of B), along N.
            (800, 97, 300, true, true), (45, 790, 260, false, false),
        ] {
            let a = (0..<(m * k)).map { _ in rng.next() }
            let b = (0..<(k * n)).map { _ in rng.next() }
            let c0 = (0..<(m * n)).map { _ in rng.next() }
            var results: [(String, [Float])] = []
            for (kernel, name) in GemmTesting.microkernelNames.enumerated() {
                for threads in [1, 2, 3] {
                    var c = c0
                    GemmTesting.multiply(
                        transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.75, a: a,
                        lda: transA ? m : k, b: b, ldb: transB ? k : n, beta: 0.5, c: &c, ldc: n,
                        threads: threads, microkernel: kernel, path: .packed)
                    results.append(("\(name), \(threads) threads", c))
                }
            }
            for (label, c) in results.dropFirst() {
                XCTAssertTrue(
                    c == results[0].1,
                    "\(label) differs from \(results[0].0): m=\(m) n=\(n) k=\(k) tA=\(transA) tB=\(transB)")
            }
        }
    }

    /// The micro-panels hold exactly what their definition says, zero padding included, for both operands
    /// and transposes, every microkernel width (and A's 6), ranges that start inside the matrix, row lengths
    /// past the range, and depths with and without a remainder of the copies' 4- and 8-step groups.
    func testPackingMatchesTheDefinition() {
        var rng = TestRandom(41)
        let stored = (0..<(40 * 140)).map { _ in rng.next() }
        let widths = Set((0..<GemmTesting.microkernelNames.count).map(GemmTesting.microkernelWidth)).sorted()
        for transposed in [false, true] {
            for (outer, depth) in [(0..<1, 0..<1), (3..<40, 1..<30), (0..<36, 0..<8), (5..<16, 3..<140)] {
                // opX[i, p] for i in `outer` (A's rows or B's columns), p in `depth`.
                func value(isA: Bool, _ i: Int, _ p: Int) -> Float {
                    // opA stored m x k (transposed: k x m); opB stored k x n (transposed: n x k).
                    (isA ? !transposed : transposed) ? stored[i * 140 + p] : stored[p * 40 + i]
                }
                for (isA, width) in [(true, 6)] + widths.map({ (false, $0) }) {
                    let ldStored = (isA ? !transposed : transposed) ? 140 : 40
                    let panels = (outer.count + width - 1) / width
                    var packed = [Float](repeating: .nan, count: panels * width * depth.count + 8)
                    stored.withUnsafeBufferPointer { source in
                        packed.withUnsafeMutableBufferPointer { dest in
                            if isA {
                                GemmTesting.packA(
                                    transA: transposed, a: source.baseAddress!, lda: ldStored, rows: outer,
                                    depth: depth, into: dest.baseAddress!)
                            } else {
                                GemmTesting.packB(
                                    transB: transposed, b: source.baseAddress!, ldb: ldStored, depth: depth,
                                    columns: outer, width: width, into: dest.baseAddress!)
                            }
                        }
                    }
                    var expected = [Float](repeating: .nan, count: packed.count)
                    for q in 0..<panels {
                        for (s, p) in depth.enumerated() {
                            for t in 0..<width {
                                let i = outer.lowerBound + q * width + t
                                expected[(q * depth.count + s) * width + t] =
                                    i < outer.upperBound ? value(isA: isA, i, p) : 0
                            }
                        }
                    }
                    XCTAssertEqual(
                        packed.map(\.bitPattern), expected.map(\.bitPattern),
                        "\(isA ? "A" : "B") transposed \(transposed) width \(width) \(outer) x \(depth)")
                }
            }
        }
    }

    /// Every microkernel gives the same bits, so the per-machine choice never changes a result.
    func testMicrokernelsAgreeBitwise() {
        var rng = TestRandom(901)
        let kc = 37
        let a = (0..<(6 * kc)).map { _ in rng.next() }
        let b = (0..<(64 * kc)).map { _ in rng.next() }
        let c0 = (0..<(6 * 64)).map { _ in rng.next() }
        var results: [[Float]] = []
        for kernel in GemmTesting.microkernelNames.indices {
            var c = c0
            GemmTesting.runMicrokernel(kernel, kc: kc, a: a, b: b, c: &c, ldc: 64, alpha: 0.75, beta: 0.5)
            results.append(c)
        }
        XCTAssertEqual(results[0], results[1])
        XCTAssertEqual(results[0], results[2])
    }

    /// The small-rows path (decoding) splits columns over threads: the same bits for any thread count, and
    /// the same bits as the simple path's dot products.
    func testSmallRowsBitwiseAcrossThreadCountsAndEqualToSimple() {
        var rng = TestRandom(902)
        for (m, n, k) in [
            (1, 700, 300), (1, 703, 300), (1, 3, 50), (3, 9, 17), (8, 513, 129), (16, 300, 64), (5, 1, 40),
            (1, 9000, 300), (8, 4100, 129),
            (16, 2100, 300),
        ] {
            let a = (0..<(m * k)).map { _ in rng.next() }
            let b = (0..<(n * k)).map { _ in rng.next() }
            var results: [[Float]] = []
            // Every thread count with the process's row order, then each forced order (one row of A only).
            var runs: [(Int, GemmRowOrder?)] = [(1, nil), (2, nil), (3, nil)]
            if m == 1 { runs += [(1, .oneRow), (2, .oneRow), (1, .fourRows), (3, .fourRows)] }
            for (threads, order) in runs {
                var c = [Float](repeating: .nan, count: m * n)
                GemmTesting.multiply(
                    transA: false, transB: true, m: m, n: n, k: k, a: a, lda: k, b: b, ldb: k,
                    c: &c, ldc: n, threads: threads, microkernel: GemmTesting.selectedMicrokernel,
                    path: .smallRows, rowOrder: order)
                results.append(c)
            }
            for (index, run) in runs.enumerated().dropFirst() {
                XCTAssertEqual(
                    results[0], results[index],
                    "m=\(m) n=\(n) k=\(k) threads \(run.0) order \(run.1.map { "\($0)" } ?? "chosen")")
            }
            var simple = [Float](repeating: 0, count: m * n)
            GemmTesting.multiply(
                transA: false, transB: true, m: m, n: n, k: k, a: a, lda: k, b: b, ldb: k,
                c: &simple, ldc: n, threads: 1, microkernel: GemmTesting.selectedMicrokernel, path: .simple)
            XCTAssertEqual(simple, results[0], "m=\(m) n=\(n) k=\(k)")
        }
    }

    /// Batch-1 products choose their weight read order per row length from timed products: alternating
    /// A B B A on products of at least a megabyte, deciding after 8 of each by the median, untimed small products
    /// taking four rows until then, and every later product taking the decided order.
    func testRowOrderChoiceTimesAlternatelyAndKeepsTheFaster() {
        // A decoder layer's products: q and o (896 x 896), k and v (128 x 896: too small to time), gate and
        // up (4864 x 896), down (896 x 4864). One row is faster for 896-value rows, four rows for 4864.
        let layer: [(rowLength: Int, values: Int)] = [
            (896, 896 * 896), (896, 128 * 896), (896, 128 * 896), (896, 896 * 896), (896, 4864 * 896),
            (896, 4864 * 896), (4864, 896 * 4864),
        ]
        let products = Array(repeating: layer, count: 20).flatMap { $0 }
        let (orders, decided) = GemmTesting.simulateRowOrderChoice(products: products) { rowLength, order in
            (rowLength == 896) == (order == .oneRow) ? 1.0 : 1.5
        }
        XCTAssertEqual(decided, [896: .oneRow, 4864: .fourRows])
        // Layer 1: the first four timed 896-value products (q, o, gate, up) go A B B A, the small ones in
        // between take four rows; the first 4864-value product starts its own A B B A.
        XCTAssertEqual(Array(orders[0..<7]), [.oneRow, .fourRows, .fourRows, .fourRows, .fourRows, .oneRow, .oneRow])
        // 16 timed 896-value products (4 per layer) decide after layer 4: from layer 5 on every 896-value
        // product takes one row, the small ones too.
        XCTAssertEqual(Array(orders[(7 * 4)..<(7 * 4 + 6)]), Array(repeating: .oneRow, count: 6))
        // The down projections (one per layer) alternate A B B A for 16 layers, then take four rows.
        let downs = stride(from: 6, to: orders.count, by: 7).map { orders[$0] }
        XCTAssertEqual(downs, (0..<20).map { $0 < 16 && ($0 % 4 == 0 || $0 % 4 == 3) ? .oneRow : .fourRows })

        // Noisy times: the median, not the mean, decides (one outlier of 100x per order does not flip it).
        var calls = 0
        let noisy = GemmTesting.simulateRowOrderChoice(
            products: Array(repeating: (rowLength: 2048, values: 1 << 20), count: 16)
        ) { _, order in
            calls += 1
            return calls == 2 ? 100 : order == .oneRow ? 2 : 1
        }
        XCTAssertEqual(noisy.decided, [2048: .fourRows])
        // Below a megabyte nothing is timed or decided.
        let small = GemmTesting.simulateRowOrderChoice(
            products: Array(repeating: (rowLength: 512, values: 1000), count: 40)
        ) { _, _ in 1 }
        XCTAssertEqual(small.decided, [:])
        XCTAssertEqual(Set(small.orders), [.fourRows])
    }

    /// `Gemm.multiplyAdds` counts m * n * k for every `sgemm` call, whichever path computes it.
    func testMultiplyAddsCountsEveryCall() {
        let a = [Float](repeating: 1, count: 64 * 300)
        let b = [Float](repeating: 1, count: 300 * 200)
        var c = [Float](repeating: 0, count: 64 * 200)
        let before = Gemm.multiplyAdds
        for (m, n, k, transB) in [(3, 5, 7, false), (1, 200, 300, true), (64, 200, 300, false), (8, 10, 0, false)] {
            Gemm.sgemm(
                transA: false, transB: transB, m: m, n: n, k: k, a: a, lda: max(k, 1), b: b, ldb: transB ? k : n,
                c: &c, ldc: n)
        }
        XCTAssertEqual(Gemm.multiplyAdds - before, 3 * 5 * 7 + 200 * 300 + 64 * 200 * 300)
    }
}
