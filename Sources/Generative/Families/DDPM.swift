import Foundation
import Linear
import Neural

/// How DDPM's squared error is weighted over timesteps.
public enum DiffusionLossWeighting: String, Sendable, CaseIterable {
    /// Every timestep alike (Ho et al.'s L_simple for whichever target is predicted).
    case uniform
    /// w_t = 1/max(1 − ᾱ_t, δ²), δ = 0.05: with the x₀ target this is the v-prediction loss ‖v̂ − v‖² = ‖x̂₀ − x₀‖²/(1 − ᾱ_t)
    /// (Salimans & Ho 2022) with its smallest noise levels bounded, the loss Li & He (2025) pair with x-prediction.
    case velocity

    /// Parses `uniform` or `velocity` (also `v`).
    public init(parsing name: String) throws {
        switch name.lowercased() {
        case "uniform": self = .uniform
        case "velocity", "v": self = .velocity
        default: throw ConfigurationError(field: "DiffusionLossWeighting.name", reason: "unknown loss weighting '\(name)': expected uniform or velocity")
        }
    }

    /// The weight of timestep t with cumulative ᾱ_t.
    public func weight(alphaBar a: Double) -> Double {
        switch self {
        case .uniform: return 1
        case .velocity: return 1 / Swift.max(1 - a, 0.05 * 0.05)
        }
    }
}

/// The configuration of a DDPM (Ho et al. 2020); defaults are the paper's: linear β 1e-4 → 0.02, T = 1000,
/// ε-prediction, σ_t² = β̃_t ("fixed small"), no clipping (the paper clips x̂₀ to [−1, 1] for images: set
/// `clipSample` = 1 for data scaled to [−1, 1]), uniform loss weights. `vst train` predicts x₀ with the velocity
/// weighting instead: data on a low-dimensional manifold in D dimensions make x̂₀ low-rank and ε̂ full-rank, so
/// a network narrower than D learns the first and not the second (Li & He 2025).
public struct DDPMConfiguration: Sendable, Equatable {
    public var betaSchedule: BetaSchedule = .linear()
    public var timesteps: Int = 1000
    public var target: PredictionTarget = .epsilon
    public var variance: PosteriorVariance = .betaTilde
    /// Clip x̂₀ to [−clipSample, clipSample] before each step (nil: no clipping).
    public var clipSample: Double? = nil
    /// The weight of each timestep's squared error.
    public var lossWeighting: DiffusionLossWeighting = .uniform
    /// With the x₀ target: v of the `GaussianSkip` added to the network's output, x̂₀ = c_t·x_t + f_θ with
    /// c_t = √ᾱ_t·v/(ᾱ_t·v + 1 − ᾱ_t) (0: none).
    public var skipVariance: Double = 0

    public init(betaSchedule: BetaSchedule = .linear(), timesteps: Int = 1000, target: PredictionTarget = .epsilon,
                variance: PosteriorVariance = .betaTilde, clipSample: Double? = nil, lossWeighting: DiffusionLossWeighting = .uniform,
                skipVariance: Double = 0) {
        self.betaSchedule = betaSchedule; self.timesteps = timesteps; self.target = target
        self.variance = variance; self.clipSample = clipSample; self.lossWeighting = lossWeighting; self.skipVariance = skipVariance
    }
}

/// DDPM: a denoiser, its training loss and the ancestral sampler; DDIM (Song et al. 2021) samples the same model.
///
/// Training (Ho et al. Algorithm 1, with the target generalised): t ~ U{0…T−1}, ε ~ N(0, I),
/// x_t = √ᾱ_t·x₀ + √(1 − ᾱ_t)·ε, L = ‖f_θ(x_t, t) − y‖² with y = ε, x₀ or v = √ᾱ_t·ε − √(1 − ᾱ_t)·x₀.
///
/// Ancestral sampling (Algorithm 2): x_T ~ N(0, I); for t = T−1 … 0: x̂₀ from the prediction (optionally clipped),
/// x_{t−1} = μ̃_t(x_t, x̂₀) + σ_t·z (`DiffusionSchedule.ancestralStep`). T network evaluations.
///
/// DDIM: over `DDIMSchedule` timesteps, x_p = √ᾱ_p·x̂₀ + √(1 − ᾱ_p − σ²)·ε̂ + σ·z with σ = η·σ_DDPM
/// (`DDIMSchedule.step`); with η = 0 the map is deterministic and can be run backwards (`ddimInvert`).
public final class DDPM<S: BLASScalar> {
    public let configuration: DDPMConfiguration
    public let schedule: DiffusionSchedule
    public let denoiser: any Denoiser<S>
    /// Classifier-free guidance scale w used when sampling with labels (0: plain conditional sampling). A guided
    /// evaluation runs the network on 2n rows; train with `TrainingConfiguration.labelDropout` > 0 for it to work.
    public var guidanceScale: Double = 0

