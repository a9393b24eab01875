import Foundation
import Linear
import Neural

/// What the flow-matching network outputs.
public enum FlowPrediction: String, Sendable, CaseIterable {
    /// The velocity v̂ = f_θ(x_t, t) itself (Lipman et al. 2023).
    case velocity
    /// The clean data x̂₁ = f_θ(x_t, t), turned into the velocity v̂ = (x̂₁ − c·x_t)/max(1 − c·t, δ) with
    /// c = 1 − σ_min and δ = `FlowMatching.dataPredictionFloor` ("x-prediction", Li & He 2025, "Back to Basics: Let
    /// Denoising Generative Models Denoise", §3–4). Data on a low-dimensional manifold in D dimensions make x̂₁ a
    /// low-rank function, which a network narrower than D can represent, while the velocity carries the
    /// D-dimensional noise and cannot be: velocity-predicting networks leave noise in every off-manifold direction.
    case data

    /// Parses `velocity` (also `v`) or `data` (also `x`, `x1`, `sample`).
    public init(parsing name: String) throws {
        switch name.lowercased() {
        case "velocity", "v": self = .velocity
        case "data", "x", "x1", "sample": self = .data
        default: throw ConfigurationError(field: "FlowPrediction.name", reason: "unknown flow-matching prediction '\(name)': expected velocity or data")
        }
    }
}

/// The configuration of flow matching (Lipman et al. 2023): σ_min = 1e-4 (a small end-point spread), no OT
/// pairing (set `.exact` or `.sinkhorn` for OT-CFM, Tong et al. 2024), the network predicting the velocity (the
/// paper's choice; `.data` learns data on low-dimensional manifolds in high dimension, and is `vst train`'s default).
public struct FlowMatchingConfiguration: Sendable, Equatable {
    public var sigmaMin: Double = 1e-4
    public var pairing: OTPairing = .none
    public var prediction: FlowPrediction = .velocity
    /// With `.data`: v of the `GaussianSkip` added to the network's output, x̂₁ = c(t)·x_t + f_θ with
    /// c(t) = t·v/(t²·v + (1 − c·t)²) (0: none).
    public var skipVariance: Double = 0

    public init(sigmaMin: Double = 1e-4, pairing: OTPairing = .none, prediction: FlowPrediction = .velocity, skipVariance: Double = 0) {
        self.sigmaMin = sigmaMin; self.pairing = pairing; self.prediction = prediction; self.skipVariance = skipVariance
    }
}

/// Flow matching with the linear (optimal-transport) conditional path, from noise x₀ ~ N(0, I) at t = 0 to data
/// x₁ at t = 1:
///
///     x_t = (1 − (1 − σ_min)·t)·x₀ + t·x₁,      u_t = x₁ − (1 − σ_min)·x₀,
///     L = E_{t ~ U[0,1], x₀, x₁} ‖v_θ(x_t, t) − u_t‖²,
///
/// With `.data` prediction, v_θ = (x̂₁ − c·x_t)/max(1 − c·t, δ) (c = 1 − σ_min) and the same velocity loss, which is
/// ‖x̂₁ − x₁‖²/max(1 − c·t, δ)² (the target's denominator clipped alike, as Li & He 2025 do),
///
/// sampling integrates dx/dt = v_θ(x, t) from t = 0 to 1 with Euler, Heun, RK4 or adaptive Dormand–Prince
/// (`ODESolver`). With OT pairing, each minibatch's noise rows are matched to its data rows first.
public final class FlowMatching<S: BLASScalar> {
    public let configuration: FlowMatchingConfiguration
    public let denoiser: any Denoiser<S>
    /// Classifier-free guidance scale w used when sampling with labels (0: plain conditional sampling). A guided
    /// evaluation runs the network on 2n rows; train with `TrainingConfiguration.labelDropout` > 0 for it to work.
    public var guidanceScale: Double = 0
    /// δ, the smallest 1 − c·t that divides x̂₁ − c·x_t under `.data` prediction (Li & He 2025 clip 1 − t at 0.05).
    public static var dataPredictionFloor: Double { 0.05 }

    public init(denoiser: any Denoiser<S>, configuration: FlowMatchingConfiguration = FlowMatchingConfiguration()) throws {
        guard configuration.sigmaMin >= 0, configuration.sigmaMin < 1 else {
            throw ConfigurationError(field: "FlowMatchingConfiguration.sigmaMin", reason: "flow matching: σ_min must be in [0, 1), got \(configuration.sigmaMin)")
        }
        guard configuration.skipVariance >= 0, configuration.skipVariance.isFinite else {
            throw ConfigurationError(field: "FlowMatchingConfiguration.skipVariance", reason: "flow matching: skipVariance must be finite and ≥ 0, got \(configuration.skipVariance)")
        }
        self.configuration = configuration
        self.denoiser = denoiser
    }

