import Foundation

/// AdamW with decoupled weight decay, following `torch.optim.AdamW` (amsgrad off, maximize off).
///
/// For each trainable parameter `p` with gradient `g`, one `step(learningRate:)` does, with `lr` the step's
/// learning rate times the parameter's scale and `t` that parameter's own step count (counted from 1):
///
///     p  = p * (1 - lr * weightDecay)                  // decoupled decay, skipped when weightDecay == 0
///     m  = m + (1 - beta1) * (g - m)                   // = beta1 * m + (1 - beta1) * g  (torch's lerp_)
///     v  = v * beta2 + ((1 - beta2) * g) * g           // torch's mul_ then addcmul_
///     p  = p + (-lr / (1 - beta1^t)) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
///
/// which is `p -= lr * mhat / (sqrt(vhat) + eps)` with the bias-corrected moments, evaluated in torch's
/// operation order: per-step scalars are computed in Double (as Python floats are) and rounded to Float
/// once; the per-element work is Float. A parameter whose `requiresGrad` is false at construction is frozen:
/// it gets no state and is never read or written. A trainable parameter without a gradient at a step is
/// skipped and its step count does not advance (as in torch).
///
/// The set of parameters is fixed at construction; build a new optimizer when it changes (e.g. per stage).
///
/// Speed: the update is one pass over parameter, gradient and moments, split over threads for large
/// tensors (each element is independent, so results do not depend on the thread count). On Linux, Swift
/// lowers the scalar `Float.squareRoot()` to libm's errno-setting `sqrtf`, which keeps a loop scalar, so
/// the loop runs on `SIMD16` lanes whose `squareRoot()` is the vector instruction (bit-identical results).
///
///     let optimizer = AdamW(parameters: model.namedParameters, weightDecay: 0,
///                           learningRateScale: { $0.hasPrefix("vision_tower.") ? 0.4 : 1 })
///     loss.backward()
///     let norm = optimizer.clipGradNorm(maxNorm: 1)
///     optimizer.step(learningRate: schedule.learningRate(atStep: step))
///     optimizer.zeroGrad()
public final class AdamW {
    /// Hyperparameters shared by every parameter, as in torch (Double, like Python floats).
    public let beta1: Double
    public let beta2: Double
    public let epsilon: Double
    public let weightDecay: Double

    /// One trainable parameter and its state.
    final class Slot {
        let name: String
        let tensor: Tensor
        /// Multiplies the step's learning rate for this parameter (a parameter group's lr).
        let learningRateScale: Double
        /// The weight decay for this parameter (0 when exempt).
        let weightDecay: Double
        /// First and second moments (`exp_avg`, `exp_avg_sq`), same shape as the parameter.
        let firstMoment: Tensor
        let secondMoment: Tensor
        /// Steps applied to this parameter (torch's per-parameter `state["step"]`).
        var step: Int = 0

        init(name: String, tensor: Tensor, learningRateScale: Double, weightDecay: Double) {
            self.name = name
            self.tensor = tensor
            self.learningRateScale = learningRateScale
            self.weightDecay = weightDecay
            firstMoment = Tensor(zeros: tensor.shape)
            secondMoment = Tensor(zeros: tensor.shape)
        }
    }

    let slots: [Slot]
    private let slotIndex: [String: Int]

