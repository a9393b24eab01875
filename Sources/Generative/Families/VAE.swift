import Foundation
import Linear
import Neural

/// The decoder's likelihood p(x | z).
public enum VAELikelihood: String, Sendable, Codable, CaseIterable {
    /// Independent Bernoulli pixels for data in [0, 1]: log p(x|z) = Σ_d x_d·ℓ_d − softplus(ℓ_d), ℓ = decoder logits.
    case bernoulli
    /// Independent Gaussians N(μ_d(z), σ_d²) with a learned per-feature log-variance (clamped to
    /// [`minimumLogVariance`, 2] so constant features cannot make the density infinite).
    case gaussian
}

/// Where `VAE.sample` draws its latents from.
public enum VAELatentPrior: String, Sendable, Codable, CaseIterable {
    /// The prior of the ELBO, z ~ N(0, I) (Kingma & Welling 2014).
    case standard
    /// The Gaussian mixture fitted to the encoded training data after training (ex-post density estimation, Ghosh
    /// et al. 2020, §4): it follows the aggregate posterior q(z) = (1/n)Σ_i q(z|x_i) where N(0, I) does not
    /// (Dai & Wipf 2019).
    case mixture
}

/// The configuration of a VAE / β-VAE. Defaults follow Kingma & Welling (2014) with Adam instead of Adagrad:
/// two hidden layers of 256, β = 1 (Higgins et al. 2017 use β > 1 for disentangling), no KL warm-up (Bowman et
/// al. 2016 / Sønderby et al. 2016 anneal β linearly from 0 over the first steps), Adam lr 1e-3.
public struct VAEConfiguration: Sendable, Equatable, Codable {
    /// Data dimension D.
    public var dimension: Int
    /// Latent dimension d (9 for the vST core of the digits demo).
    public var latentDimension: Int = 9
    /// Width of the hidden layers of encoder and decoder.
    public var hidden: Int = 256
    /// Hidden layers of each network.
    public var hiddenLayers: Int = 2
    public var likelihood: VAELikelihood = .gaussian
    /// The weight β of the KL term (1: the ELBO; > 1: β-VAE).
    public var beta: Double = 1
    /// KL warm-up: β_t = β·min(1, t/warmupSteps) (0: none).
    public var warmupSteps: Int = 0
    /// Adam learning rate.
    public var learningRate: Double = 1e-3
    /// Lower bound of the Gaussian decoder's log-variance.
    public var minimumLogVariance: Double = -6
    /// Components K of the latent mixture fitted after training (`VAE.fitSamplingModel`); nil: the default
    /// `defaultLatentComponents`; 0: K in 1 … 10 chosen by BIC. (Optional so that configurations written before read.)
    public var latentComponents: Int? = nil

    /// K = 10 components, as Ghosh et al. (2020) fit to their autoencoders' latents.
    public static let defaultLatentComponents = 10

    public init(dimension: Int, latentDimension: Int = 9, hidden: Int = 256, hiddenLayers: Int = 2, likelihood: VAELikelihood = .gaussian,
                beta: Double = 1, warmupSteps: Int = 0, learningRate: Double = 1e-3) {
        self.dimension = dimension; self.latentDimension = latentDimension; self.hidden = hidden; self.hiddenLayers = hiddenLayers
        self.likelihood = likelihood; self.beta = beta; self.warmupSteps = warmupSteps; self.learningRate = learningRate
    }

