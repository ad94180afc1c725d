import Foundation
import Host
import Kernel

/// Times the fused neural-network ops of the Kernel at the shapes of the reference training step (Llama-style
/// decoder, batch 8, sequence 128, d_model 256, 4 heads of 64, vocabulary 512): `skilltune bench nn-ops`.
/// `examples/reference/nn_ops_bench_torch.py` times the PyTorch equivalents for comparison.
public enum NNOpsBenchmark {
    /// One line per op: median and best wall time over `repetitions` runs, after one warm-up run.
    public static func report(repetitions: Int = 30) -> String {
        let (b, t, heads, headDim, vocab) = (8, 128, 4, 64, 512)
        let d = heads * headDim
        var generator = RandomGenerator(seed: 1)
        func random(_ shape: [Int], scale: Float = 1, requiresGrad: Bool = true) -> Tensor {
            let n = Tensor.elementCount(shape)
            return Tensor(
                shape: shape, values: (0..<n).map { _ in generator.normal() * scale },
                requiresGrad: requiresGrad)
        }
        func forwardBackward(_ inputs: [Tensor], _ f: () -> Tensor) {
            for x in inputs { x.zeroGrad() }
            let y = f()
            if y.count == 1 { y.backward() } else { y.backward(seed: Tensor(filled: 1, shape: y.shape)) }
        }
        let x = random([b, t, d])
        let weight = random([d])
        let bias = random([d])
        let q = random([b, t, heads, headDim])
        let k = random([b, t, heads, headDim])
        let v = random([b, t, heads, headDim])
        let logits = random([b * t, vocab], scale: 3)
        let teacher = random([b * t, vocab], scale: 3, requiresGrad: false)
        let targets = (0..<(b * t)).map { Int32($0 % vocab) }
        let positions = Array(0..<t)
        let cases: [(String, () -> Void)] = [
            ("rmsNorm fwd+bwd [1024, 256]", { forwardBackward([x, weight]) { rmsNorm(x, weight: weight) } }),
            (
                "layerNorm fwd+bwd [1024, 256]",
                {
                    forwardBackward([x, weight, bias]) { layerNorm(x, weight: weight, bias: bias) }
                }
            ),
            (
                "applyRotary fwd+bwd [8, 128, 4, 64]",
                {
                    forwardBackward([q]) { applyRotary(q, positions: positions, theta: 10_000) }
                }
            ),
            ("attention causal fwd (no grad)", { _ = Autograd.withNoGrad { attention(q, k, v, causal: true) } }),
            ("attention causal fwd+bwd", { forwardBackward([q, k, v]) { attention(q, k, v, causal: true) } }),
            ("softmax fwd+bwd [1024, 512]", { forwardBackward([logits]) { softmax(logits) } }),
            (
                "crossEntropy fwd+bwd [1024, 512]",
                {
                    forwardBackward([logits]) { crossEntropy(logits, targets: targets) }
                }
            ),
            (
                "klDivergence T=2 fwd+bwd [1024, 512]",
                {
                    forwardBackward([logits]) { klDivergence(student: logits, teacher: teacher, temperature: 2) }
                }
            ),
        ]
        var lines = ["nn-ops benchmark, \(Parallel.threads) threads, milliseconds (median / best of \(repetitions))"]
        for (name, body) in cases {
            body()
            var times: [Double] = []
            for _ in 0..<repetitions {
                let start = DispatchTime.now().uptimeNanoseconds
                body()
                times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
            }
            times.sort()
            lines.append(
                name.padding(toLength: 40, withPad: " ", startingAt: 0)
                    + String(format: " %8.3f / %8.3f", times[times.count / 2], times[0]))
        }
        return lines.joined(separator: "\n")
    }
}
