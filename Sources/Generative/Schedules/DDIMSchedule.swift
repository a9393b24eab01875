import Foundation
import Linear

/// How DDIM picks its `n` timesteps out of the T training timesteps (the conventions of diffusers, after
/// Lin et al. 2024, "Common diffusion noise schedules and sample steps are flawed", Table 2).
public enum TimestepSpacing: String, Sendable, CaseIterable {
    /// t_i = i·⌊T/n⌋ + offset, i = n−1 … 0 (Song et al.'s "uniform" skip; the last step lands on `offset`).
    /// With T = 1000, n = 5, offset 1: [801, 601, 401, 201, 1].
    case leading
    /// t_i = round(T − i·T/n) − 1, i = 0 … n−1 (always starts at T − 1). T = 1000, n = 5: [999, 799, 599, 399, 199].
    case trailing
    /// round(linspace(0, T − 1, n)) reversed (starts at T − 1, ends at 0). T = 1000, n = 5: [999, 749, 500, 250, 0].
    case linspace

    /// Parses `leading`, `trailing` or `linspace`.
    public init(parsing name: String) throws {
        guard let s = TimestepSpacing(rawValue: name.lowercased()) else {
            throw ConfigurationError(field: "TimestepSpacing.name", reason: "unknown timestep spacing '\(name)': expected leading, trailing or linspace")
        }
        self = s
    }
}

/// The sampling timesteps and per-step variances of DDIM (Song, Meng & Ermon 2021) over a trained DDPM schedule.
///
/// One step goes from t to its predecessor p (the next entry of `timesteps`; after the last entry p = −1, whose
/// ᾱ is `finalAlphaBar`):
///
///     x_p = √ᾱ_p·x̂₀ + √(1 − ᾱ_p − σ_t²)·ε̂ + σ_t·z,
///     σ_t(η)² = η²·(1 − ᾱ_p)/(1 − ᾱ_t)·(1 − ᾱ_t/ᾱ_p)        (Song et al. 2021, eq. 16).
///
/// `variance(t, p)` is σ_t(1)², evaluated with ᾱ_p of the *previous sampling timestep* p (not of t − 1): this is
/// the convention that gives the published values variance(420, 400) = 0.14771 and variance(980, 960) = 0.32460 on
/// DDPM's linear schedule, and it equals DDPM's β̃_t when p = t − 1 (so η = 1 with every timestep is DDPM).
public struct DDIMSchedule: Sendable, Equatable {
    /// The training schedule.
    public let base: DiffusionSchedule
    /// The sampling timesteps, descending.
    public let timesteps: [Int]
    /// ᾱ after the last step: 1 (diffusers' `set_alpha_to_one`, the default) or the schedule's ᾱ₀.
    public let finalAlphaBar: Double

    /// DDIM's timesteps for `steps` sampling steps.
    /// - Parameters:
    ///   - spacing: see `TimestepSpacing` (default `.leading`, as in the DDIM paper and diffusers).
    ///   - offset: added to every timestep of `.leading` spacing (diffusers' `steps_offset`; Stable Diffusion uses 1).
    ///     As in diffusers it does not apply to `.trailing` and `.linspace`, which already end or start at T − 1.
    ///   - finalAlphaBar: ᾱ of the step after the last (default 1: the last step returns the x₀ estimate).
    /// - Throws: `ConfigurationError` (`DDIMSchedule.steps`, `.offset`, `.finalAlphaBar`) unless 1 ≤ steps ≤ T,
    ///   0 ≤ offset, every timestep is below T and 0 < final ᾱ ≤ 1.
    public init(_ base: DiffusionSchedule, steps: Int, spacing: TimestepSpacing = .leading, offset: Int = 0, finalAlphaBar: Double = 1) throws {
        self.base = base
        self.timesteps = try DDIMSchedule.timesteps(count: steps, trainingTimesteps: base.timesteps, spacing: spacing, offset: offset)
        guard finalAlphaBar > 0, finalAlphaBar <= 1 else {
            throw ConfigurationError(field: "DDIMSchedule.finalAlphaBar", reason: "DDIM: final ᾱ must be in (0, 1], got \(finalAlphaBar)")
        }
        self.finalAlphaBar = finalAlphaBar
    }