    /// The latent dimension `vst train` chooses for `data` (model units): the effective rank of its covariance at 1 %
    /// of the leading eigenvalue (`CovarianceSpectrum.effectiveRank`), clamped to 2 … `cap` (and at most D). A latent
    /// space wider than the data's manifold leaves holes in the aggregate posterior that prior samples fall into:
    /// eight Gaussians lifted to 64-D (seed 3, 2 000 steps) give MMD² 0.0077 with d = 9, 0.0078 with d = 4 and 0.0039
    /// with d = 2 against the Gaussian baseline's 0.0072; over seeds 3–5 d = 9 fails all three and d = 2 passes all
    /// three. The digits (effective rank 43) keep d = 9, the vST core of the demo.
    public static func defaultLatentDimension<S: BLASScalar>(for data: Tensor<S>, cap: Int = 9) throws -> Int {
        let r = try CovarianceSpectrum(of: data, caller: "VAEConfiguration.defaultLatentDimension").effectiveRank()
        return Swift.min(data.shape[1], Swift.max(2, Swift.min(cap, r)))
    }

    func validate() throws {
        try ConfigurationError.check("VAEConfiguration",
                                     ["dimension": dimension >= 1, "latentDimension": latentDimension >= 1, "hidden": hidden >= 1, "hiddenLayers": hiddenLayers >= 0,
                                      "beta": beta >= 0, "warmupSteps": warmupSteps >= 0, "learningRate": learningRate > 0,
                                      "latentComponents": (latentComponents ?? 1) >= 0],
                                     reason: "VAE: invalid configuration \(self)")
    }

    /// β at training step t (with the linear warm-up).
    public func beta(atStep t: Int) -> Double {
        warmupSteps > 0 ? beta * Swift.min(1, Double(t) / Double(warmupSteps)) : beta
    }
}

/// A variational autoencoder (Kingma & Welling 2014) and β-VAE (Higgins et al. 2017) for vectors.
///
/// Encoder q(z|x) = N(μ(x), diag e^{logσ²(x)}) from one MLP with 2d outputs; reparameterisation
/// z = μ + e^{½logσ²}⊙ε, ε ~ N(0, I), so gradients reach μ and logσ²; prior p(z) = N(0, I); decoder p(x|z)
/// Bernoulli or Gaussian (`VAELikelihood`).
///
///     ELBO(x) = E_q[log p(x|z)] − KL(q(z|x) ‖ p(z)),   KL = ½ Σ_j (μ_j² + σ_j² − 1 − log σ_j²),
///     loss   = −E_q[log p(x|z)] + β_t·KL                 (one z per row, averaged over the batch).
///
/// For evaluation the importance-weighted bound (Burda et al. 2016) with K samples z_k ~ q(z|x),
///
///     IWAE_K(x) = log (1/K) Σ_k p(x|z_k)·p(z_k)/q(z_k|x)  ≥ ELBO(x) in expectation, → log p(x) as K → ∞,
///
/// is an honest log-likelihood estimate. Cost: one encoder and one decoder pass per row and sample.
///
/// Sampling the full generative model. After training (`finishTraining`, one pass over the training data) the
/// model fits (a) a Gaussian mixture to the posterior means μ(x_i) of the training rows (ex-post density
/// estimation, Ghosh et al. 2020, §4; `GaussianMixture`) and (b) the decoder's observation noise: the residuals
/// r_i = x_i − μ_dec(μ_enc(x_i)) give Σ̂ = (1/n)Σ_i r_i r_iᵀ, the maximum-likelihood covariance of a Gaussian
/// decoder N(μ_dec(z), Σ) given its trained mean (the calibrated decoder of Rybkin et al. 2021, "Simple and
/// Effective VAE Training with Calibrated Decoders", with a full covariance; Bishop 2006, §2.3.4). `sample` then
/// draws
///
///     z ~ Σ_k π_k N(μ_k, Σ_k),   x = μ_dec(z) + L·ε,  ε ~ N(0, I_D),  L·Lᵀ = Σ̂ + ε_r·I  (ε_r = 10⁻⁶·tr Σ̂ / D).
///
/// A full covariance, not the diagonal of Σ̂: the residuals are the data's noise floor plus the reconstruction error,
/// which lies along the manifold; the diagonal spreads that error over every feature, off the manifold, and on moons
/// in 64-D (seed 3) took precision from 0.992 to 0.669 (baseline 0.709), on eight Gaussians 64-D to 0.496 (0.542).
///
/// Why: a trained VAE's encoder is nearly deterministic and its aggregate posterior is not N(0, I) (Dai & Wipf
/// 2019): on moons lifted to 1024-D the posterior variance is 0.0003 and the encoded data are two crescents, so
/// N(0, I) latents decode off the data, and decoder means carry none of the data's off-manifold noise. Both fits
/// are saved in the model file (buffers `latent_prior.*`, `decoder_noise_factor` L); files written before have neither
/// and sample as before (N(0, I), decoder means), as does `SamplingOptions` `latentPrior: .standard`,
/// `decoderNoise: false`.
public final class VAE<S: BLASScalar>: GenerativeModel {
    public typealias Scalar = S
    public let configuration: VAEConfiguration
    public let encoder: FeedForward<S>
    public let decoder: FeedForward<S>
    /// The Gaussian decoder's per-feature log σ² (a parameter; unused by the Bernoulli decoder).
    public let decoderLogVariance: Variable<S>
    public let networks: ModuleGroup<S>
    lazy var optimizer = Adam(parameters: networks.parameters, learningRate: configuration.learningRate)
    /// Its one optimiser, for model files and exact resume.
    public var optimizers: [(name: String, optimizer: Adam<S>)] { [("optimizer", optimizer)] }

