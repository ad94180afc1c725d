import Kernel
import XCTest

/// Textbook AdamW in Double, written from the formulas (not torch's operation order): the independent
/// reference for `AdamW`.
struct ReferenceAdamW {
    var beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8, weightDecay = 0.0
    var m: [Double] = [], v: [Double] = [], t = 0

    mutating func step(_ p: inout [Double], grad g: [Double], lr: Double) {
        if m.isEmpty {
            m = [Double](repeating: 0, count: p.count)
            v = m
        }
        t += 1
        for i in 0..<p.count {
            m[i] = beta1 * m[i] + (1 - beta1) * g[i]
            v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i]
            p[i] -= lr * weightDecay * p[i]
            let mHat = m[i] / (1 - pow(beta1, Double(t)))
            let vHat = v[i] / (1 - pow(beta2, Double(t)))
            p[i] -= lr * mHat / (vHat.squareRoot() + epsilon)
        }
    }
}

private func floats(_ bits: [UInt32]) -> [Float] { bits.map { Float(bitPattern: $0) } }

private func assertClose(
    _ actual: [Float], _ expected: [Double], accuracy: Double, _ label: String,
    file: StaticString = #filePath, line: UInt = #line
) {
    XCTAssertEqual(actual.count, expected.count, label, file: file, line: line)
    for (i, (a, e)) in zip(actual, expected).enumerated() {
        XCTAssertEqual(Double(a), e, accuracy: accuracy, "\(label)[\(i)]", file: file, line: line)
    }
}

final class AdamWTests: XCTestCase {
    func testMatchesDoubleReferenceOverThreeSteps() {
        let initial: [Float] = [0.5, -1.25, 2.0, 0.0, 3e-3, -0.75]
        let grads: [[Float]] = [
            [0.3, -0.2, 1.5, 0.0, -4e-4, 0.9], [-0.1, 0.25, 1.0, 0.5, 2e-4, -0.6],
            [0.05, -0.3, -2.0, 0.5, 1e-3, 0.4],
        ]
        let lrs = [1e-2, 3e-2, 5e-3]
        let w = Tensor(shape: [2, 3], values: initial, requiresGrad: true)
        let optimizer = AdamW(parameters: [("w", w)], weightDecay: 0.1)
        var reference = ReferenceAdamW(weightDecay: 0.1)
        var expected = initial.map(Double.init)
        for (g, lr) in zip(grads, lrs) {
            w.grad = Tensor(shape: [2, 3], values: g)
            optimizer.step(learningRate: lr)
            optimizer.zeroGrad()
            reference.step(&expected, grad: g.map(Double.init), lr: lr)
            assertClose(w.array, expected, accuracy: 1e-6, "w after step \(reference.t)")
            let state = Dictionary(uniqueKeysWithValues: optimizer.stateTensors().map { ($0.name, $0.tensor) })
            assertClose(state["w.exp_avg"]!.array, reference.m, accuracy: 1e-7, "exp_avg")
            assertClose(state["w.exp_avg_sq"]!.array, reference.v, accuracy: 1e-9, "exp_avg_sq")
            XCTAssertEqual(state["w.step"]!.item, Float(reference.t))
            XCTAssertNil(w.grad, "zeroGrad drops the gradient")
        }
        // Step 1 by hand: mhat = g, vhat = g^2, so each element moves by lr * sign(g) after decaying.
        // e.g. w[0] = 0.5 * (1 - 0.01 * 0.1) - 0.01 * 0.3 / (0.3 + 1e-8) = 0.4995 - 0.01 = 0.4895.
        let w1 = Tensor(shape: [1], values: [0.5], requiresGrad: true)
        let one = AdamW(parameters: [("w1", w1)], weightDecay: 0.1)
        w1.grad = Tensor(shape: [1], values: [0.3])
        one.step(learningRate: 0.01)
        XCTAssertEqual(Double(w1.item), 0.4895, accuracy: 1e-7)
    }