    /// Creates the optimizer over named parameters. State is allocated only for those whose `requiresGrad`
    /// is true now; frozen ones are ignored for the optimizer's whole life.
    /// - Parameters:
    ///   - parameters: the model's parameters with their (unique) names, e.g. HF-style dotted names.
    ///   - beta1, beta2, epsilon: torch defaults 0.9, 0.999, 1e-8.
    ///   - weightDecay: decoupled weight decay; torch's default is 0.01 (the study uses 0).
    ///   - learningRateScale: per-parameter multiplier of the step's learning rate (a parameter group's
    ///     learning rate relative to the base one); `nil` means 1 for all. A dictionary works as
    ///     `{ scales[$0] ?? 1 }`.
    ///   - excludeFromWeightDecay: parameters that get no weight decay (HF Trainer exempts biases and norm
    ///     weights); `nil` means none is exempt.
    public init(
        parameters: [(name: String, tensor: Tensor)],
        beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8, weightDecay: Double = 0.01,
        learningRateScale: ((String) -> Double)? = nil,
        excludeFromWeightDecay: ((String) -> Bool)? = nil
    ) {
        precondition(beta1 >= 0 && beta1 < 1, "AdamW: beta1 must be in [0, 1), got \(beta1)")
        precondition(beta2 >= 0 && beta2 < 1, "AdamW: beta2 must be in [0, 1), got \(beta2)")
        precondition(epsilon >= 0, "AdamW: epsilon must be non-negative, got \(epsilon)")
        precondition(weightDecay >= 0, "AdamW: weightDecay must be non-negative, got \(weightDecay)")
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay

        var seenNames = Set<String>()
        var seenTensors = Set<ObjectIdentifier>()
        var slots: [Slot] = []
        for (name, tensor) in parameters {
            precondition(seenNames.insert(name).inserted, "AdamW: parameter name '\(name)' appears twice")
            precondition(
                seenTensors.insert(ObjectIdentifier(tensor)).inserted,
                "AdamW: parameter '\(name)' is the same tensor as an earlier parameter")
            guard tensor.requiresGrad else { continue }
            let scale = learningRateScale?(name) ?? 1
            precondition(
                scale >= 0 && scale.isFinite,
                "AdamW: learning-rate scale for '\(name)' must be finite and >= 0, got \(scale)")
            let exempt = excludeFromWeightDecay?(name) ?? false
            slots.append(
                Slot(
                    name: name, tensor: tensor, learningRateScale: scale,
                    weightDecay: exempt ? 0 : weightDecay))
        }
        self.slots = slots
        var index: [String: Int] = [:]
        for (i, slot) in slots.enumerated() { index[slot.name] = i }
        slotIndex = index
    }

    /// Names of the parameters this optimizer updates, in the order given at construction.
    public var trainableNames: [String] { slots.map(\.name) }

    /// The trainable parameters, in the order given at construction.
    public var trainableParameters: [(name: String, tensor: Tensor)] { slots.map { ($0.name, $0.tensor) } }

    /// How many steps have been applied to the named parameter (nil if it is frozen or unknown).
    public func stepCount(of name: String) -> Int? { slotIndex[name].map { slots[$0].step } }

    /// Elements per parallel chunk: below this a parameter is updated on one thread.
    static let minimumElementsPerChunk = 1 << 15

    /// Applies one update with base learning rate `learningRate` to every trainable parameter that has a
    /// gradient. Gradients are left in place; call `zeroGrad()` before the next backward pass.
    ///
    /// `gradientScale` multiplies each gradient element as the update reads it (the clipping factor from
    /// `clipFactor(maxNorm:)`): the same bits as scaling the gradients in place first (`clipGradNorm`), without
    /// a pass that reads and writes every gradient. The gradients themselves are left unscaled.
    public func step(learningRate: Double, gradientScale: Float = 1) {
        precondition(gradientScale.isFinite, "AdamW.step: gradientScale must be finite, got \(gradientScale)")
        precondition(
            learningRate >= 0 && learningRate.isFinite,
            "AdamW.step: learning rate must be finite and >= 0, got \(learningRate)")
        for slot in slots {
            guard let grad = slot.tensor.grad else { continue }
            precondition(
                grad.count == slot.tensor.count,
                "AdamW.step: gradient of '\(slot.name)' has shape \(grad.shape), parameter \(slot.tensor.shape)")
            slot.step += 1
            update(slot, gradient: grad.data, scale: gradientScale, learningRate: learningRate * slot.learningRateScale)
        }
    }