    /// The `count` sampling timesteps, descending, out of T = `trainingTimesteps` (see `TimestepSpacing`).
    public static func timesteps(count n: Int, trainingTimesteps T: Int, spacing: TimestepSpacing = .leading, offset: Int = 0) throws -> [Int] {
        guard n >= 1, n <= T else {
            throw ConfigurationError(field: "DDIMSchedule.steps", reason: "DDIM: the number of sampling steps must be in 1…\(T) (the training timesteps), got \(n)")
        }
        guard offset >= 0 else { throw ConfigurationError(field: "DDIMSchedule.offset", reason: "DDIM: the timestep offset must be ≥ 0, got \(offset)") }
        let ts: [Int]
        switch spacing {
        case .leading:
            let ratio = T / n
            ts = (0..<n).reversed().map { $0 * ratio + offset }
        case .trailing:
            let ratio = Double(T) / Double(n)
            ts = (0..<n).map { Int((Double(T) - Double($0) * ratio).rounded(.toNearestOrEven)) - 1 }
        case .linspace:
            ts = (0..<n).reversed().map { n == 1 ? 0 : Int((Double(T - 1) * Double($0) / Double(n - 1)).rounded(.toNearestOrEven)) }
        }
        if let bad = ts.first(where: { $0 >= T }) {
            throw ConfigurationError(field: "DDIMSchedule.offset", reason: "DDIM: timestep \(bad) (offset \(offset)) is not below the \(T) training timesteps")
        }
        return ts
    }

    /// Number of sampling steps.
    public var count: Int { timesteps.count }

    /// The predecessor of the step at `index` (the next sampling timestep), or −1 after the last.
    public func previous(ofIndex index: Int) -> Int { index + 1 < timesteps.count ? timesteps[index + 1] : -1 }

    /// ᾱ at timestep `t`, with ᾱ_{−1} = `finalAlphaBar`.
    public func alphaBar(_ t: Int) -> Double { t >= 0 ? base.alphaBars[t] : finalAlphaBar }

    /// σ_t(1)² = (1 − ᾱ_p)/(1 − ᾱ_t)·(1 − ᾱ_t/ᾱ_p) for a step from t to p (p = −1: past the end).
    public func variance(_ t: Int, _ p: Int) -> Double {
        let at = alphaBar(t), ap = alphaBar(p)
        return (1 - ap) / (1 - at) * (1 - at / ap)
    }

    /// σ_t(η) = η·√variance(t, p): 0 is deterministic DDIM, 1 is DDPM's ancestral sampling.
    public func sigma(_ t: Int, _ p: Int, eta: Double) -> Double { eta * variance(t, p).squareRoot() }

    /// One DDIM step from x_t to x_p given the model's x₀ and ε estimates (consistent with each other) and `noise`
    /// z (only used when σ > 0): x_p = √ᾱ_p·x̂₀ + √(1 − ᾱ_p − σ²)·ε̂ + σ·z. With η = 0 the step is deterministic;
    /// swapping t and p (p > t) gives the deterministic DDIM inversion step (data → noise).
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func step<S: BLASScalar>(x0: Tensor<S>, epsilon: Tensor<S>, from t: Int, to p: Int, eta: Double = 0, noise: Tensor<S>? = nil) throws -> Tensor<S> {
        guard eta >= 0 else { throw ConfigurationError(field: "DDIMSchedule.step(eta:)", reason: "DDIM: η must be ≥ 0, got \(eta)") }
        let ap = alphaBar(p)
        let sigma = p > t ? 0 : self.sigma(t, p, eta: eta)
        let direction = Swift.max(0, 1 - ap - sigma * sigma).squareRoot()
        var out = try rowwiseCombination([ap.squareRoot()], x0, [direction], epsilon, "DDIM step")
        if sigma > 0 {
            guard let z = noise else { throw ConfigurationError(field: "DDIMSchedule.step(noise:)", reason: "DDIM step: η = \(eta) > 0 needs noise") }
            try out.addScaled(z, S(sigma))
        }
        return out
    }
}

extension DiffusionSchedule {
    /// One DDPM ancestral step (Ho et al. 2020, Algorithm 2 written with x̂₀): x_{t−1} = μ̃_t(x_t, x̂₀) + σ_t·z with
    /// σ_t² = β_t or β̃_t; no noise is added at t = 0.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func ancestralStep<S: BLASScalar>(xt: Tensor<S>, x0: Tensor<S>, timestep t: Int, variance: PosteriorVariance = .betaTilde, noise: Tensor<S>?) throws -> Tensor<S> {
        var mean = try posteriorMean(x0: x0, xt: xt, timesteps: [t])
        if t > 0 {
            guard let z = noise else { throw ConfigurationError(field: "DDIMSchedule.ancestralStep(noise:)", reason: "DDPM step at t = \(t) needs noise") }
            try mean.addScaled(z, S(reverseVariance(t, variance).squareRoot()))
        }
        return mean
    }
}
