import Foundation
import Linear
import Neural

/// How a consistency model learns: from data alone, or from a teacher's probability-flow ODE.
public enum ConsistencyMode: String, Sendable, CaseIterable {
    /// Consistency training (CT): adjacent points of one noising path x + t_n·z, x + t_{n+1}·z.
    case training = "ct"
    /// Consistency distillation (CD): x̂_{t_n} is one Heun step of a teacher's probability-flow ODE from x_{t_{n+1}}.
    case distillation = "cd"

    /// Parses `ct`/`training` or `cd`/`distillation`.
    public init(parsing name: String) throws {
        switch name.lowercased() {
        case "ct", "training": self = .training
        case "cd", "distillation": self = .distillation
        default: throw ConfigurationError(field: "ConsistencyMode.name", reason: "unknown consistency mode '\(name)': expected ct (training) or cd (distillation)")
        }
    }
}

/// The distance d(·, ·) between the online and the target network's outputs, per row of D values.
public enum ConsistencyMetric: Sendable, Equatable {
    /// Squared ℓ2, averaged over features: (1/D)·‖a − b‖² (Song et al. 2023 with ℓ2).
    case l2
    /// Pseudo-Huber √(‖a − b‖² + c²) − c (Song & Dhariwal 2023, who use c = 0.00054·√D).
    case pseudoHuber(c: Double)

    /// `l2`, `pseudo-huber` (c = 0.00054·√D) or `pseudo-huber:c`.
    public init(parsing name: String, dimension: Int) throws {
        let lower = name.lowercased()
        if lower == "l2" { self = .l2; return }
        if lower == "pseudo-huber" || lower == "huber" { self = .pseudoHuber(c: 0.00054 * Double(dimension).squareRoot()); return }
        if lower.hasPrefix("pseudo-huber:"), let c = Double(lower.dropFirst("pseudo-huber:".count)), c > 0 { self = .pseudoHuber(c: c); return }
        throw ConfigurationError(field: "ConsistencyMetric.name", reason: "unknown consistency metric '\(name)': expected l2, pseudo-huber or pseudo-huber:c")
    }

    /// `l2` or `pseudo-huber:c`.
    public var name: String {
        switch self { case .l2: return "l2"; case let .pseudoHuber(c): return "pseudo-huber:\(c)" }
    }
}

/// The weighting λ of the consistency loss over the discretisation intervals.
public enum ConsistencyWeighting: String, Sendable, CaseIterable {
    /// λ = 1 (Song et al. 2023).
    case uniform
    /// λ(t_n) = 1/(t_{n+1} − t_n) (improved CT, Song & Dhariwal 2023).
    case inverseGap = "inverse-gap"

    /// Parses `uniform` or `inverse-gap`.
    public init(parsing name: String) throws {
        guard let w = ConsistencyWeighting(rawValue: name.lowercased()) else {
            throw ConfigurationError(field: "ConsistencyWeighting.name", reason: "unknown consistency weighting '\(name)': expected uniform or inverse-gap")
        }
        self = w
    }
}

/// How the interval index n (between boundaries t_n < t_{n+1}) is drawn for each row.
public enum ConsistencyNoiseSampling: Sendable, Equatable {
    /// n ~ U{1, …, N − 1} (Song et al. 2023).
    case uniform
    /// p(n) ∝ erf((log t_{n+1} − P_mean)/(√2·P_std)) − erf((log t_n − P_mean)/(√2·P_std)), the discretised log-normal of
    /// improved CT (Song & Dhariwal 2023: P_mean = −1.1, P_std = 2).
    case lognormal(mean: Double, std: Double)

    /// `uniform`, `lognormal` (−1.1, 2) or `lognormal:mean:std`.
    public init(parsing name: String) throws {
        let p = name.lowercased().split(separator: ":").map(String.init)
        if p == ["uniform"] { self = .uniform; return }
        if p == ["lognormal"] { self = .lognormal(mean: -1.1, std: 2); return }
        if p.count == 3, p[0] == "lognormal", let m = Double(p[1]), let s = Double(p[2]), s > 0 { self = .lognormal(mean: m, std: s); return }
        throw ConfigurationError(field: "ConsistencyNoiseSampling.name", reason: "unknown noise sampling '\(name)': expected uniform, lognormal or lognormal:mean:std")
    }

    /// `uniform` or `lognormal:mean:std`.
    public var name: String {
        switch self { case .uniform: return "uniform"; case let .lognormal(m, s): return "lognormal:\(m):\(s)" }
    }

