import Kernel
import XCTest

/// A two-layer toy tree shaped like a decoder: model.layers.{0,1}.mlp.{up_proj,down_proj}.
private final class ToyMLP: Module, UnaryLayer {
    init(_ g: inout RandomGenerator) {
        super.init()
        registerChild("up_proj", Linear(3, 4, bias: false, generator: &g))
        registerChild("down_proj", Linear(4, 3, generator: &g))
    }
    var up: Linear { child("up_proj") as! Linear }
    var down: Linear { child("down_proj") as! Linear }
    func callAsFunction(_ x: Tensor) -> Tensor { down(up(x)) }
}

private final class ToyModel: Module {
    init(seed: UInt64) {
        super.init()
        var g = RandomGenerator(seed: seed)
        let inner = Module()
        for i in 0..<2 {
            let layer = Module()
            layer.registerChild("mlp", ToyMLP(&g))
            inner.registerChild("layers.\(i)", layer)
        }
        registerChild("model", inner)
    }
}

/// A replacement that doubles the wrapped layer's output, to test replacement by path.
private final class Doubler: Module, UnaryLayer {
    init(_ inner: Module) {
        super.init()
        registerChild("inner", inner)
    }
    func callAsFunction(_ x: Tensor) -> Tensor { x }
}

final class ModuleTests: XCTestCase {
    func testHuggingFaceStyleNamesInRegistrationOrder() {
        let m = ToyModel(seed: 1)
        XCTAssertEqual(
            m.namedParameters().map(\.name),
            [
                "model.layers.0.mlp.up_proj.weight", "model.layers.0.mlp.down_proj.weight",
                "model.layers.0.mlp.down_proj.bias", "model.layers.1.mlp.up_proj.weight",
                "model.layers.1.mlp.down_proj.weight", "model.layers.1.mlp.down_proj.bias",
            ])
        XCTAssertEqual(m.parameterCounts.total, 2 * (12 + 12 + 3))
    }

    func testSetTrainableIsAPredicateOnNames() {
        let m = ToyModel(seed: 1)
        let names = m.setTrainable { $0.contains("down_proj") }
        XCTAssertEqual(names.count, 4)
        XCTAssertEqual(m.parameterCounts.trainable, 2 * 15)
        XCTAssertFalse(m.parameter(named: "model.layers.1.mlp.up_proj.weight")!.requiresGrad)
    }

    func testModuleLookupAndReplacementByPath() throws {
        let m = ToyModel(seed: 1)
        XCTAssertTrue(m.module(at: "model.layers.1.mlp") is ToyMLP)
        XCTAssertNil(m.module(at: "model.layers.7.mlp"))
        let old = m.module(at: "model.layers.1.mlp")!
        try m.replaceModule(at: "model.layers.1.mlp", with: Doubler(old))
        XCTAssertTrue(m.module(at: "model.layers.1.mlp") is Doubler)
        XCTAssertTrue(m.namedParameters().map(\.name).contains("model.layers.1.mlp.inner.up_proj.weight"))
        XCTAssertThrowsError(try m.replaceModule(at: "model.nope", with: Module())) { error in
            XCTAssertTrue("\(error)".contains("no module at 'model.nope'"), "\(error)")
        }
    }

    func testLoadChecksNamesAndShapes() throws {
        let a = ToyModel(seed: 1)
        let b = ToyModel(seed: 2)
        try b.load(a.parameterSnapshot())
        for ((_, x), (_, y)) in zip(a.namedParameters(), b.namedParameters()) { XCTAssertEqual(x.array, y.array) }
        var snapshot = a.parameterSnapshot()
        snapshot["model.layers.0.mlp.up_proj.weight"] = Tensor(zeros: [2, 2])
        XCTAssertThrowsError(try b.load(snapshot, source: "x.safetensors")) { error in
            XCTAssertEqual(
                "\(error)",
                "x.safetensors: tensor 'model.layers.0.mlp.up_proj.weight' has shape [2, 2], expected [4, 3]")
        }
        snapshot = a.parameterSnapshot()
        snapshot.removeValue(forKey: "model.layers.1.mlp.down_proj.bias")
        XCTAssertThrowsError(try b.load(snapshot))
        XCTAssertNoThrow(try b.load(snapshot, strict: false))
        snapshot = a.parameterSnapshot()
        snapshot["extra.weight"] = Tensor(zeros: [1])
        XCTAssertThrowsError(try b.load(snapshot)) { XCTAssertTrue("\($0)".contains("'extra.weight'")) }
    }

    func testBatchTargetsCoverAnswersOnly() {
        let b = Batch(prompts: [[1, 2, 3], [4]], answers: [[7, 8], [9, 10, 11]])
        XCTAssertEqual(b.sequenceLength, 5)
        XCTAssertEqual(b.tokens, [1, 2, 3, 7, 8, 4, 9, 10, 11, 0])
        let ig = Batch.ignoreIndex
        XCTAssertEqual(b.targets, [ig, ig, 7, 8, ig, 9, 10, 11, ig, ig])
        XCTAssertEqual(b.lengths, [5, 4])
    }
}
