import Foundation
import Linear
import Neural

extension ScoreSDEModel {
    /// The log-likelihood log p₀(x) of each row of x [n, D] (model units, nats) under the probability-flow ODE
    /// (Song et al. 2021, §4.3 and Appendix D.2): with F(x, t) = f(x, t) − ½g(t)²·s_θ(x, t), integrate
    ///
    ///     dx/dt = F(x, t),   dΔ/dt = ∇·F(x, t) = D·a(t) + ½g(t)²/s(t)·∇·f_θ(x, t)
    ///
    /// from t = ε to 1 and return log p_prior(x(1)) + Δ(1), the prior being N(0, σ_prior²·I).
    /// The divergence ∇·f_θ is exact (D vector–Jacobian products per evaluation) when `hutchinsonProbes` is nil,
    /// otherwise the Hutchinson estimate vᵀ(∂f_θ/∂x)v averaged over that many Rademacher probes v, drawn once
    /// from `noise` (stream `.training`) and held fixed along the path, as in the paper's code.
    /// For data-unit densities add Σ log|scale| of the model file's scaling. Returns also the solver statistics.
    public func logLikelihood(_ x: Tensor<S>, steps: Int = 100, method: ODEMethod = .rk4, hutchinsonProbes: Int? = nil,
                              noise: any NoiseSource = SeededNoise(seed: 0), epsilon: Double? = nil) throws -> (logLikelihood: [Double], statistics: SolverStatistics) {
        guard x.rank == 2, x.shape[1] == denoiser.dimension, x.shape[0] >= 1 else {
            throw TensorError.invalidShape("log-likelihood: expected [n, \(denoiser.dimension)], got \(x.shape)")
        }
        let n = x.shape[0], d = x.shape[1]
        let divergence: ChangeOfVariables.Divergence = hutchinsonProbes.map { .hutchinson(probes: $0) } ?? .exact
        let probes: [Tensor<S>] = try ChangeOfVariables.probes(divergence, n: n, d: d, noise: noise)
        let field: VectorField<S> = { t, state in
            let xt = try state.slice(0..<d, axis: 1)
            let (out, div) = try ChangeOfVariables.valueAndDivergence(xt, probes: probes, average: hutchinsonProbes != nil) {
                try self.noisePrediction($0, t)
            }
            let score = out * S(-1 / self.sde.marginalStd(t))
            let dx = try self.sde.reverseDrift(xt, score: score, t, probabilityFlow: true)
            let g2 = self.sde.diffusion(t) * self.sde.diffusion(t)
            let c = Double(d) * self.sde.driftCoefficient(t), k = 0.5 * g2 / self.sde.marginalStd(t)
            let dlog = Tensor<S>(unsafeUninitializedShape: [n, 1]) { p, _ in for i in 0..<n { p[i] = S(c + k * div[i]) } }
            return try Tensor.concatenate([dx, dlog], axis: 1)
        }
        let start = try Tensor.concatenate([x, Tensor<S>.zeros([n, 1])], axis: 1)
        let grid = try ODESolver.uniformGrid(from: epsilon ?? sde.trainingEpsilon, to: 1, steps: steps)
        let sol = try ODESolver.solve(field, initial: start, times: grid, method: method)
        let end = sol.state.scalars.map(Double.init)
        let z = (0..<n).flatMap { i in end[(i * (d + 1))..<(i * (d + 1) + d)] }
        let prior = ChangeOfVariables.gaussianLogDensity(z, n: n, d: d, std: sde.priorStd)
        let out = (0..<n).map { prior[$0] + end[$0 * (d + 1) + d] }
        return (out, sol.statistics)
    }
}