    /// The probabilities of the N − 1 intervals of `boundaries` (ascending).
    public func probabilities(_ t: [Double]) -> [Double] {
        switch self {
        case .uniform: return [Double](repeating: 1 / Double(t.count - 1), count: t.count - 1)
        case let .lognormal(m, s):
            let c = (0..<(t.count - 1)).map { i in
                Swift.max(0, erf((Foundation.log(t[i + 1]) - m) / (2.0.squareRoot() * s)) - erf((Foundation.log(t[i]) - m) / (2.0.squareRoot() * s)))
            }
            let total = c.reduce(0, +)
            return total > 0 ? c.map { $0 / total } : [Double](repeating: 1 / Double(t.count - 1), count: t.count - 1)
        }
    }
}

/// The configuration of a consistency model (Song, Dhariwal, Chen & Sutskever 2023). Defaults are the paper's:
/// the EDM parameterisation with σ_min 0.002, σ_max 80, ρ = 7, σ_data 0.5; CT with the N(k) curriculum s₀ = 2,
/// s₁ = 150 and target decay μ₀ = 0.9; CD with N = 18 boundaries and μ = 0.95; squared ℓ2 distance.
///
/// σ_data should be the data's standard deviation in model units: 0.5 suits images in [−1, 1] (the digits);
/// data standardised per feature has σ_data = 1.
public struct ConsistencyConfiguration: Sendable, Equatable {
    public var schedule: ConsistencySchedule
    public var mode: ConsistencyMode = .training
    /// CT: s₀, the initial number of discretisation boundaries.
    public var initialSteps: Int = 2
    /// CT: s₁, the final number of discretisation steps (N(K) = s₁ + 1).
    public var finalSteps: Int = 150
    /// CT: μ₀, the target network's initial EMA decay; μ(k) = exp(s₀·log μ₀ / N(k)).
    public var initialDecay: Double = 0.9
    /// CD: the number N of Karras boundaries.
    public var distillationSteps: Int = 18
    /// CD: the target network's EMA decay μ.
    public var distillationDecay: Double = 0.95
    public var metric: ConsistencyMetric = .l2
    /// CT: a fixed target decay instead of μ(k) (nil: μ(k)); 0 makes the target the online network without
    /// gradient, as in improved CT (Song & Dhariwal 2023).
    public var trainingDecay: Double? = nil
    /// λ over the intervals (uniform in the paper).
    public var weighting: ConsistencyWeighting = .uniform
    /// How the interval of each row is drawn (uniform in the paper).
    public var noiseSampling: ConsistencyNoiseSampling = .uniform

    public init(schedule: ConsistencySchedule? = nil, mode: ConsistencyMode = .training, initialSteps: Int = 2, finalSteps: Int = 150,
                initialDecay: Double = 0.9, distillationSteps: Int = 18, distillationDecay: Double = 0.95, metric: ConsistencyMetric = .l2,
                trainingDecay: Double? = nil, weighting: ConsistencyWeighting = .uniform, noiseSampling: ConsistencyNoiseSampling = .uniform) {
        self.schedule = schedule ?? ConsistencySchedule.paperDefaults
        self.mode = mode; self.initialSteps = initialSteps; self.finalSteps = finalSteps; self.initialDecay = initialDecay
        self.distillationSteps = distillationSteps; self.distillationDecay = distillationDecay; self.metric = metric
        self.trainingDecay = trainingDecay; self.weighting = weighting; self.noiseSampling = noiseSampling
    }

    func validate() throws {
        _ = try ConsistencyTrainingSchedule(totalSteps: 1, initialSteps: initialSteps, finalSteps: finalSteps, initialDecay: initialDecay)
        try ConfigurationError.check("ConsistencyConfiguration", ["distillationSteps": distillationSteps >= 2,
                                                                "distillationDecay": distillationDecay >= 0 && distillationDecay < 1], reason: "consistency model: need N ≥ 2 and 0 ≤ μ < 1 for distillation, got N \(distillationSteps), μ \(distillationDecay)")
        if case let .pseudoHuber(c) = metric, !(c > 0) { throw ConfigurationError(field: "ConsistencyConfiguration.metric", reason: "consistency model: pseudo-Huber c must be > 0") }
        if let d = trainingDecay, !(d >= 0 && d < 1) { throw ConfigurationError(field: "ConsistencyConfiguration.trainingDecay", reason: "consistency model: the CT target decay must be in [0, 1), got \(d)") }
    }
}

