import Foundation
import Linear
import Neural

/// The diffusion or flow family trained in the latent space.
public enum LatentPriorFamily: String, Sendable, Codable, CaseIterable {
    case ddpm
    case flowMatching = "flow-matching"
}

/// The configuration of latent diffusion (Rombach et al. 2022) over a frozen VAE. Defaults: DDPM with LDM's
/// scaled-linear schedule (β 0.00085 → 0.012, T = 1000) and ε-prediction (or flow matching with σ_min = 1e-4), a
/// residual-MLP denoiser of width 128 with 3 blocks, z sampled from the posterior q(z|x) (as LDM does) and scaled
/// by 1/std of the latents (LDM's scale factor, 0.18215 for SD's autoencoder), Adam lr 1e-3 with global-norm
/// clipping 1, and sampling with an exponential moving average of the prior's weights (decay 0.999 with the
/// (1 + u)/(10 + u) warm-up, as the denoising families; LDM samples with EMA weights too).
public struct LatentDiffusionConfiguration: Sendable, Equatable, Codable {
    public var family: LatentPriorFamily = .ddpm
    /// DDPM: beta schedule name (linear, cosine, scaled-linear) with its default parameters.
    public var betaSchedule: String = "scaled-linear"
    public var timesteps: Int = 1000
    public var hidden: Int = 128
    public var blocks: Int = 3
    /// Train on z ~ q(z|x) (true) or on the posterior mean.
    public var samplePosterior: Bool = true
    public var learningRate: Double = 1e-3
    public var clipNorm: Double = 1
    /// The latent scale factor (set from the latent statistics by `LatentDiffusion.init(vae:data:…)`).
    public var scaleFactor: Double = 1
    /// EMA decay d of the prior's sampling weights: after optimiser update u, θ̄ ← d_u·θ̄ + (1 − d_u)·θ with
    /// d_u = min(d, (1 + u)/(10 + u)); sampling uses θ̄. 0: sample with the raw weights (the behaviour before; a
    /// configuration written without this key reads as 0). The last iterate of Adam at lr 1e-3 wanders: on spiral in
    /// 64-D (seed 3) the raw prior's latent samples have mean (−0.10, 0.05) where the encoded data have (0.02, 0.01),
    /// latent MMD² 0.0017 against 0.0009 for a moment-matched Gaussian, and the decoded samples fail (MMD² 0.0038
    /// against the baseline's 0.0029).
    public var emaDecay: Double = 0.999

    enum CodingKeys: String, CodingKey {
        case family, betaSchedule, timesteps, hidden, blocks, samplePosterior, learningRate, clipNorm, scaleFactor, emaDecay
    }

    public init(from decoder: any Decoder) throws {
        let k = try decoder.container(keyedBy: CodingKeys.self)
        family = try k.decodeIfPresent(LatentPriorFamily.self, forKey: .family) ?? .ddpm
        betaSchedule = try k.decodeIfPresent(String.self, forKey: .betaSchedule) ?? "scaled-linear"
        timesteps = try k.decodeIfPresent(Int.self, forKey: .timesteps) ?? 1000
        hidden = try k.decodeIfPresent(Int.self, forKey: .hidden) ?? 128
        blocks = try k.decodeIfPresent(Int.self, forKey: .blocks) ?? 3
        samplePosterior = try k.decodeIfPresent(Bool.self, forKey: .samplePosterior) ?? true
        learningRate = try k.decodeIfPresent(Double.self, forKey: .learningRate) ?? 1e-3
        clipNorm = try k.decodeIfPresent(Double.self, forKey: .clipNorm) ?? 1
        scaleFactor = try k.decodeIfPresent(Double.self, forKey: .scaleFactor) ?? 1
        emaDecay = try k.decodeIfPresent(Double.self, forKey: .emaDecay) ?? 0
    }

    public init(family: LatentPriorFamily = .ddpm, betaSchedule: String = "scaled-linear", timesteps: Int = 1000, hidden: Int = 128,
                blocks: Int = 3, learningRate: Double = 1e-3) {
        self.family = family; self.betaSchedule = betaSchedule; self.timesteps = timesteps; self.hidden = hidden
        self.blocks = blocks; self.learningRate = learningRate
    }
}