    public var familyName: GenerativeFamilyName { .vae }

    /// The Gaussian mixture over the latent space fitted after training (nil before, and in files written before).
    public private(set) var latentMixture: GaussianMixture?
    /// The lower Cholesky factor L [D, D] of the decoder noise covariance fitted after training (Gaussian decoder
    /// only; nil before).
    public private(set) var decoderNoiseFactor: Tensor<S>?
    /// The per-feature standard deviation of the fitted decoder noise, √diag(L·Lᵀ) [D].
    public var decoderNoiseStd: Tensor<S>? {
        guard let l = decoderNoiseFactor else { return nil }
        return try? l.square().sum(axis: 1).sqrt()
    }

    public init(_ c: VAEConfiguration, seed: UInt64) throws {
        try c.validate()
        configuration = c
        var g = RandomGenerator(seed: seed)
        let hidden = [Int](repeating: c.hidden, count: c.hiddenLayers)
        encoder = try FeedForward(sizes: [c.dimension] + hidden + [2 * c.latentDimension], activation: .silu, using: &g)
        decoder = try FeedForward(sizes: [c.latentDimension] + hidden + [c.dimension], activation: .silu, using: &g)
        decoderLogVariance = Variable(Tensor<S>.zeros([c.dimension]), requiresGrad: true)
        let holder = LogVarianceHolder(decoderLogVariance)
        networks = ModuleGroup([("encoder", encoder), ("decoder", decoder), ("likelihood", holder)])
    }


    // MARK: Networks

    /// μ and log σ² of q(z|x) for x [n, D] (recorded, for training).
    public func encoderOutputs(_ x: Variable<S>) throws -> (mean: Variable<S>, logVariance: Variable<S>) {
        let h = try encoder(x)
        let d = configuration.latentDimension
        return (try h.slice(0..<d, axis: 1), try h.slice(d..<(2 * d), axis: 1))
    }

    /// log p(x|z) per row [n], from the decoder's output for z (recorded).
    public func logLikelihood(_ x: Variable<S>, decoderOutput out: Variable<S>) throws -> Variable<S> {
        switch configuration.likelihood {
        case .bernoulli:
            return try (x * out - out.softplus()).sum(axis: 1)
        case .gaussian:
            let lv = clampedLogVariance()
            let d2 = try (x - out).square()
            let per = try (lv + d2 * (-lv).exp() + S(log(2 * Double.pi))) * S(-0.5)
            return try per.sum(axis: 1)
        }
    }

    func clampedLogVariance() -> Variable<S> {
        decoderLogVariance.clamp(min: S(configuration.minimumLogVariance), max: 2)
    }

