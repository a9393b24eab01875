import Generative
import Linear
import Substrate

/// The families' defaults, in one place: what a `nil` field of a `TrainingRecipe` means.
extension TrainingRecipe {
    /// The family as `GenerativeFamilyName` (`dit` is ddpm with a DiT denoiser); an unknown name is a
    /// `ConfigurationError` naming `family`.
    public func familyName() throws -> GenerativeFamilyName {
        guard let f = GenerativeFamilyName(parsing: isDiT ? "ddpm" : family) else {
            throw ConfigurationError(field: "family", reason: "'\(family)' is not a family: expected ddpm, score-sde, flow-matching, consistency, dit (ddpm with a DiT denoiser), vae, vqvae, gan, wgan-gp, cgan, realnvp or latent-diffusion")
        }
        return f
    }

    /// `dit` as the family: ddpm with a DiT denoiser.
    public var isDiT: Bool { family.lowercased() == "dit" }

    /// The default number of training steps of a family: 10 000 for gan, 4 000 for wgan-gp, 2 000 otherwise.
    public static func defaultSteps(family: String) -> Int {
        switch family.lowercased() {
        case "gan": return 10_000
        case "wgan-gp": return 4000
        default: return 2000
        }
    }

    /// The GAN's R1 weight γ when `r1` is nil: 0, none. The penalty (γ/2)·‖∇ₓD(x)‖² on real data (Mescheder et al.
    /// 2018) stops the collapse onto some of the eight Gaussians lifted to 256 and 1024 dimensions (seed 3: MMD² 0.043
    /// and 0.498 without it against the baseline's 0.0081 and 0.0083; with γ = 1 0.0014 / precision 0.729 and
    /// −0.0003 / 0.993), but with γ = 1 eight Gaussians at 64 (precision 0.453 against 0.542; γ = 0.25 0.442) and moons
    /// at 256 (0.564 against 0.704) fail, which pass without it (0.820, 0.713).
    public static let defaultR1 = 0.0

    /// The learning rate of a denoising family when `lr` is nil (the other families use their papers' rates).
    public static let defaultLearningRate = 2e-3

    // The run's sizes with their defaults.
    public var stepsValue: Int { steps ?? Self.defaultSteps(family: family) }
    public var batchValue: Int { batchSize ?? 256 }
    public var seedValue: UInt64 { seed ?? 0 }
    public var hiddenValue: Int { hidden ?? 128 }
    public var blocksValue: Int { blocks ?? 3 }
    public var emaDecayValue: Double { emaDecay ?? 0.999 }
    /// isotropic for score-sde (a 2-D toy standardised in 256-D has variance ≈ 128 along its plane), standardize otherwise.
    public var scalingValue: String { scaling ?? (family.lowercased() == "score-sde" ? "isotropic" : "standardize") }
    var isDigits: Bool { data.lowercased() == "digits" }

    /// The prior of latent diffusion when `prior` is nil: flow matching. Measured with vst train's defaults on the
    /// checkerboard lifted to 64-D (seeds 3, 4, 5; MMD² against the Gaussian baseline's 0.0032 / 0.0033 / 0.0050):
    /// the DDPM prior (ε-prediction, DDIM 50 steps) gives 0.0039 / 0.0068 / 0.0044, the flow-matching prior
    /// 0.00024 / 0.0047 / 0.00020 (precision 0.78–0.79); moons and eight Gaussians in 64-D pass with both.
    public static let defaultLatentPrior = "flow-matching"

    /// Whether σ_data is fitted to the data when `sigmaData` is nil: consistency training on data other than the
    /// digits (distillation keeps 1, the digits in [−1, 1] the paper's 0.5).
    var fitsSigmaData: Bool { sigmaData == nil && teacher == nil && !isDigits }

    /// σ_data when `sigmaData` is nil: 0.5 for the digits, the fitted value for consistency training
    /// (`ConsistencySchedule.fittedSigmaData`, (λ₁·λ_med)^¼ of the training data's covariance), 1 otherwise.
    func defaultSigmaData(fitted: Double?) -> Double {
        if isDigits { return 0.5 }
        return teacher == nil ? (fitted ?? 1) : 1
    }

