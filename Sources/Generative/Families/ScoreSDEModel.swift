import Foundation
import Linear
import Neural

/// The samplers of a score SDE model, by their command-line names.
public enum ScoreSDESampler: String, Sendable, CaseIterable {
    /// Euler–Maruyama on the reverse-time SDE.
    case eulerMaruyama = "euler-maruyama"
    /// Predictor–corrector: an Euler–Maruyama predictor step and Langevin corrector steps.
    case predictorCorrector = "pc"
    /// The probability-flow ODE, integrated by an `ODEMethod`.
    case probabilityFlow = "pf-ode"

    /// Parses `euler-maruyama` (also `em`), `pc` or `pf-ode` (also `ode`); anything else is an error.
    public init(parsing name: String) throws {
        switch name.lowercased() {
        case "euler-maruyama", "em", "eulermaruyama": self = .eulerMaruyama
        case "pc", "predictor-corrector": self = .predictorCorrector
        case "pf-ode", "ode", "probability-flow": self = .probabilityFlow
        default: throw ConfigurationError(field: "ScoreSDESampler.name", reason: "unknown score-SDE sampler '\(name)': expected euler-maruyama, pc or pf-ode")
        }
    }
}

/// What a score-SDE network outputs.
public enum ScorePrediction: String, Sendable, CaseIterable {
    /// The scaled noise ε̂ = f_θ(x_t, t), score −ε̂/s(t) (Song et al.'s noise-conditional parameterisation).
    case noise
    /// The clean data x̂₀ = f_θ(x_t, t); ε̂ = (x_t − m(t)·x̂₀)/s(t) and the score −(x_t − m(t)·x̂₀)/s(t)² (Tweedie's
    /// formula). Data on a low-dimensional manifold make x̂₀ a low-rank function of x_t while ε̂ is full-rank, so a
    /// network narrower than D learns x̂₀ and cannot learn ε̂ (Li & He 2025, "Back to Basics: Let Denoising
    /// Generative Models Denoise").
    case data

    /// Parses `noise` (also `epsilon`, `eps`) or `data` (also `x0`, `sample`).
    public init(parsing name: String) throws {
        switch name.lowercased() {
        case "noise", "epsilon", "eps": self = .noise
        case "data", "x0", "x", "sample": self = .data
        default: throw ConfigurationError(field: "ScorePrediction.name", reason: "unknown score-SDE prediction '\(name)': expected noise or data")
        }
    }
}

/// The configuration of a score SDE model (Song et al. 2021): the SDE (VP β 0.1 → 20 by default) and the
/// weighting λ(t) of the denoising score matching loss (`.variance`, λ = s(t)², the paper's default).
public struct ScoreSDEConfiguration: Sendable, Equatable {
    public var sde: ScoreSDE = .vp()
    public var weighting: ScoreSDE.Weighting = .variance
    /// What the network predicts (`.noise`, the paper's; `.data` is `vst train`'s default for vectors).
    public var prediction: ScorePrediction = .noise
    /// With `.data`: v of the `GaussianSkip` added to the network's output, x̂₀ = c(t)·x_t + f_θ with
    /// c(t) = m·v/(m²·v + s²) (0: none).
    public var skipVariance: Double = 0
    /// Langevin corrector signal-to-noise ratio r (0.16 in the paper for VE on CIFAR-10).
    public var snr: Double = 0.16
    /// Corrector steps per predictor step.
    public var correctorSteps: Int = 1
    /// Whether the Langevin step size uses the batch means of ‖z‖ and ‖s_θ‖ (`true`, as the paper's code does) or
    /// each row's own norms (`false`: samples then do not depend on the batching, but rows where the score nearly
    /// vanishes — between modes — take huge steps, which spreads low-dimensional samples).
    public var batchStepSize: Bool = true

    public init(sde: ScoreSDE = .vp(), weighting: ScoreSDE.Weighting = .variance, snr: Double = 0.16, correctorSteps: Int = 1,
                batchStepSize: Bool = true, prediction: ScorePrediction = .noise, skipVariance: Double = 0) {
        self.sde = sde; self.weighting = weighting; self.snr = snr; self.correctorSteps = correctorSteps
        self.batchStepSize = batchStepSize; self.prediction = prediction; self.skipVariance = skipVariance
    }
}

