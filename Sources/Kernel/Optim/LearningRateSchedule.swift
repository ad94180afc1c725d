import Foundation

/// The learning rate for each optimizer step: cosine decay after a linear warmup (the study's schedule), or
/// constant (optionally after a warmup). Values match HF transformers' `get_cosine_schedule_with_warmup`
/// (with `minimumLearningRate` > 0: `get_cosine_with_min_lr_schedule_with_warmup`) and
/// `get_constant_schedule(_with_warmup)`.
///
/// Steps count optimizer updates from 0: `learningRate(atStep: s)` is the rate of the (s+1)-th update, so
/// with a warmup the very first update uses rate 0, exactly as with HF's Trainer.
///
///     let schedule = LearningRateSchedule.cosineWithWarmup(peak: 5e-6, totalSteps: 1000, warmupFraction: 0.03)
///     for step in 0..<1000 { ...; optimizer.step(learningRate: schedule.learningRate(atStep: step)) }
public struct LearningRateSchedule: Codable, Equatable, Sendable {
    public enum Shape: String, Codable, Sendable {
        /// `peak * step / warmup` during warmup, then `min + (peak - min) * 0.5 * (1 + cos(pi * progress))`.
        case cosine
        /// `peak * step / warmup` during warmup, then `peak`.
        case constant
    }

    public var shape: Shape
    /// The rate at the end of warmup.
    public var peakLearningRate: Double
    /// The rate the cosine decays to at `totalSteps` (cosine only).
    public var minimumLearningRate: Double
    /// Updates spent ramping linearly from 0 to the peak.
    public var warmupSteps: Int
    /// Updates in the whole run (one epoch per stage in the study).
    public var totalSteps: Int

    public init(
        shape: Shape, peakLearningRate: Double, minimumLearningRate: Double = 0,
        warmupSteps: Int, totalSteps: Int
    ) {
        precondition(
            peakLearningRate >= 0 && peakLearningRate.isFinite,
            "LearningRateSchedule: peak learning rate must be finite and >= 0, got \(peakLearningRate)")
        precondition(
            minimumLearningRate >= 0 && minimumLearningRate <= peakLearningRate,
            "LearningRateSchedule: minimum learning rate \(minimumLearningRate) must be in 0...peak (\(peakLearningRate))"
        )
        precondition(warmupSteps >= 0, "LearningRateSchedule: warmupSteps must be >= 0, got \(warmupSteps)")
        precondition(totalSteps >= 1, "LearningRateSchedule: totalSteps must be >= 1, got \(totalSteps)")
        self.shape = shape
        self.peakLearningRate = peakLearningRate
        self.minimumLearningRate = minimumLearningRate
        self.warmupSteps = warmupSteps
        self.totalSteps = totalSteps
    }

    /// Cosine decay to `minimum` after `warmupSteps` of linear warmup.
    public static func cosineWithWarmup(
        peak: Double, totalSteps: Int, warmupSteps: Int,
        minimum: Double = 0
    ) -> LearningRateSchedule {
        LearningRateSchedule(
            shape: .cosine, peakLearningRate: peak, minimumLearningRate: minimum,
            warmupSteps: warmupSteps, totalSteps: totalSteps)
    }

    /// Cosine decay with a warmup of `ceil(totalSteps * warmupFraction)` steps (HF's `warmup_ratio`; the
    /// study uses 0.03).
    public static func cosineWithWarmup(
        peak: Double, totalSteps: Int, warmupFraction: Double = 0.03,
        minimum: Double = 0
    ) -> LearningRateSchedule {
        cosineWithWarmup(
            peak: peak, totalSteps: totalSteps,
            warmupSteps: warmupSteps(totalSteps: totalSteps, fraction: warmupFraction),
            minimum: minimum)
    }

    /// A constant rate, optionally after a linear warmup.
    public static func constant(_ learningRate: Double, warmupSteps: Int = 0, totalSteps: Int = 1)
        -> LearningRateSchedule
    {
        LearningRateSchedule(
            shape: .constant, peakLearningRate: learningRate, minimumLearningRate: 0,
            warmupSteps: warmupSteps, totalSteps: totalSteps)
    }

    /// HF's rule for a warmup given as a fraction: `ceil(totalSteps * fraction)`.
    public static func warmupSteps(totalSteps: Int, fraction: Double) -> Int {
        precondition(
            fraction >= 0 && fraction <= 1, "LearningRateSchedule: warmup fraction must be in 0...1, got \(fraction)")
        return Int((Double(totalSteps) * fraction).rounded(.up))
    }

    /// The learning rate of update number `step` (from 0). Steps at or past `totalSteps` get the final
    /// rate (HF would let the cosine rise again; a run never gets there).
    public func learningRate(atStep step: Int) -> Double {
        precondition(step >= 0, "LearningRateSchedule: step must be >= 0, got \(step)")
        if step < warmupSteps {
            return peakLearningRate * (Double(step) / Double(max(1, warmupSteps)))
        }
        switch shape {
        case .constant:
            return peakLearningRate
        case .cosine:
            guard peakLearningRate > 0 else { return 0 }
            let clamped = max(warmupSteps, min(step, totalSteps))
            let progress = Double(clamped - warmupSteps) / Double(max(1, totalSteps - warmupSteps))
            let cosine = 0.5 * (1.0 + cos(Double.pi * 0.5 * 2.0 * progress))
            let minimumRate = minimumLearningRate / peakLearningRate
            let factor = max(0, cosine * (1 - minimumRate) + minimumRate)
            return peakLearningRate * factor
        }
    }
}