    // MARK: Loss

    /// The training loss on fixed noise ε [n, d] with KL weight `beta`, and its parts (batch means):
    /// loss = −E[log p(x|z)] + β·KL; returns (loss, reconstruction log-likelihood, KL).
    public func loss(_ x: Tensor<S>, noise eps: Tensor<S>, beta: Double) throws -> (loss: Variable<S>, logLikelihood: Double, kl: Double) {
        try ModelSupport.checkRows(x, configuration.dimension, "VAE")
        let xv = Variable(x)
        let (mu, lv) = try encoderOutputs(xv)
        let z = try mu + (lv * S(0.5)).exp() * Variable(eps)
        let ll = try logLikelihood(xv, decoderOutput: decoder(z)).mean()
        let kl = try Loss.gaussianKL(mean: mu, logVariance: lv)
        let loss = try -ll + kl * S(beta)
        return (loss, Double(ll.scalar), Double(kl.scalar))
    }

    public func trainStep(_ x: Tensor<S>, labels: [Int]?, step: Int, using g: inout RandomGenerator) throws -> StepStatistics {
        // Once the weights move, the fits of an earlier `finishTraining` (a resumed run) no longer describe them.
        latentMixture = nil; decoderNoiseFactor = nil
        let eps = Tensor<S>.normal([x.shape[0], configuration.latentDimension], using: &g)
        let beta = configuration.beta(atStep: step)
        let (loss, ll, kl) = try loss(x, noise: eps, beta: beta)
        optimizer.zeroGrad()
        try loss.backward()
        try optimizer.step()
        return [("loss", Double(loss.scalar)), ("elbo", ll - kl), ("kl", kl), ("beta", beta)]
    }

    // MARK: Encode, decode, sample

    /// μ and log σ² of q(z|x) for x [n, D] (no tape).
    public func encode(_ x: Tensor<S>) throws -> (mean: Tensor<S>, logVariance: Tensor<S>) {
        try ModelSupport.checkRows(x, configuration.dimension, "VAE.encode")
        return try noGrad {
            let (m, l) = try encoderOutputs(Variable(x))
            return (m.value, l.value)
        }
    }

    /// The decoder's mean E[x|z] for z [n, d]: μ(z) (Gaussian) or sigmoid(logits) (Bernoulli).
    public func decode(_ z: Tensor<S>) throws -> Tensor<S> {
        try ModelSupport.checkRows(z, configuration.latentDimension, "VAE.decode")
        let out = try decoder.predict(z)
        return configuration.likelihood == .bernoulli ? out.sigmoid() : out
    }

    /// decode(μ(x)): the reconstruction of x through the posterior mean.
    public func reconstruct(_ x: Tensor<S>) throws -> Tensor<S> { try decode(encode(x).mean) }

    /// `n` samples; row i depends only on (seed, i). `prior` (nil: the mixture when one was fitted, else N(0, I))
    /// gives the latents, `decoderNoise` (nil: on when it was fitted) adds L·ε to the decoder's mean.
    /// - Throws: `ConfigurationError` (field `latentPrior` or `decoderNoise`) when asked for a fit the model does not
    ///   have (a model file written before, or a Bernoulli decoder's noise).
    public func sample(_ n: Int, seed: UInt64, prior: VAELatentPrior? = nil, decoderNoise: Bool? = nil) throws -> Tensor<S> {
        guard n >= 1 else { throw ConfigurationError(field: "n", reason: "VAE.sample: must be ≥ 1, got \(n)") }
        let d = configuration.latentDimension
        let z: Tensor<S>
        switch prior ?? (latentMixture == nil ? .standard : .mixture) {
        case .standard:
            z = ModelSupport.normal(n, d, seed: seed)
        case .mixture:
            guard let m = latentMixture else {
                throw ConfigurationError(field: "latentPrior", reason: "this VAE has no fitted latent mixture (a model written before it was fitted after training); use the standard prior or retrain")
            }
            let u: Tensor<Double> = SeededNoise(seed: seed).uniform([n, 1], step: 0, stream: NoiseStream(rawValue: 102), firstRow: 0)
            z = try m.sample(uniforms: u.scalars, normals: ModelSupport.normal(n, d, seed: seed, stream: 3) as Tensor<S>)
        }
        let mean = try decode(z)
        let noisy = decoderNoise ?? (decoderNoiseFactor != nil)
        guard noisy else { return mean }
        guard let l = decoderNoiseFactor else {
            throw ConfigurationError(field: "decoderNoise", reason: configuration.likelihood == .bernoulli
                ? "a Bernoulli decoder has no Gaussian observation noise" : "this VAE has no fitted decoder noise (a model written before it was fitted after training); retrain")
        }
        let eps: Tensor<S> = ModelSupport.normal(n, configuration.dimension, seed: seed, stream: 4)
        return try mean + matmul(eps, l, transposeB: true)
    }