    public init(denoiser: any Denoiser<S>, configuration: DDPMConfiguration = DDPMConfiguration()) throws {
        self.configuration = configuration
        self.schedule = try DiffusionSchedule(configuration.betaSchedule, timesteps: configuration.timesteps)
        self.denoiser = denoiser
        if let c = configuration.clipSample, !(c > 0) { throw ConfigurationError(field: "DDPMConfiguration.clipSample", reason: "DDPM: clipSample must be > 0, got \(c)") }
        guard configuration.skipVariance >= 0, configuration.skipVariance.isFinite else {
            throw ConfigurationError(field: "DDPMConfiguration.skipVariance", reason: "DDPM: skipVariance must be finite and ≥ 0, got \(configuration.skipVariance)")
        }
    }

    // MARK: Loss

    /// The loss on fixed inputs: mean over rows and features of w_t·(f_θ(x_t, t) − y)².
    public func loss(x0: Tensor<S>, timesteps ts: [Int], noise: Tensor<S>, labels: [Int]? = nil) throws -> Variable<S> {
        let xt = try schedule.addNoise(x0, noise: noise, timesteps: ts)
        let y = try schedule.target(configuration.target, x0: x0, noise: noise, timesteps: ts)
        let time = Tensor<S>(ts.map { S($0) })
        var pred = try denoiser(Variable(xt), time: time, labels: labels)
        if let c = skipCoefficients(ts) { pred = try pred + rowwiseScale(c, xt, "DDPM skip") }
        guard configuration.lossWeighting != .uniform else { return try Loss.mse(pred, Variable(y)) }
        let r = try Tensor<S>(ts.map { S(configuration.lossWeighting.weight(alphaBar: schedule.alphaBars[$0]).squareRoot()) }, shape: [ts.count, 1])
        return try Loss.mse(pred * r, Variable(y * r))
    }

    /// The loss with t and ε drawn from `g`.
    public func loss(x0: Tensor<S>, labels: [Int]? = nil, using g: inout RandomGenerator) throws -> Variable<S> {
        let n = x0.shape.first ?? 0
        let ts = (0..<n).map { _ in g.nextInt(below: schedule.timesteps) }
        let noise = Tensor<S>.normal(x0.shape, using: &g)
        return try loss(x0: x0, timesteps: ts, noise: noise, labels: labels)
    }

    /// The skip coefficients c_t of the timesteps (nil without a skip).
    func skipCoefficients(_ ts: [Int]) -> [Double]? {
        guard configuration.target == .sample, configuration.skipVariance > 0 else { return nil }
        return ts.map { GaussianSkip.coefficient(signal: schedule.sqrtAlphaBars[$0], noise: schedule.sqrtOneMinusAlphaBars[$0],
                                                 variance: configuration.skipVariance) }
    }

    // MARK: Steps

    /// The model's x̂₀ and ε̂ at (x_t, t), x̂₀ clipped when configured (ε̂ then recomputed from it).
    public func estimate(_ xt: Tensor<S>, timestep t: Int, labels: [Int]? = nil) throws -> (x0: Tensor<S>, epsilon: Tensor<S>) {
        var pred = try denoiser.predict(xt, times: [Double(t)], labels: labels, guidance: guidanceScale)
        if let c = skipCoefficients([t]) { try pred.addScaled(xt, S(c[0])) }
        var x0 = try schedule.sample(from: pred, configuration.target, xt: xt, timesteps: [t])
        if let c = configuration.clipSample {
            x0 = x0.clamp(min: S(-c), max: S(c))
            return (x0, try schedule.epsilon(from: x0, .sample, xt: xt, timesteps: [t]))
        }
        return (x0, try schedule.epsilon(from: pred, configuration.target, xt: xt, timesteps: [t]))
    }

    /// One ancestral step from x_t (one network evaluation); `noise` is z (unused at t = 0).
    public func ancestralStep(_ xt: Tensor<S>, timestep t: Int, noise: Tensor<S>?, labels: [Int]? = nil) throws -> SamplerStep<S> {
        let (x0, _) = try estimate(xt, timestep: t, labels: labels)
        let next = try schedule.ancestralStep(xt: xt, x0: x0, timestep: t, variance: configuration.variance, noise: noise)
        return SamplerStep(next: next, x0: x0)
    }

    /// One DDIM step from x_t at `schedule.timesteps[index]` to its successor (one network evaluation).
    public func ddimStep(_ xt: Tensor<S>, schedule ddim: DDIMSchedule, index: Int, eta: Double, noise: Tensor<S>?,
                         labels: [Int]? = nil) throws -> SamplerStep<S> {
        guard ddim.timesteps.indices.contains(index) else {
            throw ConfigurationError(field: "DDPM.ddimStep(index:)", reason: "DDIM step: index \(index) outside 0..<\(ddim.count)")
        }
        let t = ddim.timesteps[index], p = ddim.previous(ofIndex: index)
        let (x0, eps) = try estimate(xt, timestep: t, labels: labels)
        let next = try ddim.step(x0: x0, epsilon: eps, from: t, to: p, eta: eta, noise: noise)
        return SamplerStep(next: next, x0: x0)
    }