/// A score-based model over a VP, sub-VP or VE SDE.
///
/// The network predicts the scaled noise ε̂ = f_θ(x_t, t); the score is s_θ(x, t) = −ε̂/s(t) (the noise-conditional
/// parameterisation of Song et al.'s code). Denoising score matching with x_t = m(t)x₀ + s(t)z, t ~ U[ε, 1]:
///
///     L = E λ(t)·‖s_θ(x_t, t) + z/s(t)‖² = E (λ(t)/s(t)²)·‖ε̂ − z‖²,
///
/// so λ = s² gives the plain ε-MSE and λ = g² the likelihood weighting. With `.data` prediction the same loss reads
/// (λ(t)/s(t)²)·(m(t)/max(s(t), δ))²·‖x̂₀ − x₀‖² (δ = 0.05 bounds the weight of the smallest noise levels, as Li & He
/// 2025 clip their velocity's denominator).
///
/// Samplers from t = 1 (x ~ N(0, σ_prior²)) to t = ε:
/// - Euler–Maruyama on dx = [f − g²·s_θ]dt + g·dw̄ (`EulerMaruyama`, no noise on the last step);
/// - predictor–corrector: the same predictor, then Langevin steps x ← x + δ·s_θ + √(2δ)·z with
///   δ = 2α·(r·‖z‖/‖s_θ‖)² (α = 1 − β(t)/N for VP/sub-VP, 1 for VE; Song et al. Algorithm 5), the norms averaged
///   over the batch as in the paper's code (so predictor–corrector samples depend on the batch, unless
///   `batchStepSize` is off);
/// - the probability-flow ODE dx/dt = f − ½g²·s_θ, by `ODESolver` (deterministic).
public final class ScoreSDEModel<S: BLASScalar> {
    public let configuration: ScoreSDEConfiguration
    public let denoiser: any Denoiser<S>
    /// Classifier-free guidance scale w used when sampling with labels (0: plain conditional sampling). A guided
    /// evaluation runs the network on 2n rows; train with `TrainingConfiguration.labelDropout` > 0 for it to work.
    public var guidanceScale: Double = 0
    public var sde: ScoreSDE { configuration.sde }

    public init(denoiser: any Denoiser<S>, configuration: ScoreSDEConfiguration = ScoreSDEConfiguration()) throws {
        try configuration.sde.validate()
        try ConfigurationError.check("ScoreSDEConfiguration", ["snr": configuration.snr > 0, "correctorSteps": configuration.correctorSteps >= 0],
                                     reason: "score SDE: need snr > 0 and correctorSteps ≥ 0")
        guard configuration.skipVariance >= 0, configuration.skipVariance.isFinite else {
            throw ConfigurationError(field: "ScoreSDEConfiguration.skipVariance", reason: "score SDE: skipVariance must be finite and ≥ 0, got \(configuration.skipVariance)")
        }
        self.configuration = configuration
        self.denoiser = denoiser
    }

    /// The loss on fixed inputs: mean over rows of (λ(t)/s(t)²)·mean over features of (ε̂ − z)².
    public func loss(x0: Tensor<S>, times: [Double], noise z: Tensor<S>, labels: [Int]? = nil) throws -> Variable<S> {
        let n = x0.shape.first ?? 0
        guard times.count == n else { throw TensorError.invalidShape("score SDE loss: \(times.count) times for \(n) rows") }
        let xt = try sde.perturb(x0, noise: z, times: times)
        var pred = try denoiser(Variable(xt), time: Tensor<S>(times.map { S(embeddingTime($0)) }), labels: labels)
        if configuration.prediction == .data {
            if configuration.skipVariance > 0 { pred = try pred + rowwiseScale(times.map(skipCoefficient), xt, "score-SDE skip") }
            let w = try Tensor<S>(times.map { t -> S in
                let s = sde.marginalStd(t), m = sde.marginalMeanCoefficient(t), r = m / Swift.max(s, Self.dataPredictionFloor)
                return S(sde.lossWeight(t, configuration.weighting) / (s * s) * r * r)
            }, shape: [n, 1])
            return try ((pred - Variable(x0)).square() * w).mean()
        }
        let w = try Tensor<S>(times.map { t -> S in let s = sde.marginalStd(t); return S(sde.lossWeight(t, configuration.weighting) / (s * s)) },
                              shape: [n, 1])
        return try ((pred - Variable(z)).square() * w).mean()
    }

    /// c(t) = m·v/(m²·v + s²) of the skip.
    func skipCoefficient(_ t: Double) -> Double {
        GaussianSkip.coefficient(signal: sde.marginalMeanCoefficient(t), noise: sde.marginalStd(t), variance: configuration.skipVariance)
    }

    /// δ, the smallest s(t) in the weight of the `.data` loss.
    public static var dataPredictionFloor: Double { 0.05 }