    public func generate(_ n: Int, labels: [Int]?, seed: UInt64) throws -> Tensor<S> { try sample(n, seed: seed) }

    /// `n` samples with `options.latentPrior` and `options.decoderNoise` (nil: the fitted model's); no named
    /// samplers, steps, trajectory, labels or guidance.
    public func draw(_ n: Int, sampler: SamplerName?, steps: Int?, seed: UInt64, options: SamplingOptions,
                     recorder: TrajectoryRecorder<S>?, progress: ((Int, Int) -> Void)?) throws -> SamplingResult<S> {
        if let s = sampler { throw ConfigurationError(field: "sampler", reason: "sampler '\(s.rawValue)': a vae model has no named samplers") }
        if steps != nil { throw ConfigurationError(field: "steps", reason: "steps: a vae model samples in one pass") }
        if recorder != nil { throw ConfigurationError(field: "trajectory", reason: "trajectory: a vae model samples in one pass") }
        if options.label != nil { throw ConfigurationError(field: "SamplingOptions.label", reason: "this vae model is unconditional; it takes no label") }
        if options.guidance != 0 { throw ConfigurationError(field: "SamplingOptions.guidance", reason: "guidance: a vae model has no classifier-free guidance") }
        guard n >= 1 else { throw ConfigurationError(field: "n", reason: "sampling: need n ≥ 1, got \(n)") }
        let x = try sample(n, seed: seed, prior: options.latentPrior, decoderNoise: options.decoderNoise)
        progress?(n, n)
        return SamplingResult(samples: x, evaluations: 1, steps: 1)
    }

    // MARK: The fitted sampling model

    /// After training: evaluation mode, then `fitSamplingModel` on the training data (k-means++ seed 0).
    public func finishTraining(data: Tensor<S>) throws {
        networks.eval()
        try fitSamplingModel(data, seed: 0)
    }