    /// The fused per-parameter update: one pass over parameter, gradient and both moments.
    private func update(_ slot: Slot, gradient: UnsafeMutablePointer<Float>, scale: Float, learningRate lr: Double) {
        let t = Double(slot.step)
        // Scalars as torch computes them in Python (Double), each rounded to Float once by the kernels.
        // Without weight decay the factor is exactly 1 and multiplying by it changes no bit, which keeps the
        // loop branch-free (torch skips the multiplication instead).
        let decayFactor = Float(1 - lr * slot.weightDecay)
        let momentumWeight = Float(1 - beta1)
        let beta2f = Float(beta2)
        let squareWeight = Float(1 - beta2)
        let biasCorrection1 = 1 - pow(beta1, t)
        let biasCorrection2 = 1 - pow(beta2, t)
        let negativeStepSize = Float(-(lr / biasCorrection1))
        let biasCorrection2Sqrt = Float(biasCorrection2.squareRoot())
        let eps = Float(epsilon)

        let p = slot.tensor.data
        let g = gradient
        let m = slot.firstMoment.data
        let v = slot.secondMoment.data
        Parallel.forRanges(slot.tensor.count, minimumPerChunk: AdamW.minimumElementsPerChunk) { range in
            // SIMD lanes first: `SIMD16.squareRoot()` is LLVM's sqrt intrinsic (no errno), so this part
            // vectorizes without compiler flags; IEEE sqrt and division are exact, so lanes and the scalar
            // tail give the same bits.
            typealias V = SIMD16<Float>
            var i = range.lowerBound
            let decayV = V(repeating: decayFactor)
            let mwV = V(repeating: momentumWeight)
            let b2V = V(repeating: beta2f)
            let swV = V(repeating: squareWeight)
            let bcV = V(repeating: biasCorrection2Sqrt)
            let epsV = V(repeating: eps)
            let stepV = V(repeating: negativeStepSize)
            let scaleV = V(repeating: scale)  // x * 1 is x: no branch for the unclipped case
            while i + V.scalarCount <= range.upperBound {
                let gi = UnsafeRawPointer(g + i).loadUnaligned(as: V.self) * scaleV
                let pOld = UnsafeRawPointer(p + i).loadUnaligned(as: V.self)
                let mOld = UnsafeRawPointer(m + i).loadUnaligned(as: V.self)
                let vOld = UnsafeRawPointer(v + i).loadUnaligned(as: V.self)
                let pi = pOld * decayV
                let mi = mOld + mwV * (gi - mOld)
                let vi = vOld * b2V + swV * gi * gi
                let denominator = vi.squareRoot() / bcV + epsV
                UnsafeMutableRawPointer(p + i).storeBytes(of: pi + stepV * mi / denominator, as: V.self)
                UnsafeMutableRawPointer(m + i).storeBytes(of: mi, as: V.self)
                UnsafeMutableRawPointer(v + i).storeBytes(of: vi, as: V.self)
                i += V.scalarCount
            }
            for i in i..<range.upperBound {
                let gi = g[i] * scale
                let pi = p[i] * decayFactor
                let mi = m[i] + momentumWeight * (gi - m[i])
                let vi = v[i] * beta2f + squareWeight * gi * gi
                let denominator = vi.squareRoot() / biasCorrection2Sqrt + eps
                p[i] = pi + negativeStepSize * mi / denominator
                m[i] = mi
                v[i] = vi
            }
        }
    }

    /// Drops the gradients of the trainable parameters (torch's `zero_grad(set_to_none=True)`).
    public func zeroGrad() {
        for slot in slots { slot.tensor.zeroGrad() }
    }

    /// The global L2 norm of the trainable parameters' gradients and the factor `clipGradNorm(maxNorm:)` would
    /// multiply them by (1 when it would not clip, or when the norm is not finite), without touching them: give
    /// the factor to `step(learningRate:gradientScale:)`.
    public func clipFactor(maxNorm: Float) -> (norm: Float, scale: Float) {
        precondition(
            maxNorm > 0 && maxNorm.isFinite, "AdamW.clipFactor: maxNorm must be finite and > 0, got \(maxNorm)")
        let norm = globalGradientNorm(slots.compactMap(\.tensor.grad))
        guard norm.isFinite else { return (Float(norm), 1) }
        let coefficient = Double(maxNorm) / (norm + 1e-6)  // as clipGradNorm and torch compute it
        return (Float(norm), coefficient < 1 ? Float(coefficient) : 1)
    }