/// Latent diffusion: a frozen (β-)VAE's encoder E and decoder D, and a diffusion or flow-matching model of the
/// scaled latents c·z, z = E(x) (sampled from q(z|x) or its mean), c = 1/std(z):
///
///     training:  z₀ = c·z,  L = the family's loss on z₀ (ε-MSE for DDPM, velocity MSE for flow matching)
///     sampling:  z₀ ~ the family's sampler in latent space (DDIM or an ODE solver),  x = D(z₀/c).
///
/// The sampler uses the EMA θ̄ of the prior's weights when `emaDecay` > 0 (saved as the buffers `ema.<path>` and
/// `ema_updates`). Cost per sample: the sampler's network evaluations in d dimensions plus one decoder pass.
public final class LatentDiffusion<S: BLASScalar>: GenerativeModel {
    public typealias Scalar = S
    public private(set) var configuration: LatentDiffusionConfiguration
    public let vae: VAE<S>
    public let denoiser: MLPDenoiser<S>
    public let ddpm: DDPM<S>?
    public let flow: FlowMatching<S>?
    public let networks: ModuleGroup<S>
    lazy var optimizer = Adam(parameters: denoiser.parameters, learningRate: configuration.learningRate)
    /// Its one optimiser, for model files and exact resume.
    public var optimizers: [(name: String, optimizer: Adam<S>)] { [("optimizer", optimizer)] }

    public var familyName: GenerativeFamilyName { .latentDiffusion }
    /// The latent dimension d.
    public var latentDimension: Int { vae.configuration.latentDimension }
    public var scaleFactor: Double { configuration.scaleFactor }
    /// The EMA of the prior network's weights (in `denoiser.namedParameters()` order) when `emaDecay` > 0, and its
    /// number of updates.
    public internal(set) var emaWeights: [Tensor<S>]?
    public private(set) var emaUpdates = 0

    /// A model over `vae` (frozen here) with the scale factor as given in `configuration`.
    public init(vae: VAE<S>, configuration c: LatentDiffusionConfiguration, seed: UInt64) throws {
        try ConfigurationError.check("LatentDiffusionConfiguration",
                                     ["scaleFactor": c.scaleFactor.isFinite && c.scaleFactor > 0, "timesteps": c.timesteps >= 2, "hidden": c.hidden >= 1,
                                      "blocks": c.blocks >= 0, "learningRate": c.learningRate > 0, "emaDecay": c.emaDecay.isFinite && c.emaDecay >= 0 && c.emaDecay < 1],
                                     reason: "latent diffusion: invalid configuration \(c)")
        configuration = c
        self.vae = vae
        vae.networks.requiresGrad(false)
        vae.networks.eval()
        denoiser = try MLPDenoiser(MLPDenoiserConfiguration(dimension: vae.configuration.latentDimension, hidden: c.hidden, blocks: c.blocks), seed: seed)
        switch c.family {
        case .ddpm:
            ddpm = try DDPM(denoiser: denoiser, configuration: DDPMConfiguration(betaSchedule: BetaSchedule(parsing: c.betaSchedule), timesteps: c.timesteps))
            flow = nil
        case .flowMatching:
            flow = try FlowMatching(denoiser: denoiser)
            ddpm = nil
        }
        networks = ModuleGroup([("vae", vae.networks), ("denoiser", denoiser)])
        if c.emaDecay > 0 { emaWeights = denoiser.parameters.map(\.value) }
    }

    // MARK: EMA of the prior

    public var buffers: [String: Tensor<S>] {
        guard let a = emaWeights else { return [:] }
        return WeightAverage.buffers(a, updates: emaUpdates, names: denoiser.namedParameters())
    }

    /// Restores the EMA (when the file has one; otherwise it restarts from the loaded weights).
    public func loadBuffers(_ b: [String: Tensor<S>]) throws {
        guard emaWeights != nil else { return }
        let stored = try WeightAverage.load(b, names: denoiser.namedParameters(), label: "latent diffusion: the prior's EMA weight")
        emaWeights = stored?.weights ?? denoiser.parameters.map(\.value)
        emaUpdates = stored?.updates ?? 0
    }

    /// θ̄ ← d_u·θ̄ + (1 − d_u)·θ with d_u = min(emaDecay, (1 + u)/(10 + u)).
    func updateEMA() throws {
        guard var a = emaWeights else { return }
        emaWeights = nil
        try WeightAverage.update(&a, updates: &emaUpdates, from: denoiser.parameters, decay: configuration.emaDecay)
        emaWeights = a
    }

    /// Runs `body` with the EMA weights in the prior network (the raw ones when there is no EMA), then puts the
    /// trained weights back.
    func withAveragedPrior<R>(_ body: () throws -> R) rethrows -> R {
        guard let a = emaWeights else { return try body() }
        return try WeightAverage.withWeights(a, in: denoiser.parameters, body)
    }

    /// A model whose scale factor is 1/std of the latents of `data` (every entry of the posterior means).
    public convenience init(vae: VAE<S>, data: Tensor<S>, configuration c: LatentDiffusionConfiguration, seed: UInt64) throws {
        var c = c
        c.scaleFactor = try LatentDiffusion.scaleFactor(vae: vae, data: data)
        try self.init(vae: vae, configuration: c, seed: seed)
    }

