import Foundation
import Linear

/// The samplers of the command line, and which family each belongs to.
public enum SamplerName: String, Sendable, CaseIterable {
    case ddpm, ddim
    case eulerMaruyama = "euler-maruyama", pc, pfODE = "pf-ode"
    case euler, heun, rk4, dopri5
    /// Consistency models: one evaluation, f_θ(σ_max·z, σ_max).
    case onestep
    /// Consistency models: Algorithm 1 of Song et al. 2023 over Karras levels (`consistency` is an alias).
    case multistep

    /// Parses a sampler name (`consistency` means `multistep`); an unknown name is an error listing the valid
    /// ones (never a fallback).
    public init(parsing name: String) throws {
        if name.lowercased() == "consistency" { self = .multistep; return }
        guard let s = SamplerName(rawValue: name.lowercased()) else {
            throw ConfigurationError(field: "SamplerName.name", reason: "unknown sampler '\(name)': expected one of \(SamplerName.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self = s
    }

    /// The samplers a family's model can use.
    public static func valid(for family: FamilyName) -> [SamplerName] {
        switch family {
        case .ddpm: return [.ddpm, .ddim]
        case .scoreSDE: return [.eulerMaruyama, .pc, .pfODE]
        case .flowMatching: return [.euler, .heun, .rk4, .dopri5]
        case .consistency: return [.onestep, .multistep]
        }
    }
}

/// Options of `GenerativeModel.draw` (and `GenerativeModelFile.sample`) beyond the sampler and the step count.
public struct SamplingOptions: Sendable {
    /// DDIM η (0: deterministic).
    public var eta: Double = 0
    public var spacing: TimestepSpacing = .leading
    /// The ODE solver of the probability-flow sampler.
    public var odeMethod: ODEMethod = .rk4
    public var tolerances: DormandPrince = DormandPrince()
    /// Samples per batch (rows keep their noise whatever the batching; only dopri5, whose error control looks at
    /// the whole batch, and pc, whose Langevin step size uses batch means, depend on the batch size).
    public var batchSize: Int = 4096
    /// Class-conditional models: the label of every sample (nil: sample i gets label i mod classCount, so the
    /// classes are balanced). Ignored by unconditional models.
    public var label: Int? = nil
    /// Classifier-free guidance scale w for class-conditional models (0: none).
    public var guidance: Double = 0
    /// vae: the latent prior (nil: the fitted mixture when the model has one, else N(0, I)).
    public var latentPrior: VAELatentPrior? = nil
    /// vae: add the fitted decoder noise L·ε to the decoder's mean (nil: when the model has it).
    public var decoderNoise: Bool? = nil
    /// score-sde: end with Tweedie's denoising step x̂₀ = (x_ε + s(ε)²·s_θ)/m(ε) (`ScoreSDEModel.sample`'s
    /// `denoise`; Song et al.'s samplers do by default).
    public var denoise: Bool = true
    public init() {}
}