    /// Numbers from torch.optim.AdamW 2.13 (Fixtures/adamw_torch_reference.py): two parameter groups,
    /// one with weight decay 0.1 and lr scale 1, one with no decay and lr scale 0.4.
    func testAdamWMatchesTorchFixture() {
        let w = Tensor(shape: [6], values: [0.5, -1.25, 2.0, 0.0, 3.0e-3, -0.75], requiresGrad: true)
        let b = Tensor(shape: [2], values: [0.1, -0.2], requiresGrad: true)
        let gradsW: [[Float]] = [
            [0.3, -0.2, 1.5, 0.0, -4.0e-4, 0.9], [-0.1, 0.25, 1.0, 0.5, 2.0e-4, -0.6],
            [0.05, -0.3, -2.0, 0.5, 1.0e-3, 0.4],
        ]
        let gradsB: [[Float]] = [[1.0, -0.5], [0.75, 0.0], [-0.25, 2.0]]
        let lrs = [1e-2, 3e-2, 5e-3]
        let torchW: [[UInt32]] = [
            [0x3efa_9fbf, 0xbf9e_8f5c, 0x3ffe_76c9, 0x0000_0000, 0x3c54_f051, 0xbf42_5e35],
            [0x3ef3_b98b, 0xbf9e_b58f, 0x3ff9_f976, 0xbcb6_e109, 0x3cab_9a56, 0xbf42_e512],
            [0x3ef2_90a5, 0xbf9e_68af, 0x3ff9_d4fd, 0xbcd9_f342, 0x3c97_1163, 0xbf43_371c],
        ]
        let torchB: [[UInt32]] = [
            [0x3dc4_9ba6, 0xbe48_b43a], [0x3dac_75d2, 0xbe40_7868], [0x3da9_ec5a, 0xbe41_7b8c],
        ]
        let torchExpAvgSq: [[UInt32]] = [
            [0x38bc_be63, 0x3827_c5ad, 0x3b13_74bc, 0x0000_0000, 0x2f2f_ebff, 0x3a54_562e],
            [0x38d1_86c8, 0x38d6_dfcc, 0x3b54_d834, 0x3983_126f, 0x2f5b_b9f6, 0x3a99_3f82],
            [0x38d6_8f52, 0x3949_b396, 0x3bed_634a, 0x3a03_01a8, 0x30a4_e097, 0x3aae_10fd],
        ]
        let optimizer = AdamW(
            parameters: [("w", w), ("b", b)], weightDecay: 0.1,
            learningRateScale: { $0 == "b" ? 0.4 : 1 },
            excludeFromWeightDecay: { $0 == "b" })
        for step in 0..<3 {
            w.grad = Tensor(shape: [6], values: gradsW[step])
            b.grad = Tensor(shape: [2], values: gradsB[step])
            optimizer.step(learningRate: lrs[step])
            let v = optimizer.stateTensors().first { $0.name == "w.exp_avg_sq" }!.tensor.array
            for (actual, expected, label) in [
                (w.array, floats(torchW[step]), "w"), (b.array, floats(torchB[step]), "b"),
                (v, floats(torchExpAvgSq[step]), "w.exp_avg_sq"),
            ] {
                for i in 0..<actual.count {
                    // 46 of these 48 values match torch bitwise; the other two differ by 1 ulp (torch uses FMA).
                    XCTAssertEqual(
                        actual[i], expected[i], accuracy: 2 * expected[i].ulp + 1e-30,
                        "\(label)[\(i)] after step \(step + 1)")
                }
            }
        }
    }

