import Kernel
import MoE
import TinyLLaVA
import Transformer
import XCTest

final class MoETests: XCTestCase {
    func testStructureNamesAndTrainableSet() throws {
        let m = try Fixture.model()
        try MoE().prepare(m, stage: Fixture.stage())
        XCTAssertTrue(m.module(at: "model.layers.1.mlp") is MixtureOfExperts)
        XCTAssertEqual(
            m.trainableParameters.map(\.name),
            (0..<2).flatMap { i in
                [
                    "experts.1.gate_proj.weight", "experts.1.up_proj.weight", "experts.1.down_proj.weight",
                    "router.weight", "router.bias",
                ]
                .map { "model.layers.\(i).mlp.\($0)" }
            })
        XCTAssertEqual(m.parameterCounts.trainable, 12_420)
        XCTAssertEqual(m.parameterCounts.total, 26_624 + 12_420)
        XCTAssertNotNil(m.parameter(named: "model.layers.0.mlp.experts.0.down_proj.weight"))
        XCTAssertEqual(
            m.parameter(named: "model.layers.0.mlp.experts.1.up_proj.weight")!.array,
            m.parameter(named: "model.layers.0.mlp.experts.0.up_proj.weight")!.array)
        XCTAssertNil(m.module(at: "vision_tower.encoder.layers.0.mlp") as? MixtureOfExperts)
    }

    func testRouterPreferringTheOriginalReproducesTheBaseModel() throws {
        let m = try Fixture.model()
        let batch = Fixture.batch(for: m)
        let base = Fixture.logits(m, batch)
        let moe = try MoE()
        try moe.prepare(m, stage: Fixture.stage())
        // Make the copy differ, so that using it would show.
        for (name, t) in m.namedParameters() where name.contains(".experts.1.") {
            for i in 0..<t.count { t.data[i] *= -2 }
        }
        XCTAssertEqual(
            Fixture.logits(m, batch), base, "hard top-1 at the initial router: the original expert everywhere")
        // Training mode, router forced to the original expert: softmax weights exactly (1, 0).
        for i in 0..<2 {
            let bias = m.parameter(named: "model.layers.\(i).mlp.router.bias")!
            bias.data[0] = 100
            bias.data[1] = -100
        }
        m.setTraining(true)
        let soft = Autograd.withNoGrad { m.forward(batch).logits.array }
        XCTAssertEqual(soft, base)
    }

    func testSoftAndHardRoutingMatchAPerTokenReference() throws {
        var g = RandomGenerator(seed: 6)
        let a = GatedMLP(hidden: 8, intermediate: 12, generator: &g)
        let b = GatedMLP(hidden: 8, intermediate: 12, generator: &g)
        let router = Linear(8, 2, generator: &g)
        let mixture = MixtureOfExperts(original: a, copy: b, router: router)
        let x = Tensor(shape: [2, 5, 8], values: (0..<80).map { _ in g.normal() })
        let ya = a(x).array
        let yb = b(x).array
        let logits = router(x).array
        mixture.setTraining(true)
        let soft = mixture(x).array
        mixture.setTraining(false)
        let hard = mixture(x).array
        var picks = Set<Int>()
        for t in 0..<10 {
            let l0 = Double(logits[2 * t])
            let l1 = Double(logits[2 * t + 1])
            let p0 = 1 / (1 + Foundation.exp(l1 - l0))
            let pick = l1 > l0 ? 1 : 0
            picks.insert(pick)
            for j in 0..<8 {
                let k = t * 8 + j
                XCTAssertEqual(Double(soft[k]), p0 * Double(ya[k]) + (1 - p0) * Double(yb[k]), accuracy: 1e-5)
                XCTAssertEqual(hard[k], pick == 0 ? ya[k] : yb[k], accuracy: 1e-6)
            }
        }
        XCTAssertEqual(picks, [0, 1], "the test needs tokens routed both ways")
        // Gradients of the soft mixture.
        mixture.setTraining(true)
        let xg = Tensor(shape: [1, 3, 8], values: (0..<24).map { _ in g.normal() }, requiresGrad: true)
        let r = GradientCheck.check([xg, router.weight, router.bias!, b.parameter(named: "up_proj.weight")!]) { _ in
            mixture(xg).sum()
        }
        XCTAssertTrue(r.passed, "\(r)")
    }

    func testStageTrainsCopyAndRouterOnlyAndCheckpointsLoadByName() throws {
        let m = try Fixture.model()
        let moe = try MoE()
        try moe.installModules(m, stage: Fixture.stage())
        let before = m.parameterSnapshot()
        try Fixture.runStage(m, moe, steps: 3)
        let trainable = Set(
            m.namedParameters().map(\.name).filter { $0.contains(".experts.1.") || $0.contains(".router.") })
        assertUnchanged(m, except: trainable, before: before, "moe")
        XCTAssertNotEqual(
            m.parameter(named: "model.layers.0.mlp.router.weight")!.array,
            before["model.layers.0.mlp.router.weight"]!.array)
        let fresh = try Fixture.model()
        try moe.installModules(fresh, stage: Fixture.stage(2))
        try fresh.load(m.parameterSnapshot(), source: "checkpoint")
        let batch = Fixture.batch(for: m)
        XCTAssertEqual(Fixture.logits(fresh, batch), Fixture.logits(m, batch))
    }
}