    /// Whether consistency training uses the improved recipe (Song & Dhariwal 2023); distillation never does.
    var improvedConsistencyTraining: Bool {
        let improved = (ctRecipe ?? "improved").lowercased() == "improved" || (improvedCT ?? false)
        return improved && teacher == nil
    }

    /// The recipe with the family's defaults written out: every field the family reads is set, the others are nil.
    /// `latentDimension` is the data-dependent latent size of vae and latent-diffusion
    /// (`VAEConfiguration.defaultLatentDimension`), nil for the other families; `fittedSigmaData` the data-dependent
    /// σ_data of consistency training (`ConsistencySchedule.fittedSigmaData`), nil for the others.
    public func resolved(latentDimension: Int? = nil, fittedSigmaData: Double? = nil) throws -> TrainingRecipe {
        let fam = try familyName()
        var r = TrainingRecipe(family: family, data: data)
        r.dim = dim; r.count = count
        r.steps = stepsValue; r.batchSize = batchValue; r.seed = seedValue; r.hidden = hiddenValue
        r.scaling = scalingValue
        switch fam {
        case .ddpm, .scoreSDE, .flowMatching, .consistency:
            r.lr = lr ?? Self.defaultLearningRate
            r.blocks = blocksValue; r.emaDecay = emaDecayValue
            r.skipVariance = fam == .consistency ? nil : (skipVariance ?? "none")
            r.denoiser = isDiT ? "dit" : (denoiser ?? "mlp").lowercased()
            if r.denoiser == "dit" {
                r.patch = patch ?? 2; r.depth = depth ?? 4; r.heads = heads ?? 4; r.width = width ?? 64; r.positional = positional ?? "sincos"
                r.blocks = nil
            }
            r.conditional = conditional ?? false
            if r.conditional == true { r.labelDropout = labelDropout ?? 0.1 }
            switch fam {
            case .ddpm:
                r.schedule = schedule ?? "linear"; r.timesteps = timesteps ?? 1000; r.target = target ?? "x0"
                r.variance = variance ?? "beta-tilde"; r.lossWeighting = lossWeighting ?? "velocity"; r.clipSample = clipSample
            case .scoreSDE:
                r.sde = sde ?? "vp"; r.prediction = prediction ?? "data"; r.lossWeighting = lossWeighting ?? "velocity"
            case .flowMatching:
                r.pairing = pairing ?? "none"; r.sigmaMin = sigmaMin ?? 1e-4; r.prediction = prediction ?? "data"
            default:
                let ict = improvedConsistencyTraining
                r.teacher = teacher
                r.prediction = prediction ?? (teacher == nil ? "edm" : "data")
                r.sigmaData = sigmaData ?? defaultSigmaData(fitted: fittedSigmaData)
                r.sigmaMax = sigmaMax ?? 80
                if teacher == nil {
                    r.ctRecipe = ict ? "improved" : "original"
                    r.ctInitialSteps = ctInitialSteps ?? (ict ? 10 : 2); r.ctFinalSteps = ctFinalSteps ?? 150
                    r.targetDecay = targetDecay ?? (ict ? 0 : nil)
                } else {
                    r.cdSteps = cdSteps ?? 18
                }
                r.metric = metric ?? (ict ? "pseudo-huber" : "l2")
                r.weighting = weighting ?? (ict ? "inverse-gap" : "uniform")
                r.noiseSampling = noiseSampling ?? (ict ? "lognormal" : "uniform")
            }
        case .vae, .latentDiffusion:
            r.lr = lr ?? 1e-3
            r.latentDim = latentDim ?? latentDimension
            r.hiddenLayers = hiddenLayers ?? 2
            r.beta = beta ?? 1; r.klWarmup = klWarmup ?? 0; r.likelihood = likelihood ?? "gaussian"
            if fam == .vae { r.latentComponents = latentComponents ?? VAEConfiguration.defaultLatentComponents }
            if fam == .latentDiffusion { r.vae = vae; r.prior = prior ?? Self.defaultLatentPrior; r.blocks = blocksValue; r.emaDecay = emaDecayValue }
        case .vqvae:
            r.lr = lr ?? 2e-4
            r.latentDim = latentDim ?? 8; r.hiddenLayers = hiddenLayers ?? 2
            r.codebookSize = codebookSize ?? 64; r.codePositions = codePositions ?? 4; r.commitment = commitment ?? 0.25
            r.emaCodebook = emaCodebook ?? false; r.restartEvery = restartEvery ?? 100
        case .gan, .wganGP, .cgan:
            // WGAN-GP's 6e-4 (lifted data); the conditional WGAN-GP keeps the paper's 1e-4; the GAN the paper's 2e-4.
            r.lr = lr ?? (fam == .gan ? 2e-4 : fam == .wganGP ? 6e-4 : 1e-4)
            r.latentDim = latentDim ?? 16; r.hiddenLayers = hiddenLayers ?? 3
            r.criticSteps = criticSteps ?? (fam == .gan ? 1 : 5)
            if fam != .gan { r.penalty = penalty ?? 10 } else { r.r1 = r1 ?? Self.defaultR1 }
            r.lrDecay = lrDecay ?? "none"; r.emaDecay = emaDecayValue
            if fam == .cgan { r.labelsFile = labelsFile }
        case .realNVP:
            r.lr = lr ?? 1e-3
            r.couplings = couplings ?? 8; r.hiddenLayers = hiddenLayers ?? 2; r.noActnorm = noActnorm ?? false; r.principalAxes = principalAxes ?? false; r.coupledFeatures = r.principalAxes! ? (coupledFeatures ?? 0) : coupledFeatures
            r.dequantize = dequantize ?? (isDigits ? 17 : 0)
        }
        return r
    }