    /// 1/std of all entries of the posterior means of `data` (Rombach et al.: 1/std of the first batch's latents).
    public static func scaleFactor(vae: VAE<S>, data: Tensor<S>) throws -> Double {
        let mu = try vae.encode(data).mean
        let s = Double(mu.std())
        guard s > 0, s.isFinite else { throw ConfigurationError(field: "LatentDiffusionConfiguration.scaleFactor", reason: "cannot be fitted: the latents have zero or non-finite spread") }
        return 1 / s
    }


    // MARK: Latents

    /// Scaled latents c·z of data x [n, D]: z the posterior mean, or a posterior sample with noise `eps` [n, d].
    public func latents(_ x: Tensor<S>, noise eps: Tensor<S>? = nil) throws -> Tensor<S> {
        let (mu, lv) = try vae.encode(x)
        var z = mu
        if let e = eps { z = try mu + (lv * S(0.5)).exp() * e }
        return z * S(configuration.scaleFactor)
    }

    /// Data from scaled latents: D(z₀/c).
    public func decodeLatents(_ z0: Tensor<S>) throws -> Tensor<S> { try vae.decode(z0 * S(1 / configuration.scaleFactor)) }

    public func trainStep(_ x: Tensor<S>, labels: [Int]?, step: Int, using g: inout RandomGenerator) throws -> StepStatistics {
        let eps: Tensor<S>? = configuration.samplePosterior ? Tensor<S>.normal([x.shape[0], latentDimension], using: &g) : nil
        let z0 = try latents(x, noise: eps)
        let loss: Variable<S>
        if let m = ddpm { loss = try m.loss(x0: z0, labels: nil, using: &g) } else { loss = try flow!.loss(x0: z0, labels: nil, using: &g) }
        optimizer.zeroGrad()
        try loss.backward()
        clipGradientNorm(optimizer.parameters, maxNorm: configuration.clipNorm)
        try optimizer.step()
        try updateEMA()
        return [("loss", Double(loss.scalar))]
    }

    /// `n` scaled latents from the family's sampler (DDIM η = 0 for DDPM, an ODE solver for flow matching), with
    /// `steps` steps (default 50 DDIM / 20 RK4) and the EMA weights; the recorder sees the latent trajectory.
    public func sampleLatents(_ n: Int, seed: UInt64, steps: Int? = nil, recorder: TrajectoryRecorder<S>? = nil) throws -> SamplingResult<S> {
        let noise = SeededNoise(seed: seed)
        return try withAveragedPrior {
            if let m = ddpm { return try m.sampleDDIM(n, steps: steps ?? 50, noise: noise, recorder: recorder) }
            return try flow!.sample(n, method: .rk4, steps: steps ?? 20, noise: noise, recorder: recorder)
        }
    }

    /// `n` samples in data space: latents from the sampler, decoded through the VAE.
    public func sample(_ n: Int, seed: UInt64, steps: Int? = nil, recorder: TrajectoryRecorder<S>? = nil) throws -> Tensor<S> {
        try decodeLatents(sampleLatents(n, seed: seed, steps: steps, recorder: recorder).samples)
    }

    public func generate(_ n: Int, labels: [Int]?, seed: UInt64) throws -> Tensor<S> { try sample(n, seed: seed) }

    /// `n` samples with the prior's sampler (DDIM η = 0 or RK4; `steps`, default 50 / 20), the recorder seeing the
    /// latent trajectory; no named samplers, labels or guidance.
    public func draw(_ n: Int, sampler: SamplerName?, steps: Int?, seed: UInt64, options: SamplingOptions,
                     recorder: TrajectoryRecorder<S>?, progress: ((Int, Int) -> Void)?) throws -> SamplingResult<S> {
        if let s = sampler { throw ConfigurationError(field: "sampler", reason: "'\(s.rawValue)': latent diffusion samples with its prior's sampler (give --steps)") }
        if options.label != nil || options.guidance != 0 { throw ConfigurationError(field: options.label != nil ? "label" : "guidance", reason: "latent diffusion is unconditional: no label, no guidance") }
        guard n >= 1 else { throw ConfigurationError(field: "n", reason: "sampling: need n ≥ 1, got \(n)") }
        let r = try sampleLatents(n, seed: seed, steps: steps, recorder: recorder)
        let x = try decodeLatents(r.samples)
        progress?(n, n)
        return SamplingResult(samples: x, evaluations: r.evaluations + 1, steps: r.steps)
    }
}