    func testWeightDecayIsDecoupledFromGradient() {
        // A zero gradient leaves both moments at zero, so only the decay moves the parameter:
        // p = p * (1 - lr * wd) = 2 * (1 - 0.1 * 0.5) = 1.9, then 1.805 after a second step.
        let p = Tensor(shape: [2], values: [2, -4], requiresGrad: true)
        let untouched = Tensor(shape: [2], values: [3, 3], requiresGrad: true)
        let optimizer = AdamW(parameters: [("p", p), ("no_grad", untouched)], weightDecay: 0.5)
        for _ in 0..<2 {
            p.grad = Tensor(zeros: [2])
            optimizer.step(learningRate: 0.1)
        }
        XCTAssertEqual(Double(p.array[0]), 1.805, accuracy: 1e-6)
        XCTAssertEqual(Double(p.array[1]), -3.61, accuracy: 1e-6)
        XCTAssertEqual(untouched.array, [3, 3], "a trainable parameter without a gradient is skipped")
        XCTAssertEqual(optimizer.stepCount(of: "no_grad"), 0)
        XCTAssertEqual(optimizer.stepCount(of: "p"), 2)
    }

    func testFrozenParameterIsUntouchedAndHasNoState() {
        let trainable = Tensor(shape: [3], values: [1, 2, 3], requiresGrad: true)
        let frozen = Tensor(shape: [3], values: [4, 5, 6], requiresGrad: false)
        frozen.grad = Tensor(shape: [3], values: [1, 1, 1])  // even a stray gradient must not be used
        let optimizer = AdamW(parameters: [("frozen", frozen), ("trainable", trainable)], weightDecay: 0.1)
        XCTAssertEqual(optimizer.trainableNames, ["trainable"])
        XCTAssertNil(optimizer.stepCount(of: "frozen"))
        XCTAssertEqual(
            optimizer.stateTensors().map(\.name),
            ["trainable.exp_avg", "trainable.exp_avg_sq", "trainable.step"])
        trainable.grad = Tensor(shape: [3], values: [1, -1, 1])
        optimizer.step(learningRate: 0.1)
        optimizer.zeroGrad()
        XCTAssertEqual(frozen.array, [4, 5, 6])
        XCTAssertNotNil(frozen.grad, "zeroGrad touches only the trainable parameters")
        XCTAssertNotEqual(trainable.array, [1, 2, 3])
    }

    func testSavedStateResumesBitIdentically() throws {
        var rng = TestRandom(31)
        let shapes = [[4, 5], [7], [40_000]]  // the last one takes the parallel path
        func makeParameters() -> [(name: String, tensor: Tensor)] {
            var r = TestRandom(5)
            return shapes.enumerated().map { ("p\($0.offset)", r.tensor($0.element)) }
        }
        let grads = (0..<5).map { _ in shapes.map { rng.tensor($0, requiresGrad: false) } }
        let schedule = LearningRateSchedule.cosineWithWarmup(peak: 1e-2, totalSteps: 5, warmupSteps: 1)
        func run(_ optimizer: AdamW, _ parameters: [(name: String, tensor: Tensor)], steps: Range<Int>) {
            for s in steps {
                for (i, p) in parameters.enumerated() { p.tensor.grad = grads[s][i].detached() }
                optimizer.step(learningRate: schedule.learningRate(atStep: s))
                optimizer.zeroGrad()
            }
        }
        let straight = makeParameters()
        let straightOptimizer = AdamW(parameters: straight, weightDecay: 0.01)
        run(straightOptimizer, straight, steps: 0..<5)

        let first = makeParameters()
        let firstOptimizer = AdamW(parameters: first, weightDecay: 0.01)
        run(firstOptimizer, first, steps: 0..<3)
        let saved = firstOptimizer.stateTensors()
        let resumed = first.map {
            (
                name: $0.name,
                tensor: Tensor(
                    shape: $0.tensor.shape, values: $0.tensor.array,
                    requiresGrad: true)
            )
        }
        let resumedOptimizer = AdamW(parameters: resumed, weightDecay: 0.01)
        try resumedOptimizer.loadState(saved)
        XCTAssertEqual(resumedOptimizer.stepCount(of: "p2"), 3)
        run(resumedOptimizer, resumed, steps: 3..<5)
        for (a, b) in zip(straight, resumed) {
            XCTAssertEqual(a.tensor.array.map(\.bitPattern), b.tensor.array.map(\.bitPattern), a.name)
        }
    }