/// A consistency model: a network F_θ made into a consistency function by the EDM skip parameterisation,
///
///     f_θ(x, σ) = c_skip(σ)·x + c_out(σ)·F_θ(c_in(σ)·x, 1000·c_noise(σ)),      f_θ(x, σ_min) = x exactly,
///
/// (`ConsistencySchedule`; the network's time input is 1000·¼·log σ, as in the paper's code), trained so that
/// f maps every point of a probability-flow trajectory x_σ = x + σ·z to the same x.
///
/// **Training** (Algorithms 2 and 3 of Song et al. 2023). At step k with boundaries σ_min = t₁ < … < t_N = σ_max
/// (`ConsistencySchedule.karrasBoundaries`), for data x, n ~ U{1, …, N − 1} and z ~ N(0, I):
///
///     CT: x_hi = x + t_{n+1}·z,  x_lo = x + t_n·z                       (N = N(k), the curriculum)
///     CD: x_hi = x + t_{n+1}·z,  x_lo = Heun step of dx/dσ = (x − D(x, σ))/σ from t_{n+1} to t_n   (fixed N)
///     L = d(f_θ(x_hi, t_{n+1}), f_θ⁻(x_lo, t_n)),     then   θ⁻ ← μ·θ⁻ + (1 − μ)·θ   (stop-gradient)
///
/// with μ = μ(k) = exp(s₀·log μ₀ / N(k)) for CT and a fixed μ for CD, D the teacher's denoiser
/// (`ConsistencyTeacher`: a trained DDPM, score-SDE or flow-matching model). The target network θ⁻ is kept
/// as a second set of weights (`targetWeights`) that is swapped into the network for its (gradient-free)
/// evaluation; the `Trainer` calls `willTrain`/`didTrain` around each update and checkpoints θ⁻.
///
/// Improved CT (Song & Dhariwal 2023) is a configuration: `trainingDecay` 0 (θ⁻ = stopgrad θ), pseudo-Huber
/// `metric`, `.inverseGap` weighting λ = 1/(t_{n+1} − t_n) and `.lognormal` interval sampling; short runs on small
/// data need it for good one-step samples.
///
/// **Sampling** (Algorithm 1): x = f_θ(σ_max·z, σ_max) — one network evaluation — and, for multistep sampling,
/// for τ₁ > τ₂ > … : x ← f_θ(x + √(τᵢ² − σ_min²)·zᵢ, τᵢ). Labels and classifier-free guidance apply to F_θ.
public final class ConsistencyModel<S: BLASScalar> {
    public let configuration: ConsistencyConfiguration
    public let denoiser: any Denoiser<S>
    public var schedule: ConsistencySchedule { configuration.schedule }
    /// The target network θ⁻ (in `denoiser.parameters` order), initialised to θ.
    public internal(set) var targetWeights: [Tensor<S>]
    /// The teacher of consistency distillation (nil for consistency training, and when only sampling).
    public var teacher: (any ConsistencyTeacher<S>)?
    /// Classifier-free guidance scale w applied to F_θ when sampling with labels (0: plain conditional sampling).
    public var guidanceScale: Double = 0
    /// The training step k and the total K, set by `willTrain` (the N(k) curriculum of CT reads them).
    public internal(set) var trainingStep = 0
    public internal(set) var trainingSteps = 1

    public init(denoiser: any Denoiser<S>, configuration: ConsistencyConfiguration = ConsistencyConfiguration(),
                teacher: (any ConsistencyTeacher<S>)? = nil) throws {
        try configuration.validate()
        self.configuration = configuration
        self.denoiser = denoiser
        self.teacher = teacher
        targetWeights = denoiser.parameters.map(\.value)
    }

    // MARK: The consistency function

    /// The network's time input for noise level σ: 1000·c_noise(σ) = 250·log σ.
    public func embeddingTime(sigma: Double) -> Double { 1000 * schedule.cNoise(sigma) }

    /// f_θ(x, σ) on the tape (one σ per row), for training.
    public func consistencyFunction(_ x: Tensor<S>, sigmas: [Double], labels: [Int]?) throws -> Variable<S> {
        let n = x.shape.first ?? 0
        guard sigmas.count == n else { throw TensorError.invalidShape("consistency function: \(sigmas.count) noise levels for \(n) rows") }
        let input = try schedule.scaledInput(x, sigmas: sigmas)
        let time = Tensor<S>(sigmas.map { S(embeddingTime(sigma: $0)) })
        let f = try denoiser(Variable(input), time: time, labels: labels)
        let skip = try rowwiseScale(sigmas.map(schedule.cSkip), x, "consistency skip")
        let cOut = try Tensor<S>(sigmas.map { S(schedule.cOut($0)) }, shape: [n, 1])
        return try f * cOut + skip
    }

