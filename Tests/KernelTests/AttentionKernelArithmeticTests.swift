import Kernel
import XCTest

/// The inner loops of attention compute exactly the formula they document, in both multiply-add modes
/// (`GemmArithmetic`): fused where the build has FMA instructions, separate in the baseline build.
final class AttentionKernelArithmeticTests: XCTestCase {
    func madd(_ c: Float, _ a: Float, _ b: Float, _ arithmetic: GemmArithmetic) -> Float {
        arithmetic == .fused ? c.addingProduct(a, b) : c + a * b
    }

    func testRowsTimesPackedIsTheFormulaInBothModes() {
        var rng = TestRandom(31)
        let (depth, ldb, lda, ldc) = (72, 96, 80, 100)
        let a = (0..<(4 * lda)).map { _ in rng.next() }
        let bt = (0..<(depth * ldb)).map { _ in rng.next() }
        var byMode: [GemmArithmetic: [Float]] = [:]
        for arithmetic in GemmArithmetic.allCases {
            for rows in 1...4 {
                for columns in [32, 96] {
                    var c = [Float](repeating: .nan, count: 4 * ldc)
                    AttentionTesting.rowsTimesPacked(
                        a, lda: lda, rows: rows, depth: depth, bt, ldb: ldb, columns: columns, &c, ldc: ldc,
                        arithmetic: arithmetic)
                    for r in 0..<4 {
                        for j in 0..<ldc {
                            let index = r * ldc + j
                            guard r < rows && j < columns else {
                                XCTAssertTrue(c[index].isNaN, "C[\(r), \(j)] outside the block was written")
                                continue
                            }
                            var expected: Float = 0
                            for d in 0..<depth {
                                expected = madd(expected, a[r * lda + d], bt[d * ldb + j], arithmetic)
                            }
                            XCTAssertEqual(
                                c[index].bitPattern, expected.bitPattern,
                                "\(arithmetic) rows \(rows) columns \(columns): C[\(r), \(j)] = \(c[index]), formula \(expected)"
                            )
                        }
                    }
                    if rows == 4 && columns == 96 { byMode[arithmetic] = c }
                }
            }
        }
        XCTAssertNotEqual(
            byMode[.fused], byMode[.separate], "fused and separate multiply-adds should round differently")
    }

    func testWeightedRowSumIsTheFormulaInBothModes() {
        var rng = TestRandom(32)
        let (terms, lds, ldo) = (45, 90, 88)
        let w = (0..<(4 * terms + terms * 4)).map { _ in rng.next() }
        let src = (0..<(terms * lds)).map { _ in rng.next() }
        let start = (0..<(4 * ldo)).map { _ in rng.next() }
        for arithmetic in GemmArithmetic.allCases {
            // Head dims 64 (32-column blocks) and 72 (SigLIP: a 16-column block and 8 plain columns), 9 (plain
            // columns only); W row-major (termStride 1) and transposed (rowStride 1).
            for width in [64, 72, 9] {
                for (rowStride, termStride) in [(terms, 1), (1, 4)] {
                    for rows in [1, 3, 4] {
                        for accumulate in [false, true] {
                            let range = 2..<terms
                            var out = start
                            AttentionTesting.weightedRowSum(
                                w, rowStride: rowStride, termStride: termStride, rows: rows, range: range, src,
                                lds: lds, width: width, &out, ldo: ldo, accumulate: accumulate,
                                arithmetic: arithmetic)
                            for r in 0..<4 {
                                for col in 0..<ldo {
                                    let index = r * ldo + col
                                    guard r < rows && col < width else {
                                        XCTAssertEqual(
                                            out[index], start[index], "out[\(r), \(col)] outside the block was written")
                                        continue
                                    }
                                    var sum: Float = 0
                                    for j in range {
                                        sum = madd(
                                            sum, w[r * rowStride + j * termStride], src[j * lds + col], arithmetic)
                                    }
                                    let expected = accumulate ? start[index] + sum : sum
                                    XCTAssertEqual(
                                        out[index].bitPattern, expected.bitPattern,
                                        "\(arithmetic) width \(width) strides (\(rowStride), \(termStride)) rows \(rows) "
                                            + "accumulate \(accumulate): out[\(r), \(col)] = \(out[index]), formula \(expected)"
                                    )
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
