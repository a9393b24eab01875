import Foundation
import Linear
import Neural

/// The configuration of flow matching (Lipman et al. 2023): σ_min = 1e-4 (a small end-point spread), no OT
/// pairing (set `.exact` or `.sinkhorn` for OT-CFM, Tong et al. 2024).
public struct FlowMatchingConfiguration: Sendable, Equatable {
    public var sigmaMin: Double = 1e-4
    public var pairing: OTPairing = .none

    public init(sigmaMin: Double = 1e-4, pairing: OTPairing = .none) {
        self.sigmaMin = sigmaMin; self.pairing = pairing
    }
}

/// Flow matching with the linear (optimal-transport) conditional path, from noise x₀ ~ N(0, I) at t = 0 to data
/// x₁ at t = 1:
///
///     x_t = (1 − (1 − σ_min)·t)·x₀ + t·x₁,      u_t = x₁ − (1 − σ_min)·x₀,
///     L = E_{t ~ U[0,1], x₀, x₁} ‖v_θ(x_t, t) − u_t‖²,
///
/// sampling integrates dx/dt = v_θ(x, t) from t = 0 to 1 with Euler, Heun, RK4 or adaptive Dormand–Prince
/// (`ODESolver`). With OT pairing, each minibatch's noise rows are matched to its data rows first.
public final class FlowMatching<S: BLASScalar> {
    public let configuration: FlowMatchingConfiguration
    public let denoiser: any Denoiser<S>
    /// Classifier-free guidance scale w used when sampling with labels (0: plain conditional sampling). A guided
    /// evaluation runs the network on 2n rows; train with `TrainingConfiguration.labelDropout` > 0 for it to work.
    public var guidanceScale: Double = 0

    public init(denoiser: any Denoiser<S>, configuration: FlowMatchingConfiguration = FlowMatchingConfiguration()) throws {
        guard configuration.sigmaMin >= 0, configuration.sigmaMin < 1 else {
            throw TensorError.invalidArgument("flow matching: σ_min must be in [0, 1), got \(configuration.sigmaMin)")
        }
        self.configuration = configuration
        self.denoiser = denoiser
    }

    /// The loss on fixed inputs (data x₁, noise x₀ already paired, times t per row).
    public func loss(data x1: Tensor<S>, noise x0: Tensor<S>, times: [Double], labels: [Int]? = nil) throws -> Variable<S> {
        let c = 1 - configuration.sigmaMin
        let xt = try rowwiseCombination(times.map { 1 - c * $0 }, x0, times, x1, "flow matching path")
        var u = x1
        try u.addScaled(x0, S(-c))
        let time = Tensor<S>(times.map { S(embeddingTime($0)) })
        return try Loss.mse(denoiser(Variable(xt), time: time, labels: labels), Variable(u))
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

    /// The learned velocity field v_θ(x, t) (one evaluation per call).
    public func velocity(labels: [Int]? = nil) -> VectorField<S> {
        { t, x in try self.denoiser.predict(x, times: [embeddingTime(t)], labels: labels, guidance: self.guidanceScale) }
    }

    /// Samples `n` rows by integrating from noise at t = 0 to t = 1 in `steps` uniform steps (for `.dopri5`, the
    /// steps are output intervals and the tolerances choose the step sizes; `steps` reports accepted steps).
    public func sample(_ n: Int, method: ODEMethod = .euler, steps: Int = 100, tolerances: DormandPrince = DormandPrince(),
                       noise: any NoiseSource, firstRow: Int = 0, labels: [Int]? = nil,
                       recorder: TrajectoryRecorder<S>? = nil, observe: StepObserver<S>? = nil) throws -> SamplingResult<S> {
        guard n >= 1 else { throw TensorError.invalidArgument("sampling: the number of samples must be ≥ 1, got \(n)") }
        let x0: Tensor<S> = noise.prior([n, denoiser.dimension], firstRow: firstRow)
        let grid = try ODESolver.uniformGrid(from: 0, to: 1, steps: steps)
        let sol = try ODESolver.solve(velocity(labels: labels), initial: x0, times: grid, method: method, tolerances: tolerances) { k, t, x in
            try report(k, t, x, recorder, observe)
        }
        recorder?.finish()
        return SamplingResult(samples: sol.state, evaluations: sol.statistics.evaluations, steps: sol.statistics.acceptedSteps)
    }
}
