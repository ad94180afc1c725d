import ComponentTuning
import Kernel
import TinyLLaVA
import WiSEFT
import XCTest

final class WiSEFTTests: XCTestCase {
    /// The MLP weights after one stage of plain MLP tuning, and the weights before it.
    func tunedAndPrevious() throws -> (tuned: [String: Tensor], previous: [String: Tensor]) {
        let m = try Fixture.model()
        let previous = m.parameterSnapshot()
        try Fixture.runStage(m, ComponentTuning(recipe: .mlp), steps: 3)
        return (m.parameterSnapshot(), previous)
    }

    func testAlphaZeroGivesTheTunedAndAlphaOneThePreviousWeights() throws {
        let (tuned, previous) = try tunedAndPrevious()
        for (alpha, expected) in [("0", tuned), ("1", previous)] {
            let m = try Fixture.model()
            try Fixture.runStage(m, WiSEFT(options: ["alpha": alpha]), steps: 3)
            for (name, t) in m.namedParameters() {
                XCTAssertEqual(t.array, expected[name]!.array, "alpha \(alpha): \(name)")
            }
        }
    }

    func testInterpolatesTheTrainableParametersOnly() throws {
        let (tuned, previous) = try tunedAndPrevious()
        let m = try Fixture.model()
        let strategy = try WiSEFT(options: ["alpha": "0.3"])
        try Fixture.runStage(m, strategy, steps: 3)
        XCTAssertTrue(strategy.previous.isEmpty, "the snapshot is dropped after the stage")
        var moved = 0
        for (name, t) in m.namedParameters() {
            let now = t.array
            let p = previous[name]!.array
            let q = tuned[name]!.array
            if name.hasPrefix("model.layers.") && name.contains(".mlp.") {
                for i in 0..<now.count {
                    XCTAssertEqual(Double(now[i]), 0.3 * Double(p[i]) + 0.7 * Double(q[i]), accuracy: 1e-6, name)
                }
                moved += 1
            } else {
                XCTAssertEqual(now, p, "frozen \(name)")
            }
        }
        XCTAssertEqual(moved, 6)
        XCTAssertEqual(try WiSEFT().alpha, 0.1, "the study's setting is the default")
    }
}