    /// The scaled noise ε̂(x, t) on the tape: the network's output, or (x − m(t)·x̂₀)/s(t) under `.data` prediction.
    public func noisePrediction(_ x: Variable<S>, _ t: Double, labels: [Int]? = nil) throws -> Variable<S> {
        let n = x.shape.first ?? 0
        var out = try denoiser(x, time: Tensor<S>(repeating: S(embeddingTime(t)), shape: [n]), labels: labels)
        guard configuration.prediction == .data else { return out }
        if configuration.skipVariance > 0 { out = try out + x * S(skipCoefficient(t)) }
        let s = sde.marginalStd(t), m = sde.marginalMeanCoefficient(t)
        return try (x - out * S(m)) * S(1 / s)
    }

    /// ε̂ at (x, t) rows with per-row times, without a tape, with classifier-free guidance.
    func noisePrediction(_ x: Tensor<S>, times: [Double], labels: [Int]?) throws -> Tensor<S> {
        var out = try denoiser.predict(x, times: times.map(embeddingTime), labels: labels, guidance: guidanceScale)
        guard configuration.prediction == .data else { return out }
        let n = x.shape.first ?? 0
        let ts = times.count == 1 ? [Double](repeating: times[0], count: n) : times
        if configuration.skipVariance > 0 { out = try rowwiseCombination(ts.map { _ in 1 }, out, ts.map(skipCoefficient), x, "score-SDE skip") }
        return try rowwiseCombination(ts.map { 1 / sde.marginalStd($0) }, x, ts.map { -sde.marginalMeanCoefficient($0) / sde.marginalStd($0) }, out,
                                      "score-SDE data prediction")
    }

    /// The loss with t ~ U[ε, 1] and z drawn from `g`.
    public func loss(x0: Tensor<S>, labels: [Int]? = nil, using g: inout RandomGenerator) throws -> Variable<S> {
        let n = x0.shape.first ?? 0
        let e = sde.trainingEpsilon
        let times = (0..<n).map { _ in e + (1 - e) * g.nextUniform() }
        let z = Tensor<S>.normal(x0.shape, using: &g)
        return try loss(x0: x0, times: times, noise: z, labels: labels)
    }

    /// The learned score s_θ(x, t) = −ε̂(x, t)/s(t) (one evaluation).
    public func score(_ x: Tensor<S>, _ t: Double, labels: [Int]? = nil) throws -> Tensor<S> {
        try noisePrediction(x, times: [t], labels: labels) * S(-1 / sde.marginalStd(t))
    }

    /// Samples `n` rows with `sampler` in `steps` steps (uniform grid 1 → ε). For `.probabilityFlow`, `method`
    /// picks the ODE solver. Evaluations: EM N, PC N·(1 + corrector steps), ODE N × the solver's per-step count,
    /// plus one for the final denoising step.
    ///
    /// With `denoise` (the default, as in Song et al.'s samplers, `denoise=True`), the state x_ε reached at t = ε
    /// is replaced by the posterior mean of the data, Tweedie's formula
    ///
    ///     x̂₀ = (x_ε + s(ε)²·s_θ(x_ε, ε)) / m(ε),
    ///
    /// which removes the noise of standard deviation s(ε) that x_ε still carries in every one of the D directions
    /// (s(ε) ≈ 0.0105 for VP at ε = 10⁻³): for data on a plane inside D = 1024 dimensions that noise, not the plane,
    /// decides the nearest-neighbour precision. The trajectory (recorder, observer) ends at x_ε, before this step.
    public func sample(_ n: Int, sampler: ScoreSDESampler = .eulerMaruyama, steps: Int = 1000, method: ODEMethod = .rk4,
                       denoise: Bool = true, noise: any NoiseSource, firstRow: Int = 0, labels: [Int]? = nil,
                       recorder: TrajectoryRecorder<S>? = nil, observe: StepObserver<S>? = nil) throws -> SamplingResult<S> {
        let r = try sampleToEpsilon(n, sampler: sampler, steps: steps, method: method, noise: noise, firstRow: firstRow, labels: labels,
                                    recorder: recorder, observe: observe)
        guard denoise else { return r }
        return SamplingResult(samples: try denoised(r.samples, labels: labels), evaluations: r.evaluations + 1, steps: r.steps)
    }

    /// Tweedie's formula at t = ε: x̂₀ = (x + s(ε)²·s_θ(x, ε))/m(ε) = (x − s(ε)·ε̂(x, ε))/m(ε).
    public func denoised(_ x: Tensor<S>, labels: [Int]? = nil) throws -> Tensor<S> {
        let eps = sde.samplingEpsilon, s = sde.marginalStd(eps), m = sde.marginalMeanCoefficient(eps)
        let e = try noisePrediction(x, times: [eps], labels: labels)
        return try rowwiseCombination([1 / m], x, [-s / m], e, "score-SDE final denoising")
    }

