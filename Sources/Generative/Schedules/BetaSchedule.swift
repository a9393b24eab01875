import Foundation
import Linear

/// A DDPM noise schedule: the variances β₁ … β_T of the forward process q(x_t | x_{t−1}) = N(√(1 − β_t)·x_{t−1}, β_t·I).
///
/// Timesteps are 0-based in code (t = 0 … T − 1, as in diffusers and the original implementations); the paper's
/// β₁ is `betas[0]`. All schedules are computed in `Double`.
public enum BetaSchedule: Sendable, Equatable, CustomStringConvertible {
    /// β_t evenly spaced from `start` to `end` (Ho et al. 2020: 1e-4 → 0.02 for T = 1000).
    case linear(start: Double = 1e-4, end: Double = 0.02)
    /// The cosine schedule of Nichol & Dhariwal 2021: ᾱ(t) = f(t)/f(0), f(t) = cos²(((t/T) + s)/(1 + s) · π/2),
    /// β_t = min(1 − ᾱ((t + 1)/T)/ᾱ(t/T), `maxBeta`), with offset s = 0.008 and β clipped at 0.999.
    case cosine(offset: Double = 0.008, maxBeta: Double = 0.999)
    /// √β_t evenly spaced from √`start` to √`end`, then squared (latent/stable diffusion: 0.00085 → 0.012).
    case scaledLinear(start: Double = 0.00085, end: Double = 0.012)

    /// The name used on the command line and in model files: `linear`, `cosine` or `scaled-linear`.
    public var name: String {
        switch self {
        case .linear: return "linear"
        case .cosine: return "cosine"
        case .scaledLinear: return "scaled-linear"
        }
    }

    public var description: String {
        switch self {
        case let .linear(a, b): return "linear(\(a) → \(b))"
        case let .cosine(s, m): return "cosine(s = \(s), max β = \(m))"
        case let .scaledLinear(a, b): return "scaled-linear(\(a) → \(b))"
        }
    }

    /// Parses `linear`, `cosine` or `scaled-linear` (also `scaled_linear`) into the schedule with the paper's defaults.
    /// - Throws: `ConfigurationError` (`BetaSchedule.name`) naming the accepted names for anything else.
    public init(parsing name: String) throws {
        switch name.lowercased() {
        case "linear": self = .linear()
        case "cosine": self = .cosine()
        case "scaled-linear", "scaled_linear", "scaledlinear": self = .scaledLinear()
        default:
            throw ConfigurationError(field: "BetaSchedule.name", reason: "unknown beta schedule '\(name)': expected linear, cosine or scaled-linear")
        }
    }

    /// β₀ … β_{T−1} for `timesteps` = T steps.
    /// - Throws: `ConfigurationError` when T < 2 or the parameters give betas outside (0, 1).
    public func betas(timesteps: Int) throws -> [Double] {
        guard timesteps >= 2 else {
            throw ConfigurationError(field: "BetaSchedule.betas(timesteps:)", reason: "beta schedule: need at least 2 timesteps, got \(timesteps)")
        }
        let n = timesteps
        let betas: [Double]
        switch self {
        case let .linear(start, end):
            betas = (0..<n).map { start + (end - start) * Double($0) / Double(n - 1) }
        case let .scaledLinear(start, end):
            guard start >= 0, end >= 0 else {
                throw ConfigurationError(field: "BetaSchedule.scaledLinear", reason: "scaled-linear schedule: start and end must be ≥ 0, got \(start) and \(end)")
            }
            let a = start.squareRoot(), b = end.squareRoot()
            betas = (0..<n).map { let r = a + (b - a) * Double($0) / Double(n - 1); return r * r }
        case let .cosine(s, maxBeta):
            guard s >= 0, maxBeta > 0, maxBeta < 1 else {
                throw ConfigurationError(field: "BetaSchedule.cosine", reason: "cosine schedule: need offset ≥ 0 and 0 < max β < 1, got \(s) and \(maxBeta)")
            }
            func alphaBar(_ u: Double) -> Double { let c = Foundation.cos((u + s) / (1 + s) * Double.pi / 2); return c * c }
            betas = (0..<n).map { i in
                Swift.min(1 - alphaBar(Double(i + 1) / Double(n)) / alphaBar(Double(i) / Double(n)), maxBeta)
            }
        }
        if let bad = betas.firstIndex(where: { !($0 > 0 && $0 < 1) }) {
            throw ConfigurationError(field: "BetaSchedule", reason: "\(description): β at t = \(bad) is \(betas[bad]), outside (0, 1)")
        }
        return betas
    }
}