    /// Fits the latent mixture (K = `configuration.latentComponents`, default 10; 0: by BIC over 1 … 10) to the
    /// posterior means of the rows of `x` (model units) and, for a Gaussian decoder, the factor L of the residuals'
    /// covariance Σ̂ + ε_r·I. One encoder and decoder pass over x in chunks of 4096 rows; Σ̂ is a sum of BLAS
    /// products RᵀR (n·D² multiply-adds), its Cholesky factor D³/3.
    public func fitSamplingModel(_ x: Tensor<S>, seed: UInt64) throws {
        try ModelSupport.checkRows(x, configuration.dimension, "VAE.fitSamplingModel")
        let n = x.shape[0], dim = configuration.dimension
        guard n >= 2 else { throw ConfigurationError(field: "VAE.fitSamplingModel", reason: "need at least 2 rows, got \(n)") }
        var latents: [Tensor<S>] = []
        var scatter = Tensor<S>.zeros([dim, dim])
        var start = 0
        while start < n {
            let rows = try x.slice(start..<Swift.min(n, start + 4096))
            let mu = try encode(rows).mean
            latents.append(mu)
            if configuration.likelihood == .gaussian {
                let r = try rows - decode(mu)
                scatter = try scatter + matmul(r, r, transposeA: true)
            }
            start += 4096
        }
        let z = (latents.count == 1 ? latents[0] : try Tensor.concatenate(latents, axis: 0)).cast(to: Double.self)
        let k = configuration.latentComponents ?? VAEConfiguration.defaultLatentComponents
        let fit = k == 0 ? try GaussianMixture.fitSelectingByBIC(z, maxComponents: 10, seed: seed)
                         : try GaussianMixture.fit(z, components: Swift.min(k, n), seed: seed)
        // Kept as the model file stores it (in S), so that a saved and loaded model samples exactly as this one.
        let m = fit.mixture
        latentMixture = try GaussianMixture(weights: m.weights.map { Double(S($0)) }, means: m.means.map { $0.map { Double(S($0)) } },
                                            covariances: m.covariances.map { $0.map { Double(S($0)) } })
        if configuration.likelihood == .gaussian {
            var c = scatter.cast(to: Double.self) * (1 / Double(n))
            var trace = 0.0
            for a in 0..<dim { trace += c[a, a] }
            let ridge = Swift.max(1e-6 * trace / Double(dim), 1e-12)
            var cs = c.scalars
            for a in 0..<dim { cs[a * dim + a] += ridge }
            c = try Tensor(cs, shape: [dim, dim])
            decoderNoiseFactor = try c.cholesky().cast(to: S.self)
        }
    }

    public var buffers: [String: Tensor<S>] {
        var b: [String: Tensor<S>] = [:]
        if let m = latentMixture {
            let k = m.components, d = m.dimension
            b["latent_prior.weights"] = Tensor(m.weights.map { S($0) })
            b["latent_prior.means"] = try? Tensor(m.means.flatMap { $0.map { S($0) } }, shape: [k, d])
            b["latent_prior.covariances"] = try? Tensor(m.covariances.flatMap { $0.map { S($0) } }, shape: [k, d, d])
        }
        if let l = decoderNoiseFactor { b["decoder_noise_factor"] = l }
        return b
    }

    /// Restores the fitted mixture and decoder noise; a file without them (written before) leaves both nil.
    /// - Throws: `ModelStateError` naming the buffer when one is present with the wrong shape or values.
    public func loadBuffers(_ b: [String: Tensor<S>]) throws {
        let d = configuration.latentDimension, dim = configuration.dimension
        let names = ["latent_prior.weights", "latent_prior.means", "latent_prior.covariances"]
        let present = names.filter { b[$0] != nil }
        if !present.isEmpty {
            guard present.count == 3, let w = b[names[0]], let m = b[names[1]], let c = b[names[2]] else {
                throw ModelStateError(reason: "VAE: the latent mixture needs all of \(names.joined(separator: ", ")); the file has only \(present.joined(separator: ", "))")
            }
            let k = w.shape.first ?? 0
            guard w.rank == 1, k >= 1, m.shape == [k, d], c.shape == [k, d, d] else {
                throw ModelStateError(reason: "VAE: latent_prior buffers must be weights [K], means [K, \(d)], covariances [K, \(d), \(d)]; got \(w.shape), \(m.shape), \(c.shape)")
            }
            let ms = m.scalars.map(Double.init), cs = c.scalars.map(Double.init)
            do {
                latentMixture = try GaussianMixture(weights: w.scalars.map(Double.init),
                                                    means: (0..<k).map { Array(ms[($0 * d)..<(($0 + 1) * d)]) },
                                                    covariances: (0..<k).map { Array(cs[($0 * d * d)..<(($0 + 1) * d * d)]) })
            } catch let e as ConfigurationError {
                throw ModelStateError(reason: "VAE: latent_prior: \(e.reason)")
            }
        } else {
            latentMixture = nil
        }
        if let l = b["decoder_noise_factor"] {
            let v = l.scalars
            guard l.shape == [dim, dim], v.allSatisfy(\.isFinite),
                  (0..<dim).allSatisfy({ a in v[a * dim + a] > 0 && ((a + 1)..<dim).allSatisfy { v[a * dim + $0] == 0 } }) else {
                throw ModelStateError(reason: "VAE: decoder_noise_factor must be a finite lower-triangular [\(dim), \(dim)] factor with a positive diagonal, got shape \(l.shape)")
            }
            decoderNoiseFactor = l
        } else {
            decoderNoiseFactor = nil
        }
    }

