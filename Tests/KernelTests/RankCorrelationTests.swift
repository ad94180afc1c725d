import Kernel
import XCTest

/// Spearman's rank correlation against hand-computed cases.
final class RankCorrelationTests: XCTestCase {
    func testRanksAverageTies() {
        XCTAssertEqual(RankCorrelation.ranks([10, 30, 20]), [1, 3, 2])
        XCTAssertEqual(RankCorrelation.ranks([1, 2, 2, 3]), [1, 2.5, 2.5, 4])
        XCTAssertEqual(RankCorrelation.ranks([5, 5, 5]), [2, 2, 2])
    }

    func testSpearman() throws {
        XCTAssertEqual(try XCTUnwrap(RankCorrelation.spearman([1, 2, 3, 4], [10, 20, 35, 1000])), 1, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(RankCorrelation.spearman([1, 2, 3], [3, 2, 1])), -1, accuracy: 1e-12)
        // Ranks x = 1,2,3,4 and y = 2,1,4,3: 1 − 6·Σd²/(n(n²−1)) = 1 − 6·4/60 = 0.6.
        XCTAssertEqual(try XCTUnwrap(RankCorrelation.spearman([1, 2, 3, 4], [20, 10, 40, 30])), 0.6, accuracy: 1e-12)
        XCTAssertNil(RankCorrelation.spearman([1, 2], [1, 2]), "fewer than 3 pairs")
        XCTAssertNil(RankCorrelation.spearman([1, 1, 1], [1, 2, 3]), "no spread")
        XCTAssertNil(RankCorrelation.spearman([1, .nan, 3], [1, 2, 3]))
        XCTAssertNil(RankCorrelation.spearman([1, 2, 3], [1, 2]))
    }
}