    func testLoadStateRejectsMismatchedState() {
        let p = Tensor(shape: [2], values: [1, 2], requiresGrad: true)
        let optimizer = AdamW(parameters: [("p", p)])
        var state = optimizer.stateTensors()
        state.removeLast()
        XCTAssertThrowsError(try optimizer.loadState(state)) {
            XCTAssertTrue("\($0)".contains("missing 'p.step'"), "\($0)")
        }
        let wrongShape: [(name: String, tensor: Tensor)] = [
            ("p.exp_avg", Tensor(zeros: [3])), ("p.exp_avg_sq", Tensor(zeros: [2])), ("p.step", Tensor(scalar: 1)),
        ]
        XCTAssertThrowsError(try optimizer.loadState(wrongShape)) {
            XCTAssertTrue("\($0)".contains("'p.exp_avg' has shape [3], expected [2]"), "\($0)")
        }
        let extra = optimizer.stateTensors() + [("q.exp_avg", Tensor(zeros: [2]))]
        XCTAssertThrowsError(try optimizer.loadState(extra)) {
            XCTAssertTrue("\($0)".contains("unexpected tensors 'q.exp_avg'"), "\($0)")
        }
    }

    func testLearningRateScaleAndThreadCountIndependence() {
        // One large parameter (parallel path) scaled by 0.4 must equal the reference at lr * 0.4, and give
        // the same bits on 1 and 2 threads.
        var rng = TestRandom(41)
        let start = rng.tensor([70_001], requiresGrad: false).array
        let grad = rng.tensor([70_001], requiresGrad: false).array
        let savedThreads = Parallel.threads
        defer { Parallel.threads = savedThreads }
        var results: [[Float]] = []
        for threads in [1, 2] {
            Parallel.threads = threads
            let p = Tensor(shape: [70_001], values: start, requiresGrad: true)
            let optimizer = AdamW(
                parameters: [("vision_tower.w", p)], weightDecay: 0.1,
                learningRateScale: { $0.hasPrefix("vision_tower.") ? 0.4 : 1 })
            for _ in 0..<2 {
                p.grad = Tensor(shape: [70_001], values: grad)
                optimizer.step(learningRate: 5e-3)
            }
            results.append(p.array)
        }
        XCTAssertEqual(results[0].map(\.bitPattern), results[1].map(\.bitPattern))
        var reference = ReferenceAdamW(weightDecay: 0.1)
        var expected = start.map(Double.init)
        for _ in 0..<2 { reference.step(&expected, grad: grad.map(Double.init), lr: 5e-3 * 0.4) }
        var worst = 0.0
        for i in 0..<expected.count { worst = max(worst, abs(Double(results[0][i]) - expected[i])) }
        XCTAssertLessThan(worst, 1e-6)
    }
}

