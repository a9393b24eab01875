import Foundation
import Linear
import Neural

extension FlowMatching {
    /// The learned velocity v_θ(x, t) on the tape (unconditional), for divergences: the network output itself, or
    /// with `.data` prediction v̂ = (x̂₁ − c·x)/max(1 − c·t, δ), x̂₁ the network output plus the skip.
    func velocity(_ x: Variable<S>, _ t: Double) throws -> Variable<S> {
        let n = x.shape.first ?? 0
        var out = try denoiser(x, time: Tensor<S>(repeating: S(embeddingTime(t)), shape: [n]), labels: nil)
        guard configuration.prediction == .data else { return out }
        if configuration.skipVariance > 0 { out = try out + x * S(skipCoefficient(t)) }
        let c = 1 - configuration.sigmaMin
        let r = 1 / Swift.max(1 - c * t, Self.dataPredictionFloor)
        return try (out - x * S(c)) * S(r)
    }

    /// The log-likelihood log p₁(x) of each row of x [n, D] (model units, nats) under the learned flow, by the
    /// instantaneous change of variables (`ChangeOfVariables`; Lipman et al. 2023 §2 evaluate flow-matching models
    /// the same way): integrate
    ///
    ///     dx/dt = v_θ(x, t),   dΔ/dt = ∇·v_θ(x, t)
    ///
    /// backwards from x(1) = x, Δ(1) = 0 to t = 0 and return log N(x(0); 0, I) + Δ(0)
    /// (since log p₁(x(1)) = log p₀(x(0)) − ∫₀¹ ∇·v_θ dt). The divergence is exact (D vector–Jacobian products per
    /// evaluation) or Hutchinson's estimate with probes drawn from `noise` and held fixed along the path.
    /// For densities in data units add Σ log|scale| of the model file's scaling (`LikelihoodReport`).
    public func logLikelihood(_ x: Tensor<S>, steps: Int = 100, method: ODEMethod = .rk4,
                              divergence: ChangeOfVariables.Divergence = .exact,
                              noise: any NoiseSource = SeededNoise(seed: 0)) throws -> (logLikelihood: [Double], statistics: SolverStatistics) {
        guard x.rank == 2, x.shape[1] == denoiser.dimension, x.shape[0] >= 1 else {
            throw TensorError.invalidShape("log-likelihood: expected [n, \(denoiser.dimension)], got \(x.shape)")
        }
        guard method != .dopri5 else { throw ConfigurationError(field: "FlowMatching.logLikelihood(method:)", reason: "log-likelihood: use a fixed-step method (euler, heun, rk4), not dopri5") }
        let n = x.shape[0], d = x.shape[1]
        let probes: [Tensor<S>] = try ChangeOfVariables.probes(divergence, n: n, d: d, noise: noise)
        let average = divergence != .exact
        let field: VectorField<S> = { t, state in
            let xt = try state.slice(0..<d, axis: 1)
            let (v, div) = try ChangeOfVariables.valueAndDivergence(xt, probes: probes, average: average) { try self.velocity($0, t) }
            let dlog = Tensor<S>(unsafeUninitializedShape: [n, 1]) { p, _ in for i in 0..<n { p[i] = S(div[i]) } }
            return try Tensor.concatenate([v, dlog], axis: 1)
        }
        let start = try Tensor.concatenate([x, Tensor<S>.zeros([n, 1])], axis: 1)
        let grid = try ODESolver.uniformGrid(from: 1, to: 0, steps: steps)
        let sol = try ODESolver.solve(field, initial: start, times: grid, method: method)
        let end = sol.state.scalars.map(Double.init)
        let z = (0..<n).flatMap { i in end[(i * (d + 1))..<(i * (d + 1) + d)] }
        let prior = ChangeOfVariables.gaussianLogDensity(z, n: n, d: d, std: 1)
        return ((0..<n).map { prior[$0] + end[$0 * (d + 1) + d] }, sol.statistics)
    }
}
