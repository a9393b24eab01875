import Foundation
import Linear

/// Which variance the DDPM reverse step p(x_{t−1} | x_t) = N(μ, σ_t²·I) uses (Ho et al. 2020, §3.2).
public enum PosteriorVariance: String, Sendable, CaseIterable {
    /// σ_t² = β_t ("fixed large"; optimal for x₀ ~ N(0, I)).
    case beta
    /// σ_t² = β̃_t = β_t·(1 − ᾱ_{t−1})/(1 − ᾱ_t) ("fixed small"; optimal for a deterministic x₀; the usual default).
    case betaTilde = "beta-tilde"

    /// Parses `beta` / `fixed-large` or `beta-tilde` / `fixed-small`.
    public init(parsing name: String) throws {
        switch name.lowercased() {
        case "beta", "fixed-large", "fixed_large", "large": self = .beta
        case "beta-tilde", "betatilde", "beta_tilde", "fixed-small", "fixed_small", "small": self = .betaTilde
        default: throw ConfigurationError(field: "PosteriorVariance.name", reason: "unknown posterior variance '\(name)': expected beta or beta-tilde")
        }
    }
}

/// Every per-timestep quantity of a discrete DDPM forward process, precomputed in `Double` from the betas.
///
/// With α_t = 1 − β_t and ᾱ_t = ∏_{s ≤ t} α_s (0-based t; ᾱ_{−1} = 1):
/// - forward marginal q(x_t | x₀) = N(√ᾱ_t·x₀, (1 − ᾱ_t)·I);
/// - posterior q(x_{t−1} | x_t, x₀) = N(μ̃_t, β̃_t·I) with μ̃_t = c₁·x₀ + c₂·x_t,
///   c₁ = β_t·√ᾱ_{t−1}/(1 − ᾱ_t), c₂ = (1 − ᾱ_{t−1})·√α_t/(1 − ᾱ_t), β̃_t = β_t·(1 − ᾱ_{t−1})/(1 − ᾱ_t);
/// - β̃₀ = 0 exactly; its log is "clipped" as in Ho et al.'s code: log β̃ with β̃₀ replaced by β̃₁;
/// - signal-to-noise ratio SNR(t) = ᾱ_t/(1 − ᾱ_t).
///
/// Published values reproduced by the tests (linear 1e-4 → 0.02, T = 1000): β̃₀ = 0, β̃₄₈₇ = 0.00979,
/// β̃₉₉₉ = 0.02, ᾱ₉₉₉ = 4.0358e-5; scaled-linear 0.00085 → 0.012: ᾱ₉₉₉ = 0.00466.
public struct DiffusionSchedule: Sendable, Equatable {
    /// The schedule the betas came from (nil when built from explicit betas).
    public let kind: BetaSchedule?
    /// Number of diffusion steps T.
    public var timesteps: Int { betas.count }
    /// β_t.
    public let betas: [Double]
    /// α_t = 1 − β_t.
    public let alphas: [Double]
    /// ᾱ_t = ∏_{s ≤ t} α_s.
    public let alphaBars: [Double]
    /// ᾱ_{t−1}, with ᾱ_{−1} = 1.
    public let alphaBarsPrevious: [Double]
    /// √ᾱ_t.
    public let sqrtAlphaBars: [Double]
    /// √(1 − ᾱ_t).
    public let sqrtOneMinusAlphaBars: [Double]
    /// β̃_t = β_t·(1 − ᾱ_{t−1})/(1 − ᾱ_t) (0 at t = 0).
    public let posteriorVariance: [Double]
    /// log β̃_t with β̃₀ replaced by β̃₁ (finite everywhere).
    public let posteriorLogVarianceClipped: [Double]
    /// c₁ = β_t·√ᾱ_{t−1}/(1 − ᾱ_t), the coefficient of x₀ in μ̃_t.
    public let posteriorMeanCoefficientX0: [Double]
    /// c₂ = (1 − ᾱ_{t−1})·√α_t/(1 − ᾱ_t), the coefficient of x_t in μ̃_t.
    public let posteriorMeanCoefficientXt: [Double]

    /// The schedule of `kind` with T = `timesteps` (default: DDPM's linear 1e-4 → 0.02, T = 1000).
    public init(_ kind: BetaSchedule = .linear(), timesteps: Int = 1000) throws {
        try self.init(betas: kind.betas(timesteps: timesteps), kind: kind)
    }

    /// A schedule from explicit betas (each in (0, 1), at least two).
    public init(betas: [Double]) throws { try self.init(betas: betas, kind: nil) }