final class LearningRateScheduleTests: XCTestCase {
    func testCosineWithWarmupAtKeySteps() {
        // 103 steps, 3% warmup: ceil(103 * 0.03) = ceil(3.09) = 4 warmup steps, then 99 cosine steps.
        let s = LearningRateSchedule.cosineWithWarmup(peak: 1e-3, totalSteps: 103, warmupFraction: 0.03)
        XCTAssertEqual(s.warmupSteps, 4)
        XCTAssertEqual(s.learningRate(atStep: 0), 0)  // HF: the first update uses 0
        XCTAssertEqual(s.learningRate(atStep: 1), 1e-3 / 4, accuracy: 1e-18)
        XCTAssertEqual(s.learningRate(atStep: 3), 3e-3 / 4, accuracy: 1e-18)
        XCTAssertEqual(s.learningRate(atStep: 4), 1e-3, accuracy: 1e-18)  // end of warmup: the peak
        // Middle of the cosine: progress (53.5 - 4) / 99 = 0.5 sits between steps 53 and 54; use an even span.
        let even = LearningRateSchedule.cosineWithWarmup(peak: 1e-3, totalSteps: 104, warmupSteps: 4)
        XCTAssertEqual(even.learningRate(atStep: 54), 5e-4, accuracy: 1e-15)  // 0.5 * (1 + cos(pi/2))
        // A quarter in: 0.5 * (1 + cos(pi/4)) = 0.853553...
        XCTAssertEqual(even.learningRate(atStep: 29), 1e-3 * 0.5 * (1 + 0.5.squareRoot()), accuracy: 1e-15)
        XCTAssertEqual(even.learningRate(atStep: 104), 0, accuracy: 1e-18)  // the end
        XCTAssertEqual(even.learningRate(atStep: 103), 1e-3 * 0.5 * (1 + cos(Double.pi * 99 / 100)), accuracy: 1e-18)
        XCTAssertEqual(even.learningRate(atStep: 500), 0, accuracy: 1e-18, "past the end stays at the end")
        XCTAssertEqual(LearningRateSchedule.warmupSteps(totalSteps: 100, fraction: 0.03), 3)
        XCTAssertEqual(LearningRateSchedule.warmupSteps(totalSteps: 37, fraction: 0.03), 2)
    }

    func testCosineWithMinimumAndConstant() {
        let s = LearningRateSchedule.cosineWithWarmup(peak: 1e-3, totalSteps: 12, warmupSteps: 2, minimum: 1e-4)
        XCTAssertEqual(s.learningRate(atStep: 1), 5e-4, accuracy: 1e-18)  // warmup ramps from 0, not min
        XCTAssertEqual(s.learningRate(atStep: 2), 1e-3, accuracy: 1e-18)
        XCTAssertEqual(s.learningRate(atStep: 7), 5.5e-4, accuracy: 1e-15)  // (peak + min) / 2
        XCTAssertEqual(s.learningRate(atStep: 12), 1e-4, accuracy: 1e-15)
        let c = LearningRateSchedule.constant(2e-5)
        XCTAssertEqual(c.learningRate(atStep: 0), 2e-5)
        XCTAssertEqual(c.learningRate(atStep: 10_000), 2e-5)
        let cw = LearningRateSchedule.constant(2e-5, warmupSteps: 4)
        XCTAssertEqual(cw.learningRate(atStep: 2), 1e-5, accuracy: 1e-18)
        XCTAssertEqual(cw.learningRate(atStep: 4), 2e-5)
        let decoded = try? JSONDecoder().decode(LearningRateSchedule.self, from: JSONEncoder().encode(s))
        XCTAssertEqual(decoded, s)
    }
}

final class GradientClippingTests: XCTestCase {
    func testClipsToMaxNormAndReturnsPreClipNorm() {
        // Gradients (3, 4) and (12): global norm sqrt(9 + 16 + 144) = 13.
        let a = Tensor(shape: [2], values: [0, 0], requiresGrad: true)
        let b = Tensor(shape: [1], values: [0], requiresGrad: true)
        let noGrad = Tensor(shape: [1], values: [0], requiresGrad: true)
        a.grad = Tensor(shape: [2], values: [3, 4])
        b.grad = Tensor(shape: [1], values: [12])
        XCTAssertEqual(clipGradNorm([a, b, noGrad], maxNorm: 20), 13)
        XCTAssertEqual(a.grad!.array, [3, 4], "below maxNorm: unchanged")
        XCTAssertEqual(clipGradNorm([a, b, noGrad], maxNorm: 6.5), 13)
        let scale = 6.5 / (13 + 1e-6)
        XCTAssertEqual(Double(a.grad!.array[0]), 3 * scale, accuracy: 1e-6)
        XCTAssertEqual(Double(a.grad!.array[1]), 4 * scale, accuracy: 1e-6)
        XCTAssertEqual(Double(b.grad!.array[0]), 12 * scale, accuracy: 1e-6)
        XCTAssertEqual(Double(clipGradNorm([a, b], maxNorm: 100)), 6.5, accuracy: 1e-5, "norm after clipping")
        XCTAssertNil(noGrad.grad)
    }