    /// f_θ(x, σ) without a tape, for one σ for all rows or one per row (with `guidanceScale` when labels are given).
    public func consistencyFunction(_ x: Tensor<S>, sigmas: [Double], labels: [Int]?, guidance: Double) throws -> Tensor<S> {
        let input = try schedule.scaledInput(x, sigmas: sigmas)
        let f = try denoiser.predict(input, times: sigmas.map { embeddingTime(sigma: $0) }, labels: labels, guidance: guidance)
        return try schedule.denoised(x, networkOutput: f, sigmas: sigmas)
    }

    /// f_θ⁻(x, σ): the target network (its weights swapped in for one gradient-free evaluation).
    public func targetFunction(_ x: Tensor<S>, sigmas: [Double], labels: [Int]?) throws -> Tensor<S> {
        let params = denoiser.parameters
        let saved = params.map(\.value)
        for (p, w) in zip(params, targetWeights) { p.value = w }
        defer { for (p, w) in zip(params, saved) { p.value = w } }
        return try consistencyFunction(x, sigmas: sigmas, labels: labels, guidance: 0)
    }

    // MARK: Training

    /// The discretisation at training step k of K: N(k) Karras boundaries for CT, N for CD.
    public func boundaries(step k: Int, of total: Int) throws -> [Double] {
        switch configuration.mode {
        case .training: return try schedule.karrasBoundaries(count: curriculum(total).discretisation(atStep: k))
        case .distillation: return try schedule.karrasBoundaries(count: configuration.distillationSteps)
        }
    }

    /// The target decay μ at step k of K: μ(k) for CT, the fixed μ for CD.
    public func targetDecay(step k: Int, of total: Int) throws -> Double {
        switch configuration.mode {
        case .training: return try trainingDecayOverride ?? curriculum(total).emaDecay(atStep: k)
        case .distillation: return configuration.distillationDecay
        }
    }

    var trainingDecayOverride: Double? { configuration.trainingDecay }

    func curriculum(_ total: Int) throws -> ConsistencyTrainingSchedule {
        try ConsistencyTrainingSchedule(totalSteps: Swift.max(1, total), initialSteps: configuration.initialSteps,
                                        finalSteps: configuration.finalSteps, initialDecay: configuration.initialDecay)
    }

    /// The loss on fixed inputs: data x, noise z, boundary indices n (0-based: each row uses t[n] and t[n + 1] of
    /// `boundaries`). For CD the teacher's Heun step makes x_lo.
    public func loss(x0 x: Tensor<S>, noise z: Tensor<S>, indices: [Int], boundaries t: [Double], labels: [Int]? = nil) throws -> Variable<S> {
        let n = x.shape.first ?? 0
        guard z.shape == x.shape else { throw TensorError.shapeMismatch(operation: "consistency loss", lhs: x.shape, rhs: z.shape) }
        guard indices.count == n, indices.allSatisfy({ $0 >= 0 && $0 + 1 < t.count }) else {
            throw ConfigurationError(field: "ConsistencyModel.loss(indices:)", reason: "consistency loss: need \(n) boundary indices in 0..<\(t.count - 1)")
        }
        let hi = indices.map { t[$0 + 1] }, lo = indices.map { t[$0] }, ones = [Double](repeating: 1, count: n)
        let xHi = try rowwiseCombination(ones, x, hi, z, "consistency noising")
        let xLo: Tensor<S>
        switch configuration.mode {
        case .training:
            xLo = try rowwiseCombination(ones, x, lo, z, "consistency noising")
        case .distillation:
            guard let teacher else {
                throw ConfigurationError(field: "ConsistencyModel.teacher", reason: "consistency distillation needs a teacher (a trained ddpm, score-sde or flow-matching model)")
            }
            xLo = try noGrad { try teacher.heunStep(xHi, from: hi, to: lo, labels: labels) }
        }
        let target = try targetFunction(xLo, sigmas: lo, labels: labels)
        let online = try consistencyFunction(xHi, sigmas: hi, labels: labels)
        let diff = try online - Variable(target)
        let perRow: Variable<S>
        switch configuration.metric {
        case .l2:
            perRow = try diff.square().mean(axis: 1)
        case let .pseudoHuber(c):
            let cc = S(c)
            perRow = try (diff.square().sum(axis: 1) + cc * cc).sqrt() - cc
        }
        switch configuration.weighting {
        case .uniform: return perRow.mean()
        case .inverseGap: return try (perRow * Variable(Tensor<S>(zip(hi, lo).map { S(1 / ($0 - $1)) }))).mean()
        }
    }