    init(betas: [Double], kind: BetaSchedule?) throws {
        guard betas.count >= 2 else { throw ConfigurationError(field: "DiffusionSchedule.timesteps", reason: "DiffusionSchedule: need at least 2 betas, got \(betas.count)") }
        if let bad = betas.firstIndex(where: { !($0 > 0 && $0 < 1) }) {
            throw ConfigurationError(field: "DiffusionSchedule.betas", reason: "DiffusionSchedule: β at t = \(bad) is \(betas[bad]), outside (0, 1)")
        }
        self.kind = kind
        self.betas = betas
        alphas = betas.map { 1 - $0 }
        var acc = 1.0
        alphaBars = alphas.map { acc *= $0; return acc }
        alphaBarsPrevious = [1] + alphaBars.dropLast()
        sqrtAlphaBars = alphaBars.map { $0.squareRoot() }
        sqrtOneMinusAlphaBars = alphaBars.map { (1 - $0).squareRoot() }
        let n = betas.count
        var pv = [Double](repeating: 0, count: n), c1 = pv, c2 = pv
        for t in 0..<n {
            let ab = alphaBars[t], abp = alphaBarsPrevious[t]
            pv[t] = betas[t] * (1 - abp) / (1 - ab)
            c1[t] = betas[t] * abp.squareRoot() / (1 - ab)
            c2[t] = (1 - abp) * alphas[t].squareRoot() / (1 - ab)
        }
        posteriorVariance = pv
        posteriorLogVarianceClipped = (0..<n).map { Foundation.log($0 == 0 ? pv[1] : pv[$0]) }
        posteriorMeanCoefficientX0 = c1
        posteriorMeanCoefficientXt = c2
    }

    /// Signal-to-noise ratio ᾱ_t/(1 − ᾱ_t).
    public func snr(_ t: Int) -> Double { alphaBars[t] / (1 - alphaBars[t]) }
    /// log SNR(t) = log ᾱ_t − log(1 − ᾱ_t).
    public func logSNR(_ t: Int) -> Double { Foundation.log(alphaBars[t]) - Foundation.log1p(-alphaBars[t]) }
    /// SNR of every timestep.
    public var snrs: [Double] { (0..<timesteps).map(snr) }

    /// The reverse-step variance σ_t² of the chosen kind.
    public func reverseVariance(_ t: Int, _ kind: PosteriorVariance = .betaTilde) -> Double {
        kind == .beta ? betas[t] : posteriorVariance[t]
    }

    /// Throws unless every timestep is in 0..<T and there is one per row or a single one for all rows.
    func checkTimesteps(_ ts: [Int], rows: Int, _ op: String) throws {
        guard ts.count == rows || ts.count == 1 else {
            throw TensorError.invalidShape("\(op): \(ts.count) timesteps for \(rows) rows (give one per row, or one for all)")
        }
        if let bad = ts.first(where: { $0 < 0 || $0 >= timesteps }) {
            throw ConfigurationError(field: "DiffusionSchedule.timesteps", reason: "\(op): timestep \(bad) is outside 0..<\(timesteps)")
        }
    }

    /// `values[t]` for each timestep as a tensor of shape [n, 1, …, 1] (rank `rank`), ready to broadcast over a
    /// batch of rank `rank`; e.g. `coefficients(sqrtAlphaBars, at: t, rank: 2)` is [n, 1] for [n, D] data.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func coefficients<S: BLASScalar>(_ values: [Double], at ts: [Int], rank: Int = 2, as _: S.Type = S.self) throws -> Tensor<S> {
        guard values.count == timesteps else {
            throw TensorError.invalidShape("coefficients: \(values.count) values for a schedule of \(timesteps) timesteps")
        }
        try checkTimesteps(ts, rows: ts.count, "coefficients")
        let shape = [ts.count] + [Int](repeating: 1, count: Swift.max(0, rank - 1))
        return Tensor(unsafeUninitializedShape: shape) { p, _ in for (i, t) in ts.enumerated() { p[i] = S(values[t]) } }
    }

    /// x_t = √ᾱ_t·x₀ + √(1 − ᾱ_t)·ε: a sample of q(x_t | x₀) for each row (forward noising).
    /// `timesteps` holds one timestep per row of `x0` (first axis), or one for all rows.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func addNoise<S: BLASScalar>(_ x0: Tensor<S>, noise: Tensor<S>, timesteps ts: [Int]) throws -> Tensor<S> {
        try checkTimesteps(ts, rows: x0.shape.first ?? 0, "addNoise")
        return try rowwiseCombination(ts.map { sqrtAlphaBars[$0] }, x0, ts.map { sqrtOneMinusAlphaBars[$0] }, noise, "addNoise")
    }

    /// The posterior mean μ̃_t(x_t, x₀) = c₁·x₀ + c₂·x_t of q(x_{t−1} | x_t, x₀).
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func posteriorMean<S: BLASScalar>(x0: Tensor<S>, xt: Tensor<S>, timesteps ts: [Int]) throws -> Tensor<S> {
        try checkTimesteps(ts, rows: x0.shape.first ?? 0, "posteriorMean")
        return try rowwiseCombination(ts.map { posteriorMeanCoefficientX0[$0] }, x0, ts.map { posteriorMeanCoefficientXt[$0] }, xt, "posteriorMean")
    }
}
