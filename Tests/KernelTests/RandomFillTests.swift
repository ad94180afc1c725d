import Kernel
import XCTest

/// `RandomGenerator.fillNormal` must give exactly the values, and leave exactly the state, of calling
/// `normal()` one value at a time (model initialisation uses it, so cached and saved models stay the same).
final class RandomFillTests: XCTestCase {
    func testFillNormalEqualsSuccessiveNormalDraws() {
        for count in [0, 1, 7, 4096 + 3, (1 << 16) + 5] {
            var a = RandomGenerator(seed: 11)
            var b = RandomGenerator(seed: 11)
            let expected = (0..<count).map { _ in a.normal() * 0.02 }
            let buffer = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
            defer { buffer.deallocate() }
            b.fillNormal(buffer, count: count, scale: 0.02)
            XCTAssertTrue(Array(UnsafeBufferPointer(start: buffer, count: count)) == expected, "count \(count)")
            XCTAssertEqual(a.next(), b.next(), "the generators continue identically (count \(count))")
        }
    }
}
