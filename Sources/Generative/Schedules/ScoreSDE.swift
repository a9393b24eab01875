import Foundation
import Linear

/// The forward SDEs of Song et al. 2021 ("Score-based generative modeling through SDEs"), dx = f(x, t)dt + g(t)dw on
/// t ∈ [0, 1], all with a drift linear in x, f(x, t) = a(t)·x, and a Gaussian perturbation kernel
/// p₀ₜ(x_t | x₀) = N(m(t)·x₀, s(t)²·I).
///
/// With β(t) = β_min + t·(β_max − β_min) and B(t) = ∫₀ᵗβ = β_min·t + ½t²(β_max − β_min):
///
/// | SDE    | a(t)     | g(t)²                            | m(t)        | s(t)              |
/// |--------|----------|----------------------------------|-------------|-------------------|
/// | VP     | −½β(t)   | β(t)                             | e^{−B(t)/2} | √(1 − e^{−B(t)})  |
/// | sub-VP | −½β(t)   | β(t)·(1 − e^{−2B(t)})            | e^{−B(t)/2} | 1 − e^{−B(t)}     |
/// | VE     | 0        | d σ(t)²/dt = 2σ(t)²·log(σ_max/σ_min) | 1      | σ(t) = σ_min·(σ_max/σ_min)ᵗ |
///
/// Defaults from the paper: VP/sub-VP β_min = 0.1, β_max = 20; VE σ_min = 0.01, σ_max = 50 (CIFAR-10; the paper's
/// advice is σ_max = the largest pairwise distance of the training data, `ScoreSDE.ve(fittedTo:)`).
/// Published values reproduced by the tests: VP at t = 1 has m(1) = 0.006572 and s(1) = 0.99998.
public enum ScoreSDE: Sendable, Equatable, CustomStringConvertible {
    case vp(betaMin: Double = 0.1, betaMax: Double = 20)
    case subVP(betaMin: Double = 0.1, betaMax: Double = 20)
    case ve(sigmaMin: Double = 0.01, sigmaMax: Double = 50)

    /// `vp`, `sub-vp` or `ve`.
    public var name: String {
        switch self { case .vp: return "vp"; case .subVP: return "sub-vp"; case .ve: return "ve" }
    }

    public var description: String {
        switch self {
        case let .vp(a, b): return "VP SDE (β_min \(a), β_max \(b))"
        case let .subVP(a, b): return "sub-VP SDE (β_min \(a), β_max \(b))"
        case let .ve(a, b): return "VE SDE (σ_min \(a), σ_max \(b))"
        }
    }

    /// Parses `vp`, `sub-vp` (also `subvp`) or `ve` with the paper's default parameters.
    public init(parsing name: String) throws {
        switch name.lowercased() {
        case "vp": self = .vp()
        case "sub-vp", "subvp", "sub_vp": self = .subVP()
        case "ve": self = .ve()
        default: throw ConfigurationError(field: "ScoreSDE.name", reason: "unknown SDE '\(name)': expected vp, sub-vp or ve")
        }
    }

    /// A VE SDE whose σ_max is the largest Euclidean distance between two rows of `data` (Song & Ermon 2020,
    /// "Improved techniques", Technique 1, as recommended by Song et al. 2021).
    public static func ve<S: BLASScalar>(fittedTo data: Tensor<S>, sigmaMin: Double = 0.01) throws -> ScoreSDE {
        let d = try PairwiseDistance.largest(data)
        guard d > sigmaMin else {
            throw ConfigurationError(field: "ScoreSDE.ve(fittedTo:sigmaMin:)", reason: "VE SDE: the largest pairwise distance of the data (\(d)) is not above σ_min = \(sigmaMin)")
        }
        return .ve(sigmaMin: sigmaMin, sigmaMax: d)
    }

    /// Throws unless the parameters are valid (0 < β_min ≤ β_max, or 0 < σ_min < σ_max).
    public func validate() throws {
        switch self {
        case let .vp(a, b), let .subVP(a, b):
            guard a > 0, b >= a, b.isFinite else { throw ConfigurationError(field: "ScoreSDE.vp", reason: "\(description): need 0 < β_min ≤ β_max") }
        case let .ve(a, b):
            guard a > 0, b > a, b.isFinite else { throw ConfigurationError(field: "ScoreSDE.ve", reason: "\(description): need 0 < σ_min < σ_max") }
        }
    }

    /// The smallest time used by the paper's code: t ~ U(ε, 1) in training and samplers stop at ε.
    /// VP/sub-VP 1e-3 for sampling (1e-5 for training and likelihoods), VE 1e-5.
    public var samplingEpsilon: Double { if case .ve = self { return 1e-5 }; return 1e-3 }
    /// ε for drawing training times t ~ U(ε, 1) (1e-5 for all three).
    public var trainingEpsilon: Double { 1e-5 }

    /// β(t) = β_min + t·(β_max − β_min) (VP and sub-VP; for VE, the instantaneous g(t)²).
    public func beta(_ t: Double) -> Double {
        switch self {
        case let .vp(a, b), let .subVP(a, b): return a + t * (b - a)
        case .ve: return diffusion(t) * diffusion(t)
        }
    }

    /// B(t) = ∫₀ᵗ β(s) ds = β_min·t + ½t²(β_max − β_min) (VP and sub-VP; 0 for VE).
    func integratedBeta(_ t: Double) -> Double {
        switch self {
        case let .vp(a, b), let .subVP(a, b): return a * t + 0.5 * t * t * (b - a)
        case .ve: return 0
        }
    }

    /// σ(t) = σ_min·(σ_max/σ_min)ᵗ of the VE SDE.
    func veSigma(_ t: Double) -> Double {
        guard case let .ve(a, b) = self else { return 0 }
        return a * Foundation.pow(b / a, t)
    }