    /// Clipping inside AdamW's read (`clipFactor` + `step(gradientScale:)`) gives the bits of clipping in place.
    func testClipFactorInsideTheStepMatchesClippingInPlaceBitForBit() {
        for maxNorm: Float in [0.05, 1e6] {
            var rng = TestRandom(52)
            let p1 = [rng.tensor([70_001]), rng.tensor([33])]
            let p2 = p1.map { Tensor(shape: $0.shape, values: $0.array, requiresGrad: true) }
            let grads = [rng.tensor([70_001]), rng.tensor([33])]
            let named = { (ps: [Tensor]) in ps.enumerated().map { (name: "p\($0.offset)", tensor: $0.element) } }
            let inPlace = AdamW(parameters: named(p1), weightDecay: 0.01)
            let fused = AdamW(parameters: named(p2), weightDecay: 0.01)
            for step in 0..<3 {
                for (p, g) in zip(p1, grads) {
                    p.grad = Tensor(shape: g.shape, values: g.array.map { $0 * Float(step + 1) })
                }
                for (p, g) in zip(p2, grads) {
                    p.grad = Tensor(shape: g.shape, values: g.array.map { $0 * Float(step + 1) })
                }
                let norm = inPlace.clipGradNorm(maxNorm: maxNorm)
                inPlace.step(learningRate: 1e-2)
                let (fusedNorm, scale) = fused.clipFactor(maxNorm: maxNorm)
                XCTAssertEqual(norm, fusedNorm)
                XCTAssertEqual(scale == 1, maxNorm > 1000)
                fused.step(learningRate: 1e-2, gradientScale: scale)
            }
            for (a, b) in zip(p1, p2) { XCTAssertEqual(a.array.map(\.bitPattern), b.array.map(\.bitPattern)) }
        }
    }

    func testNonFiniteNormIsReportedAndGradientsKept() {
        let a = Tensor(shape: [3], values: [0, 0, 0], requiresGrad: true)
        a.grad = Tensor(shape: [3], values: [1, .nan, 2])
        XCTAssertTrue(clipGradNorm([a], maxNorm: 1).isNaN)
        XCTAssertEqual(a.grad!.array[0], 1)
        a.grad = Tensor(shape: [3], values: [1, .infinity, 2])
        XCTAssertEqual(clipGradNorm([("a", a)], maxNorm: 1), .infinity)
        XCTAssertEqual(a.grad!.array[2], 2)
    }

    func testLargeNormMatchesDoubleReferenceOnAnyThreadCount() {
        var rng = TestRandom(51)
        let tensors = [rng.tensor([100_003]), rng.tensor([17]), rng.tensor([50_000])]
        for t in tensors { t.grad = t.detached() }
        var reference = 0.0
        for t in tensors { for x in t.array { reference += Double(x) * Double(x) } }
        let savedThreads = Parallel.threads
        defer { Parallel.threads = savedThreads }
        var norms: [Double] = []
        for threads in [1, 2, 3] {
            Parallel.threads = threads
            norms.append(globalGradientNorm(tensors.map { $0.grad! }))
        }
        XCTAssertEqual(norms[0].bitPattern, norms[1].bitPattern)
        XCTAssertEqual(norms[0].bitPattern, norms[2].bitPattern)
        XCTAssertEqual(norms[0], reference.squareRoot(), accuracy: 1e-9 * reference.squareRoot())
    }
}