    /// The checks that need no file, each a `ConfigurationError` naming the option.
    public func validate() throws {
        let fam = try familyName()
        let network = isDiT ? "dit" : (denoiser ?? "mlp").lowercased()
        guard network == "mlp" || network == "dit" else {
            throw ConfigurationError(field: "--denoiser", reason: "unknown denoiser '\(denoiser ?? "")': expected mlp or dit")
        }
        if teacher != nil && fam != .consistency { throw ConfigurationError(field: "--teacher", reason: "applies to the consistency family only") }
        let ema = emaDecayValue
        guard ema.isFinite, (0...1).contains(ema) else { throw ConfigurationError(field: "--ema-decay", reason: "must be a number in [0, 1], got \(ema)") }
        if (fam.isGAN || fam == .latentDiffusion) && ema >= 1 {
            let what = fam.isGAN ? "a GAN's generator average" : "latent diffusion's prior average"
            throw ConfigurationError(field: "--ema-decay", reason: "\(ema): \(what) needs a decay below 1 (0: none)")
        }
        if let l = lr { guard l.isFinite, l > 0 else { throw ConfigurationError(field: "--lr", reason: "must be a positive number, got \(l)") } }
        guard stepsValue >= 1 else { throw ConfigurationError(field: "--steps", reason: "must be ≥ 1, got \(stepsValue)") }
        guard batchValue >= 1 else { throw ConfigurationError(field: "--batch-size", reason: "must be ≥ 1, got \(batchValue)") }
        guard hiddenValue >= 1 else { throw ConfigurationError(field: "--hidden", reason: "must be ≥ 1, got \(hiddenValue)") }
        if let k = latentComponents {
            guard fam == .vae else { throw ConfigurationError(field: "--latent-components", reason: "applies to the vae family only") }
            guard (0...64).contains(k) else { throw ConfigurationError(field: "--latent-components", reason: "must be 0 (chosen by BIC) … 64, got \(k)") }
        }
        if let h = hiddenLayers, h < 0 { throw ConfigurationError(field: "--hidden-layers", reason: "must be ≥ 0, got \(h)") }
        switch scalingValue.lowercased() {
        case "standardize", "standardise", "isotropic": break
        default: throw ConfigurationError(field: "--scaling", reason: "\(scalingValue): expected standardize or isotropic")
        }
        if let c = ctRecipe, !["improved", "original"].contains(c.lowercased()) {
            throw ConfigurationError(field: "--ct-recipe", reason: "\(c): expected improved or original")
        }
    }
}
