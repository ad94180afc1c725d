/// Finite-difference checking of backward passes, for our own ops and for users writing their own.
///
/// The function under test maps tensors to one tensor `y`. The check reduces it to a scalar
/// `L = sum(y * r)` with a fixed random `r`, so every output element's gradient is exercised, then
/// compares autograd's dL/dx with central differences `(L(x + h) - L(x - h)) / 2h` evaluated in Double.
public enum GradientCheck {
    public struct Result: CustomStringConvertible {
        /// Largest |analytic - numeric| over all checked elements.
        public var maxAbsoluteError: Double = 0
        /// Largest |analytic - numeric| / max(|numeric|, |analytic|, 1e-3).
        public var maxRelativeError: Double = 0
        /// Where the worst element is: input index and flat element index.
        public var worst: (input: Int, element: Int, analytic: Double, numeric: Double) = (0, 0, 0, 0)
        public var checkedElements = 0
        public var description: String {
            "GradientCheck: max abs error \(maxAbsoluteError), max rel error \(maxRelativeError) over "
                + "\(checkedElements) elements; worst input \(worst.input)[\(worst.element)] "
                + "analytic \(worst.analytic) numeric \(worst.numeric)"
        }
        /// True when every element satisfies |a - n| <= absoluteTolerance + relativeTolerance * |n|.
        public var passed = true
    }

    /// Checks d(sum(f(inputs) * r))/d(input) for every input that `requiresGrad`.
    /// - Parameters:
    ///   - step: the finite-difference step h.
    ///   - maxElementsPerInput: checks at most this many elements of each input (spread evenly).
    public static func check(
        _ inputs: [Tensor], step: Float = 1e-2,
        absoluteTolerance: Double = 1e-3, relativeTolerance: Double = 1e-2,
        maxElementsPerInput: Int = 64, seed: UInt64 = 1234,
        _ f: ([Tensor]) -> Tensor
    ) -> Result {
        // Fixed projection r in [-1, 1], from a tiny local generator so this file needs nothing else.
        var state = seed | 1
        func nextUniform() -> Float {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return Float(state >> 40) / Float(1 << 24) * 2 - 1
        }
        for t in inputs { t.grad = nil }
        let y0 = f(inputs)
        let r = (0..<y0.count).map { _ in nextUniform() }
        func projected(_ y: Tensor) -> Double {
            var s = 0.0
            for i in 0..<y.count { s += Double(y.data[i]) * Double(r[i]) }
            return s
        }
        // loss = sum(y0 * r), recorded directly so the check depends on no op it might be testing.
        let loss = Tensor(scalar: Float(projected(y0)))
        Autograd.record(loss, inputs: [y0], op: "gradcheck.projection") { dL in
            let g = y0.gradStorage()
            for i in 0..<y0.count { g[i] += dL[0] * r[i] }
        }
        loss.backward()

        var result = Result()
        Autograd.withNoGrad {
            for (ii, x) in inputs.enumerated() where x.requiresGrad {
                let analytic = x.grad?.array ?? [Float](repeating: 0, count: x.count)
                let stride = max(1, x.count / maxElementsPerInput)
                for e in Swift.stride(from: 0, to: x.count, by: stride) {
                    let saved = x.data[e]
                    x.data[e] = saved + step
                    let plus = projected(f(inputs))
                    x.data[e] = saved - step
                    let minus = projected(f(inputs))
                    x.data[e] = saved
                    let numeric = (plus - minus) / (2 * Double(step))
                    let a = Double(analytic[e])
                    let err = abs(a - numeric)
                    let rel = err / max(abs(numeric), abs(a), 1e-3)
                    result.checkedElements += 1
                    if err > absoluteTolerance + relativeTolerance * abs(numeric) { result.passed = false }
                    if err > result.maxAbsoluteError {
                        result.maxAbsoluteError = err
                        result.worst = (ii, e, a, numeric)
                    }
                    result.maxRelativeError = max(result.maxRelativeError, rel)
                }
            }
        }
        for t in inputs { t.grad = nil }
        return result
    }
}
