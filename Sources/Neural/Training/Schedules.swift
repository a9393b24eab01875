import Foundation

/// A learning rate as a function of the step number (0-based).
public enum LearningRateSchedule: Sendable, Equatable {
    /// The same rate at every step.
    case constant(Double)
    /// Linear warm-up from 0 to `peak` over `warmupSteps` steps (step s gets peak·(s + 1)/warmupSteps), then `peak`.
    case linearWarmup(peak: Double, warmupSteps: Int)
    /// Linear warm-up as above, then cosine decay from `peak` to `minimum` at `totalSteps`:
    /// minimum + ½(peak − minimum)(1 + cos(π·progress)), progress = (s − warmup)/(total − warmup), clamped to 1.
    case cosine(peak: Double, totalSteps: Int, warmupSteps: Int = 0, minimum: Double = 0)

    /// The learning rate for `step`.
    public func learningRate(at step: Int) -> Double {
        switch self {
        case let .constant(lr): return lr
        case let .linearWarmup(peak, w):
            return w > 0 && step < w ? peak * Double(step + 1) / Double(w) : peak
        case let .cosine(peak, total, w, minimum):
            if w > 0 && step < w { return peak * Double(step + 1) / Double(w) }
            let span = Swift.max(1, total - w)
            let progress = Swift.min(1, Double(step - w) / Double(span))
            return minimum + 0.5 * (peak - minimum) * (1 + Foundation.cos(Double.pi * progress))
        }
    }
}