    /// Clips the global L2 norm of the trainable parameters' gradients; see `clipGradNorm(_:maxNorm:)`.
    @discardableResult
    public func clipGradNorm(maxNorm: Float) -> Float {
        Kernel.clipGradNorm(slots.map(\.tensor), maxNorm: maxNorm)
    }
}

// MARK: - State for checkpoints

/// A problem with optimizer state being loaded.
public struct OptimizerStateError: Error, CustomStringConvertible, LocalizedError {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { "optimizer state: \(message)" }
    public var errorDescription: String? { description }
}

extension AdamW {
    /// Suffixes of the state tensors of one parameter, torch's state keys.
    public static let firstMomentSuffix = ".exp_avg"
    public static let secondMomentSuffix = ".exp_avg_sq"
    public static let stepSuffix = ".step"

    /// The optimizer state as named tensors (copies), for writing to a checkpoint: for every trainable
    /// parameter `<name>.exp_avg` and `<name>.exp_avg_sq` (its shape) and `<name>.step` (a scalar holding
    /// the step count, exact up to 2^24 steps; shape [1] is also accepted on load). Loading them with
    /// `loadState` into an optimizer built over the same trainable parameters makes it continue
    /// bit-identically.
    public func stateTensors() -> [(name: String, tensor: Tensor)] {
        var out: [(name: String, tensor: Tensor)] = []
        out.reserveCapacity(slots.count * 3)
        for slot in slots {
            out.append((slot.name + AdamW.firstMomentSuffix, slot.firstMoment.detached()))
            out.append((slot.name + AdamW.secondMomentSuffix, slot.secondMoment.detached()))
            out.append((slot.name + AdamW.stepSuffix, Tensor(scalar: Float(slot.step))))
        }
        return out
    }

    /// Restores state written by `stateTensors()`. Every trainable parameter's three tensors must be present
    /// with the right shapes and no other tensor may be; nothing is changed when an error is thrown.
    public func loadState(_ tensors: [(name: String, tensor: Tensor)]) throws {
        var byName: [String: Tensor] = [:]
        for (name, tensor) in tensors {
            guard byName.updateValue(tensor, forKey: name) == nil else {
                throw OptimizerStateError("tensor '\(name)' appears twice")
            }
        }
        try loadState(byName)
    }

    /// Restores state from tensors keyed by name; see `loadState(_:)` for the list form.
    public func loadState(_ tensors: [String: Tensor]) throws {
        var remaining = tensors
        var updates: [(slot: Slot, m: Tensor, v: Tensor, step: Int)] = []
        for slot in slots {
            func take(_ suffix: String, shape: [Int], alternativeShape: [Int]? = nil) throws -> Tensor {
                let key = slot.name + suffix
                guard let t = remaining.removeValue(forKey: key) else {
                    throw OptimizerStateError("missing '\(key)' for trainable parameter '\(slot.name)'")
                }
                guard t.shape == shape || t.shape == alternativeShape else {
                    throw OptimizerStateError("'\(key)' has shape \(t.shape), expected \(shape)")
                }
                return t
            }
            let m = try take(AdamW.firstMomentSuffix, shape: slot.tensor.shape)
            let v = try take(AdamW.secondMomentSuffix, shape: slot.tensor.shape)
            let s = try take(AdamW.stepSuffix, shape: [], alternativeShape: [1])
            let stepValue = s.item
            guard stepValue >= 0, stepValue == stepValue.rounded(), stepValue < 16_777_216 else {
                throw OptimizerStateError(
                    "'\(slot.name + AdamW.stepSuffix)' is \(stepValue), expected a whole number of steps")
            }
            updates.append((slot, m, v, Int(stepValue)))
        }
        if !remaining.isEmpty {
            let extra = remaining.keys.sorted()
            throw OptimizerStateError(
                "unexpected tensors \(extra.prefix(5).map { "'\($0)'" }.joined(separator: ", "))"
                    + (extra.count > 5 ? " and \(extra.count - 5) more" : "")
                    + " (frozen or unknown parameters?)")
        }
        for u in updates {
            u.slot.firstMoment.data.update(from: u.m.data, count: u.m.count)
            u.slot.secondMoment.data.update(from: u.v.data, count: u.v.count)
            u.slot.step = u.step
        }
    }
}
