import Foundation
import Linear
import Neural

/// The instantaneous change of variables of a continuous normalising flow (Chen et al. 2018, "Neural Ordinary
/// Differential Equations", Thm. 1; Grathwohl et al. 2019, "FFJORD"): along dx/dt = F(x, t),
///
///     d log p_t(x(t))/dt = −∇·F(x(t), t),
///
/// so integrating the augmented state [x, Δ] with dΔ/dt = ∇·F from the data to the prior's end gives
/// log p_data(x) = log p_prior(x_end) ± Δ_end. Flow matching and score-SDE's probability-flow ODE both use it.
public enum ChangeOfVariables {
    /// How ∇·f is computed for a network output f(x) [n, D].
    public enum Divergence: Sendable, Equatable {
        /// Σⱼ ∂fⱼ/∂xⱼ exactly, from D vector–Jacobian products per evaluation (cost ∝ D).
        case exact
        /// Hutchinson's estimator E[vᵀ(∂f/∂x)v] with `probes` Rademacher vectors per row, drawn once and held fixed
        /// along the path (unbiased; cost ∝ probes).
        case hutchinson(probes: Int)
    }

    /// The probe vectors of `divergence` for n rows of dimension d: the D unit vectors (exact) or Rademacher ±1
    /// rows drawn from `noise` (stream `.training`).
    static func probes<S: BLASScalar>(_ divergence: Divergence, n: Int, d: Int, noise: any NoiseSource) throws -> [Tensor<S>] {
        switch divergence {
        case .exact:
            return (0..<d).map { j in
                Tensor<S>(unsafeUninitializedShape: [n, d]) { p, _ in for i in 0..<(n * d) { p[i] = i % d == j ? 1 : 0 } }
            }
        case let .hutchinson(k):
            guard k >= 1 else { throw ConfigurationError(field: "ChangeOfVariables.Divergence.hutchinson(probes:)", reason: "log-likelihood: need at least one Hutchinson probe, got \(k)") }
            return (0..<k).map { step in
                let u: Tensor<S> = noise.uniform([n, d], step: step, stream: .training, firstRow: 0)
                return u.map { $0 < S(0.5) ? S(-1) : S(1) }
            }
        }
    }

    /// f(x) and ∇·f(x) per row, for a differentiable f: Σ over probes v of vᵀ(∂f/∂x)v (divided by the probe count
    /// for Hutchinson).
    static func valueAndDivergence<S: BLASScalar>(_ x: Tensor<S>, probes: [Tensor<S>], average: Bool,
                                                  _ f: (Variable<S>) throws -> Variable<S>) throws -> (value: Tensor<S>, divergence: [Double]) {
        let n = x.shape[0], d = x.shape[1]
        let xv = Variable(x, requiresGrad: true)
        return try withGrad {
            let out = try f(xv)
            var div = [Double](repeating: 0, count: n)
            for v in probes {
                let vj = try gradient(of: (out * Variable(v)).sum(), wrt: xv).value   // vᵀ·∂f/∂x per row
                let a = vj.scalars, b = v.scalars
                for i in 0..<n { var s = 0.0; for j in 0..<d { s += Double(a[i * d + j] * b[i * d + j]) }; div[i] += s }
            }
            if average, !probes.isEmpty { for i in 0..<n { div[i] /= Double(probes.count) } }
            return (out.value, div)
        }
    }

    /// log N(z; 0, σ²I) of each row of z [n, D].
    static func gaussianLogDensity(_ z: [Double], n: Int, d: Int, std sigma: Double) -> [Double] {
        (0..<n).map { i in
            var sq = 0.0
            for j in 0..<d { let u = z[i * d + j] / sigma; sq += u * u }
            return -0.5 * Double(d) * Foundation.log(2 * Double.pi * sigma * sigma) - 0.5 * sq
        }
    }
}