    /// m(t), the mean coefficient of the perturbation kernel: E[x_t | x₀] = m(t)·x₀.
    public func marginalMeanCoefficient(_ t: Double) -> Double {
        if case .ve = self { return 1 }
        return Foundation.exp(-0.5 * integratedBeta(t))
    }

    /// s(t), the standard deviation of the perturbation kernel.
    public func marginalStd(_ t: Double) -> Double {
        switch self {
        case .vp: return (-Foundation.expm1(-integratedBeta(t))).squareRoot()
        case .subVP: return -Foundation.expm1(-integratedBeta(t))
        case .ve: return veSigma(t)
        }
    }

    /// a(t), the drift coefficient: f(x, t) = a(t)·x (−½β(t) for VP/sub-VP, 0 for VE).
    public func driftCoefficient(_ t: Double) -> Double {
        if case .ve = self { return 0 }
        return -0.5 * beta(t)
    }

    /// g(t), the diffusion coefficient.
    public func diffusion(_ t: Double) -> Double {
        switch self {
        case let .vp(a, b): return (a + t * (b - a)).squareRoot()
        case let .subVP(a, b):
            let bt = a + t * (b - a)
            return (bt * -Foundation.expm1(-2 * integratedBeta(t))).squareRoot()
        case let .ve(a, b): return veSigma(t) * (2 * Foundation.log(b / a)).squareRoot()
        }
    }

    /// Standard deviation of the prior p_T the samplers start from: 1 for VP/sub-VP, σ_max for VE.
    public var priorStd: Double {
        if case let .ve(_, b) = self { return b }
        return 1
    }

    /// How the denoising score matching loss weights time t:
    /// E_t[λ(t)·E‖s_θ(x_t, t) − ∇log p₀ₜ(x_t | x₀)‖²].
    public enum Weighting: String, Sendable, CaseIterable {
        /// λ(t) = s(t)², the paper's default (∝ 1/E‖∇log p₀ₜ‖²): with s_θ = −ε̂/s(t) the loss becomes ‖ε̂ − ε‖².
        case variance
        /// λ(t) = g(t)², the likelihood weighting of Song et al. 2021b (the loss bounds the negative log-likelihood).
        case likelihood
        /// λ(t) = s(t)²·(m(t)² + s(t)²)/m(t)²: the x̂₀ error of data prediction weighted by (m² + s²)/s², which is
        /// SNR + 1 for VP, the v-prediction loss ‖v̂ − v‖² (Salimans & Ho 2022, §4; the `velocity` weighting of DDPM).
        /// `.variance` weights the x̂₀ error by the SNR m²/s² alone, so the noisiest times, where the large-scale
        /// layout of the samples is decided, get almost none of the loss. With noise prediction the weight of ‖ε̂ − z‖²
        /// is 1 + s²/m², up to 2.3·10⁴ at t = 1 for the default VP.
        case velocity
    }

    /// λ(t) for the chosen weighting.
    public func lossWeight(_ t: Double, _ weighting: Weighting = .variance) -> Double {
        switch weighting {
        case .variance: let s = marginalStd(t); return s * s
        case .likelihood: let g = diffusion(t); return g * g
        case .velocity:
            let s = marginalStd(t), m = marginalMeanCoefficient(t)
            return s * s * (m * m + s * s) / (m * m)
        }
    }

    /// x_t = m(t)·x₀ + s(t)·z for one time per row (or one for all rows): a draw from the perturbation kernel.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func perturb<S: BLASScalar>(_ x0: Tensor<S>, noise: Tensor<S>, times: [Double]) throws -> Tensor<S> {
        try rowwiseCombination(times.map(marginalMeanCoefficient), x0, times.map(marginalStd), noise, "\(name) perturb")
    }

    /// The denoising score matching target ∇ₓlog p₀ₜ(x_t | x₀) = −z/s(t) for x_t = `perturb(x₀, noise: z, times:)`,
    /// one time per row (or one for all rows).
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func scoreTarget<S: BLASScalar>(noise z: Tensor<S>, times: [Double]) throws -> Tensor<S> {
        if let bad = times.first(where: { !(marginalStd($0) > 0) }) {
            throw ConfigurationError(field: "ScoreSDE.scoreTarget(times:)", reason: "\(name) score target: s(t) = 0 at t = \(bad); draw t from [ε, 1] with ε > 0")
        }
        return try rowwiseScale(times.map { -1 / marginalStd($0) }, z, "\(name) score target")
    }

    /// The forward drift f(x, t) = a(t)·x.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func drift<S: BLASScalar>(_ x: Tensor<S>, _ t: Double) -> Tensor<S> { x * S(driftCoefficient(t)) }

    /// The drift of the reverse-time SDE, f(x, t) − g(t)²·∇ₓlog p_t(x) (Anderson 1982), or with
    /// `probabilityFlow` that of the probability-flow ODE, f(x, t) − ½g(t)²·∇ₓlog p_t(x). Integrate it from t = 1
    /// down to ε (negative dt).
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func reverseDrift<S: BLASScalar>(_ x: Tensor<S>, score: Tensor<S>, _ t: Double, probabilityFlow: Bool = false) throws -> Tensor<S> {
        guard score.shape == x.shape else { throw TensorError.shapeMismatch(operation: "\(name) reverse drift", lhs: x.shape, rhs: score.shape) }
        let g2 = diffusion(t) * diffusion(t)
        return try rowwiseCombination([driftCoefficient(t)], x, [-(probabilityFlow ? 0.5 : 1) * g2], score, "\(name) reverse drift")
    }
}