    // MARK: Evaluation

    /// The ELBO per row [n] with one z per row (noise from `seed`), and its batch means (log-likelihood, KL).
    public func elbo(_ x: Tensor<S>, seed: UInt64) throws -> (perRow: [Double], logLikelihood: Double, kl: Double) {
        try ModelSupport.checkRows(x, configuration.dimension, "VAE.elbo")
        return try noGrad {
            let xv = Variable(x)
            let (mu, lv) = try encoderOutputs(xv)
            let eps: Tensor<S> = ModelSupport.normal(x.shape[0], configuration.latentDimension, seed: seed, stream: 7)
            let z = try mu + (lv * S(0.5)).exp() * Variable(eps)
            let ll = try logLikelihood(xv, decoderOutput: decoder(z))
            let kl = try Loss.gaussianKL(mean: mu, logVariance: lv, reduction: .none)
            let per = zip(ll.value.scalars, kl.value.scalars).map { Double($0) - Double($1) }
            return (per, Double(ll.value.mean()), Double(kl.value.mean()))
        }
    }

    /// The importance-weighted estimate IWAE_K of log p(x) per row [n] (K ≥ 1; K = 1 is the ELBO with a sampled z).
    /// Computed in Double from the network outputs; cost K encoder-free decoder passes.
    public func iwae(_ x: Tensor<S>, samples K: Int, seed: UInt64) throws -> [Double] {
        try ModelSupport.checkRows(x, configuration.dimension, "VAE.iwae")
        guard K >= 1 else { throw ConfigurationError(field: "VAE.iwae(samples:)", reason: "K must be ≥ 1, got \(K)") }
        let n = x.shape[0], d = configuration.latentDimension
        return try noGrad {
            let xv = Variable(x)
            let (mu, lv) = try encoderOutputs(xv)
            var logW = [[Double]](repeating: [], count: n)
            let halfLog2pi = 0.5 * log(2 * Double.pi)
            for k in 0..<K {
                let eps: Tensor<S> = SeededNoise(seed: seed).normal([n, d], step: k, stream: NoiseStream(rawValue: 117), firstRow: 0)
                let z = try mu + (lv * S(0.5)).exp() * Variable(eps)
                let ll = try logLikelihood(xv, decoderOutput: decoder(z)).value.scalars
                let zs = z.value.scalars, es = eps.scalars, lvs = lv.value.scalars
                for i in 0..<n {
                    var logPrior = 0.0, logQ = 0.0
                    for j in 0..<d {
                        let zz = Double(zs[i * d + j]), e = Double(es[i * d + j])
                        logPrior += -halfLog2pi - 0.5 * zz * zz
                        logQ += -halfLog2pi - 0.5 * Double(lvs[i * d + j]) - 0.5 * e * e
                    }
                    logW[i].append(Double(ll[i]) + logPrior - logQ)
                }
            }
            return logW.map { w in
                let m = w.max()!
                return m + log(w.reduce(0) { $0 + exp($1 - m) } / Double(K))
            }
        }
    }
}

/// Holds the Gaussian decoder's log-variance as a module parameter named `log_variance`.
final class LogVarianceHolder<S: BLASScalar>: ModuleBase, Module {
    let value: Variable<S>
    init(_ v: Variable<S>) { value = v }
    var localParameters: [(String, Variable<S>)] { [("log_variance", value)] }
}