    func sampleToEpsilon(_ n: Int, sampler: ScoreSDESampler, steps: Int, method: ODEMethod,
                         noise: any NoiseSource, firstRow: Int, labels: [Int]?,
                         recorder: TrajectoryRecorder<S>?, observe: StepObserver<S>?) throws -> SamplingResult<S> {
        guard n >= 1 else { throw ConfigurationError(field: "ScoreSDEModel.sample(_:)", reason: "sampling: the number of samples must be ≥ 1, got \(n)") }
        let eps = sde.samplingEpsilon
        let grid = try ODESolver.uniformGrid(from: 1, to: eps, steps: steps)
        let x1: Tensor<S> = noise.prior([n, denoiser.dimension], std: sde.priorStd, firstRow: firstRow)
        let obs: StepObserver<S> = { k, t, x in try report(k, t, x, recorder, observe) }
        defer { recorder?.finish() }
        switch sampler {
        case .eulerMaruyama:
            let sol = try EulerMaruyama.solve(drift: { t, x in try self.sde.reverseDrift(x, score: self.score(x, t, labels: labels), t) },
                                              diffusion: { self.sde.diffusion($0) }, initial: x1, times: grid, noise: noise,
                                              firstRow: firstRow, noiseOnLastStep: false, observe: obs)
            return SamplingResult(samples: sol.state, evaluations: sol.statistics.evaluations, steps: sol.statistics.acceptedSteps)
        case .probabilityFlow:
            let sol = try ODESolver.solve({ t, x in try self.sde.reverseDrift(x, score: self.score(x, t, labels: labels), t, probabilityFlow: true) },
                                          initial: x1, times: grid, method: method, observe: obs)
            return SamplingResult(samples: sol.state, evaluations: sol.statistics.evaluations, steps: sol.statistics.acceptedSteps)
        case .predictorCorrector:
            var x = x1
            var evaluations = 0
            try obs(0, grid[0], x)
            for k in 0..<steps {
                let t = grid[k], h = grid[k + 1] - t
                // Corrector at t (Langevin), then predictor t → t + h.
                for c in 0..<configuration.correctorSteps {
                    let s = try score(x, t, labels: labels)
                    evaluations += 1
                    let z: Tensor<S> = noise.normal(x.shape, step: k * configuration.correctorSteps + c, stream: .corrector, firstRow: firstRow)
                    x = try langevin(x, score: s, noise: z, t: t, steps: steps)
                }
                let s = try score(x, t, labels: labels)
                evaluations += 1
                var next = try x + sde.reverseDrift(x, score: s, t) * S(h)
                if k < steps - 1 {
                    let z: Tensor<S> = noise.normal(x.shape, step: k, stream: .sampler, firstRow: firstRow)
                    try next.addScaled(z, S(sde.diffusion(t) * Swift.abs(h).squareRoot()))
                }
                x = next
                try obs(k + 1, grid[k + 1], x)
            }
            return SamplingResult(samples: x, evaluations: evaluations, steps: steps)
        }
    }

    /// One Langevin corrector step with the step size δ = 2α(r‖z‖/‖s‖)² (norms averaged over the batch, or per row).
    func langevin(_ x: Tensor<S>, score s: Tensor<S>, noise z: Tensor<S>, t: Double, steps: Int) throws -> Tensor<S> {
        let n = x.shape[0], d = x.count / n
        let alpha: Double
        if case .ve = sde { alpha = 1 } else { alpha = 1 - sde.beta(t) / Double(steps) }
        let sv = s.scalars, zv = z.scalars
        var sNorm = [Double](repeating: 0, count: n), zNorm = sNorm
        for i in 0..<n {
            var ss = 0.0, zz = 0.0
            for j in 0..<d { ss += Double(sv[i * d + j] * sv[i * d + j]); zz += Double(zv[i * d + j] * zv[i * d + j]) }
            sNorm[i] = ss.squareRoot(); zNorm[i] = zz.squareRoot()
        }
        if configuration.batchStepSize {
            sNorm = [sNorm.reduce(0, +) / Double(n)]; zNorm = [zNorm.reduce(0, +) / Double(n)]
        }
        var a = [Double](repeating: 0, count: sNorm.count), b = a
        for i in sNorm.indices {
            let r = configuration.snr * zNorm[i] / Swift.max(sNorm[i], 1e-12)
            let delta = 2 * alpha * r * r
            a[i] = delta; b[i] = (2 * delta).squareRoot()
        }
        let step = try rowwiseCombination(a, s, b, z, "Langevin corrector")
        return try x + step
    }
}