    /// The loss at the current training step (`trainingStep` of `trainingSteps`), with n and z drawn from `g`.
    public func loss(x0: Tensor<S>, labels: [Int]? = nil, using g: inout RandomGenerator) throws -> Variable<S> {
        let t = try boundaries(step: trainingStep, of: trainingSteps)
        let n = x0.shape.first ?? 0
        let indices: [Int]
        switch configuration.noiseSampling {
        case .uniform: indices = (0..<n).map { _ in g.nextInt(below: t.count - 1) }
        case .lognormal:
            var cdf: [Double] = []
            var acc = 0.0
            for p in configuration.noiseSampling.probabilities(t) { acc += p; cdf.append(acc) }
            indices = (0..<n).map { _ in
                let u = g.nextUniform() * acc
                return Swift.min(cdf.firstIndex { $0 > u } ?? (t.count - 2), t.count - 2)
            }
        }
        let z = Tensor<S>.normal(x0.shape, using: &g)
        return try loss(x0: x0, noise: z, indices: indices, boundaries: t, labels: labels)
    }

    /// θ⁻ ← μ·θ⁻ + (1 − μ)·θ.
    public func updateTarget(decay mu: Double) throws {
        for (i, p) in denoiser.parameters.enumerated() {
            if mu == 0 { targetWeights[i] = p.value; continue }
            var e = targetWeights[i]
            targetWeights[i] = Tensor(scalar: 0)
            e *= S(mu)
            try e.addScaled(p.value, S(1 - mu))
            targetWeights[i] = e
        }
    }

    // MARK: Sampling

    /// The noise levels τ₀ = σ_max > τ₁ > … of multistep sampling with `steps` evaluations: the first `steps`
    /// of the `steps + 1` descending Karras levels from σ_max to σ_min (one step: σ_max alone).
    public func samplingLevels(steps: Int) throws -> [Double] {
        guard steps >= 1 else { throw ConfigurationError(field: "ConsistencyModel.sample(steps:)", reason: "consistency sampling: the number of steps must be ≥ 1, got \(steps)") }
        if steps == 1 { return [schedule.sigmaMax] }
        return Array(try schedule.karrasSigmas(count: steps + 1, appendZero: false).prefix(steps))
    }

    /// Samples `n` rows: x = f_θ(σ_max·z, σ_max), then for each later level τ, x ← f_θ(x + √(τ² − σ_min²)·z', τ).
    /// `levels` (descending, the first σ_max, all in (σ_min, σ_max]) overrides the Karras levels of `steps`.
    /// Evaluations: one per level. The recorder sees the noise σ_max·z and the estimate after each evaluation.
    public func sample(_ n: Int, steps: Int = 1, levels: [Double]? = nil, noise: any NoiseSource, firstRow: Int = 0, labels: [Int]? = nil,
                       recorder: TrajectoryRecorder<S>? = nil, observe: StepObserver<S>? = nil) throws -> SamplingResult<S> {
        guard n >= 1 else { throw ConfigurationError(field: "ConsistencyModel.sample(_:)", reason: "sampling: the number of samples must be ≥ 1, got \(n)") }
        let tau = try levels ?? samplingLevels(steps: steps)
        guard !tau.isEmpty, zip(tau, tau.dropFirst()).allSatisfy({ $0 > $1 }), tau.allSatisfy({ $0 > schedule.sigmaMin && $0 <= schedule.sigmaMax }) else {
            throw ConfigurationError(field: "ConsistencyModel.sample(levels:)", reason: "consistency sampling: levels must descend within (σ_min, σ_max], got \(tau)")
        }
        let d = denoiser.dimension
        var x: Tensor<S> = noise.prior([n, d], std: tau[0], firstRow: firstRow)
        try report(0, tau[0], x, recorder, observe)
        for (i, t) in tau.enumerated() {
            if i > 0 {
                let z: Tensor<S> = noise.normal([n, d], step: i, stream: .sampler, firstRow: firstRow)
                try x.addScaled(z, S((t * t - schedule.sigmaMin * schedule.sigmaMin).squareRoot()))
            }
            x = try consistencyFunction(x, sigmas: [t], labels: labels, guidance: guidanceScale)
            try report(i + 1, t, x, recorder, observe)
        }
        recorder?.finish()
        return SamplingResult(samples: x, evaluations: tau.count, steps: tau.count)
    }
}
