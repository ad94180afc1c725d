import Kernel
import XCTest

/// The 95% interval over seeds against hand-computed values: mean ± t(0.975, n − 1) · s / √n.
final class ConfidenceIntervalTests: XCTestCase {
    func testHandComputedIntervals() throws {
        // 1, 2, 3: mean 2, s = 1, t(2) = 4.303: 4.303 / √3 = 2.484339.
        let three = try XCTUnwrap(ConfidenceInterval([1, 2, 3]))
        XCTAssertEqual(three.mean, 2)
        XCTAssertEqual(three.halfWidth!, 2.484339, accuracy: 1e-6)
        XCTAssertEqual(three.count, 3)
        XCTAssertEqual(three.low!, 2 - 2.484339, accuracy: 1e-6)
        XCTAssertEqual(three.high!, 2 + 2.484339, accuracy: 1e-6)
        // 10, 14: mean 12, s = √8, t(1) = 12.706: 12.706 · √8 / √2 = 25.412.
        XCTAssertEqual(ConfidenceInterval([10, 14])!.halfWidth!, 25.412, accuracy: 1e-9)
        // -4, -6, -5, -5: mean -5, s² = 2/3, t(3) = 3.182: 3.182 · √(2/3) / 2 = 1.299046.
        let four = try XCTUnwrap(ConfidenceInterval([-4, -6, -5, -5]))
        XCTAssertEqual(four.mean, -5)
        XCTAssertEqual(four.halfWidth!, 1.299046, accuracy: 1e-6)
        // Equal values: no spread.
        XCTAssertEqual(ConfidenceInterval([7, 7, 7])!.halfWidth, 0)
    }

    func testOneValueHasNoIntervalAndNonFiniteValuesAreLeftOut() {
        XCTAssertEqual(ConfidenceInterval([3.5]), ConfidenceInterval(mean: 3.5, halfWidth: nil, count: 1))
        XCTAssertNil(ConfidenceInterval([]))
        XCTAssertNil(ConfidenceInterval([.nan]))
        XCTAssertEqual(ConfidenceInterval([1, .nan, 3, .infinity])!.count, 2)
        XCTAssertEqual(ConfidenceInterval([1, .nan, 3])!.mean, 2)
    }

    func testStudentTQuantiles() {
        XCTAssertEqual(ConfidenceInterval.studentT975(degreesOfFreedom: 1), 12.706)
        XCTAssertEqual(ConfidenceInterval.studentT975(degreesOfFreedom: 2), 4.303)
        XCTAssertEqual(ConfidenceInterval.studentT975(degreesOfFreedom: 9), 2.262)
        XCTAssertEqual(ConfidenceInterval.studentT975(degreesOfFreedom: 30), 2.042)
        XCTAssertEqual(ConfidenceInterval.studentT975(degreesOfFreedom: 35), 2.042, "the tabulated value below")
        XCTAssertEqual(ConfidenceInterval.studentT975(degreesOfFreedom: 40), 2.021)
        XCTAssertEqual(ConfidenceInterval.studentT975(degreesOfFreedom: 100), 2.000)
        XCTAssertEqual(ConfidenceInterval.studentT975(degreesOfFreedom: 5000), 1.980)
    }
}