    /// The loss on fixed inputs (data x₁, noise x₀ already paired, times t per row).
    public func loss(data x1: Tensor<S>, noise x0: Tensor<S>, times: [Double], labels: [Int]? = nil) throws -> Variable<S> {
        let c = 1 - configuration.sigmaMin
        let xt = try rowwiseCombination(times.map { 1 - c * $0 }, x0, times, x1, "flow matching path")
        let time = Tensor<S>(times.map { S(embeddingTime($0)) })
        var out = try denoiser(Variable(xt), time: time, labels: labels)
        if configuration.prediction == .data {
            if configuration.skipVariance > 0 { out = try out + rowwiseScale(times.map(skipCoefficient), xt, "flow matching skip") }
            // ‖v̂ − u‖² with both velocities' denominators clipped at δ: ‖(x̂₁ − x₁)/max(1 − c·t, δ)‖².
            let r = try Tensor<S>(times.map { S(1 / Swift.max(1 - c * $0, Self.dataPredictionFloor)) }, shape: [times.count, 1])
            return try Loss.mse(out * r, Variable(x1 * r))
        }
        var u = x1
        try u.addScaled(x0, S(-c))
        return try Loss.mse(out, Variable(u))
    }

    /// The loss with noise, times and (when configured) the OT pairing drawn from `g`.
    public func loss(x0 data: Tensor<S>, labels: [Int]? = nil, using g: inout RandomGenerator) throws -> Variable<S> {
        let n = data.shape.first ?? 0
        let noise = Tensor<S>.normal(data.shape, using: &g)
        let times = (0..<n).map { _ in g.nextUniform() }
        let partner = try OptimalTransport.pair(noise: noise, data: data, pairing: configuration.pairing)
        let paired = configuration.pairing == .none ? data : try data.batch(partner)
        return try loss(data: paired, noise: noise, times: times, labels: labels.map { l in partner.map { l[$0] } })
    }

    /// c(t) of the skip: x_t = t·x₁ + (1 − c·t)·x₀ with x₁ ~ N(0, v), x₀ ~ N(0, I).
    func skipCoefficient(_ t: Double) -> Double {
        GaussianSkip.coefficient(signal: t, noise: 1 - (1 - configuration.sigmaMin) * t, variance: configuration.skipVariance)
    }

    /// The network's data prediction plus the skip c(t)·x_t (rows of x at `times`, one per row or one for all).
    func withSkip(_ out: Tensor<S>, _ x: Tensor<S>, times: [Double]) throws -> Tensor<S> {
        guard configuration.skipVariance > 0 else { return out }
        return try rowwiseCombination(times.map { _ in 1 }, out, times.map(skipCoefficient), x, "flow matching skip")
    }

    /// The learned velocity field v_θ(x, t) (one evaluation per call).
    public func velocity(labels: [Int]? = nil) -> VectorField<S> {
        { t, x in
            var out = try self.denoiser.predict(x, times: [embeddingTime(t)], labels: labels, guidance: self.guidanceScale)
            guard self.configuration.prediction == .data else { return out }
            out = try self.withSkip(out, x, times: [t])
            // v̂ = (x̂₁ − c·x_t)/max(1 − c·t, δ).
            let c = 1 - self.configuration.sigmaMin
            let r = 1 / Swift.max(1 - c * t, Self.dataPredictionFloor)
            return try rowwiseCombination([r], out, [-c * r], x, "flow matching data prediction")
        }
    }

    /// Samples `n` rows by integrating from noise at t = 0 to t = 1 in `steps` uniform steps (for `.dopri5`, the
    /// steps are output intervals and the tolerances choose the step sizes; `steps` reports accepted steps).
    public func sample(_ n: Int, method: ODEMethod = .euler, steps: Int = 100, tolerances: DormandPrince = DormandPrince(),
                       noise: any NoiseSource, firstRow: Int = 0, labels: [Int]? = nil,
                       recorder: TrajectoryRecorder<S>? = nil, observe: StepObserver<S>? = nil) throws -> SamplingResult<S> {
        guard n >= 1 else { throw ConfigurationError(field: "FlowMatching.sample(_:)", reason: "sampling: the number of samples must be ≥ 1, got \(n)") }
        let x0: Tensor<S> = noise.prior([n, denoiser.dimension], firstRow: firstRow)
        let grid = try ODESolver.uniformGrid(from: 0, to: 1, steps: steps)
        let sol = try ODESolver.solve(velocity(labels: labels), initial: x0, times: grid, method: method, tolerances: tolerances) { k, t, x in
            try report(k, t, x, recorder, observe)
        }
        recorder?.finish()
        return SamplingResult(samples: sol.state, evaluations: sol.statistics.evaluations, steps: sol.statistics.acceptedSteps)
    }
}