    // MARK: Samplers

    /// Ancestral sampling of `n` rows: T evaluations. Row i uses the noise of sample `firstRow + i`.
    /// `observe` sees step 0 (x_T, time T) and each later state with its timestep (−1 for the final one).
    public func sample(_ n: Int, noise: any NoiseSource, firstRow: Int = 0, labels: [Int]? = nil,
                       recorder: TrajectoryRecorder<S>? = nil, observe: StepObserver<S>? = nil) throws -> SamplingResult<S> {
        try checkCount(n)
        let T = schedule.timesteps
        var x: Tensor<S> = noise.prior([n, denoiser.dimension], firstRow: firstRow)
        try report(0, Double(T), x, recorder, observe)
        for (k, t) in (0..<T).reversed().enumerated() {
            let z: Tensor<S>? = t > 0 ? noise.normal([n, denoiser.dimension], step: k, stream: .sampler, firstRow: firstRow) : nil
            x = try ancestralStep(x, timestep: t, noise: z, labels: labels).next
            try report(k + 1, Double(t - 1), x, recorder, observe)
        }
        recorder?.finish()
        return SamplingResult(samples: x, evaluations: T, steps: T)
    }

    /// DDIM sampling of `n` rows in `steps` steps (η = 0: deterministic; 1: DDPM's variance). `steps`
    /// evaluations. Noise for step k is step k of the sampler stream, so η > 0 runs are comparable.
    public func sampleDDIM(_ n: Int, steps: Int, eta: Double = 0, spacing: TimestepSpacing = .leading, offset: Int = 0,
                           noise: any NoiseSource, firstRow: Int = 0, labels: [Int]? = nil,
                           recorder: TrajectoryRecorder<S>? = nil, observe: StepObserver<S>? = nil) throws -> SamplingResult<S> {
        try checkCount(n)
        let ddim = try DDIMSchedule(schedule, steps: steps, spacing: spacing, offset: offset)
        var x: Tensor<S> = noise.prior([n, denoiser.dimension], firstRow: firstRow)
        try report(0, Double(ddim.timesteps[0]), x, recorder, observe)
        for k in 0..<ddim.count {
            let z: Tensor<S>? = eta > 0 ? noise.normal([n, denoiser.dimension], step: k, stream: .sampler, firstRow: firstRow) : nil
            x = try ddimStep(x, schedule: ddim, index: k, eta: eta, noise: z, labels: labels).next
            try report(k + 1, Double(ddim.previous(ofIndex: k)), x, recorder, observe)
        }
        recorder?.finish()
        return SamplingResult(samples: x, evaluations: ddim.count, steps: ddim.count)
    }

    /// Deterministic DDIM inversion (data → noise): the η = 0 map run from the first to the last of the
    /// `steps` timesteps (ascending), x_{t'} = √ᾱ_{t'}·x̂₀ + √(1 − ᾱ_{t'})·ε̂ with (x̂₀, ε̂) from x_t. Sampling the
    /// result with `sampleDDIM(steps:, eta: 0)` over the same timesteps returns (approximately) the data.
    public func ddimInvert(_ x0: Tensor<S>, steps: Int, spacing: TimestepSpacing = .leading, offset: Int = 0,
                           labels: [Int]? = nil) throws -> SamplingResult<S> {
        let ddim = try DDIMSchedule(schedule, steps: steps, spacing: spacing, offset: offset)
        let ascending = Array(ddim.timesteps.reversed())
        var x = x0
        // From "past the end" (ᾱ = finalAlphaBar) onto the smallest timestep, then upwards; the estimate at each
        // stage is taken at the current timestep (the usual approximation of inversion).
        var current = -1
        var evaluations = 0
        for t in ascending {
            let at = current < 0 ? ascending[0] : current
            let (xh, eps) = try estimate(x, timestep: at, labels: labels)
            evaluations += 1
            x = try ddim.step(x0: xh, epsilon: eps, from: current, to: t, eta: 0)
            current = t
        }
        return SamplingResult(samples: x, evaluations: evaluations, steps: ascending.count)
    }

    func checkCount(_ n: Int) throws {
        guard n >= 1 else { throw ConfigurationError(field: "DDPM.sample(_:)", reason: "sampling: the number of samples must be ≥ 1, got \(n)") }
    }
}

/// Passes a state to the recorder and the observer.
func report<S: BLASScalar>(_ step: Int, _ time: Double, _ x: Tensor<S>, _ recorder: TrajectoryRecorder<S>?, _ observe: StepObserver<S>?) throws {
    try recorder?.record(step: step, time: time, state: x)
    try observe?(step, time, x)
}
