import ArgumentParser
import Foundation
import Generative

/// Options of the families that own several networks or a latent space (vae, vqvae, gan, wgan-gp, cgan, realnvp,
/// latent-diffusion) in `vst train`.
struct FamilyTrainOptions: ParsableArguments {
    @Option(name: .customLong("latent-dim"), help: "vae, vqvae (code dimension), gan/wgan-gp/cgan (noise): latent dimension (default: vae and latent-diffusion the effective rank of the data covariance at 1 % of its largest eigenvalue, clamped to 2…9 — 2 for a lifted 2-D toy, 9 for digits; 8 for vqvae codes, 16 for GANs).")
    var latentDim: Int?
    @Option(name: .customLong("hidden-layers"), help: "Hidden layers of each network of vae, vqvae, gan, wgan-gp, cgan and realnvp (default: the family's).")
    var hiddenLayers: Int?
    @Option(help: "vae: KL weight β (1: ELBO, > 1: β-VAE).") var beta: Double = 1
    @Option(name: .customLong("kl-warmup"), help: "vae: steps of the linear KL warm-up of β (0: none).") var klWarmup: Int = 0
    @Option(help: "vae: decoder likelihood, gaussian or bernoulli (bernoulli maps the data to [0, 1]).") var likelihood: String = "gaussian"
    @Option(name: .customLong("latent-components"), help: "vae: components of the Gaussian mixture fitted to the encoded training data after training, which vst sample draws latents from (Ghosh et al. 2020; 0: chosen by BIC over 1…10).")
    var latentComponents: Int = VAEConfiguration.defaultLatentComponents
    @Option(name: .customLong("codebook-size"), help: "vqvae: number of codes K.") var codebookSize: Int = 64
    @Option(name: .customLong("code-positions"), help: "vqvae: codes per sample.") var codePositions: Int = 4
    @Option(help: "vqvae: commitment weight β.") var commitment: Double = 0.25
    @Flag(name: .customLong("ema-codebook"), help: "vqvae: EMA codebook updates (decay 0.99) instead of the codebook loss.") var emaCodebook = false
    @Option(name: .customLong("restart-every"), help: "vqvae: restart codes unused for this many steps (0: never).") var restartEvery: Int = 100
    @Option(name: .customLong("critic-steps"), help: "gan/wgan-gp/cgan: discriminator steps per generator step (default 1, wgan-gp 5).") var criticSteps: Int?
    @Option(help: "wgan-gp/cgan: gradient-penalty weight λ.") var penalty: Double = 10
    @Option(name: .customLong("lr-decay"), help: "gan/wgan-gp/cgan: learning-rate schedule, none (constant, the papers' algorithms; the default) or linear (to 0 at --steps, as in the WGAN-GP authors' code; on moons in 64-D it did worse: gan precision 0.23 at 10 000 steps, wgan-gp 0.33 at 2 000).") var lrDecay: String = "none"
    @Option(help: "gan: weight γ of the R1 penalty (γ/2)·‖∇ₓD(x)‖² on real data (Mescheder et al. 2018; 0: none, the default). γ = 1 stops the collapse onto some of eight Gaussians at D = 256 and 1024 but fails eight Gaussians at 64 and moons at 256.") var r1: Double = TrainingRecipe.defaultR1
    @Option(name: .customLong("labels-file"), help: "cgan: integer class labels (.npy, one per row) for data without labels.") var labelsFile: String?
    @Option(help: "realnvp: number of affine coupling layers.") var couplings: Int = 8
    @Flag(name: .customLong("no-actnorm"), help: "realnvp: no ActNorm layers.") var noActnorm = false
    @Flag(name: .customLong("principal-axes"), help: "realnvp: rotate the data onto its principal axes before the first layer (orthogonal, log-det 0).") var principalAxes = false
    @Option(name: .customLong("coupled-features"), help: "realnvp with --principal-axes: how many leading principal features the couplings transform; the others are factored out as Gaussians of fitted scale (default 0: the data's effective rank, eigenvalues ≥ 1 % of the largest, at least 2; a number ≥ D: all).") var coupledFeatures: Int?
    @Option(help: "realnvp: uniform dequantisation with this many integer levels of the data's original units (default: 17 for digits, none otherwise; 0: none).") var dequantize: Int?
    @Option(help: "latent-diffusion: frozen VAE model file (default: train one first with the same --steps and --latent-dim).") var vae: String?
    @Option(help: "latent-diffusion: the latent family, flow-matching (the default: on the checkerboard in 64-D it gives MMD² 0.0002–0.0047 over seeds 3–5 where ddpm gives 0.0039–0.0068) or ddpm.") var prior: String = TrainingRecipe.defaultLatentPrior
}

/// Options of `vst sample` kept for older command lines.
struct FamilySampleOptions: ParsableArguments {
    /// The old spelling of `--label` for cgan, still accepted.
    @Option(name: .customLong("class-label"), help: .hidden) var classLabel: Int?
}

extension TrainCommand {
    /// The recipe the options ask for: an option left at its default is nil (the family's default), so that a
    /// --recipe file's value stands unless the option is given with another value. --lr 2e-3 is the default: vae,
    /// vqvae, the GANs, realnvp and latent-diffusion then use their papers' learning rates.
    func makeRecipe() throws -> TrainingRecipe {
        func given<T: Equatable>(_ v: T, _ d: T) -> T? { v == d ? nil : v }
        let o = familyOptions
        var r = TrainingRecipe(family: family, data: data)
        r.dim = dim; r.count = count; r.steps = stepsOption; r.batchSize = given(batchSize, 256); r.scaling = dataScalingOption
        r.lr = given(lr, TrainingRecipe.defaultLearningRate); r.seed = given(seed, 0)
        r.hidden = given(hidden, 128); r.blocks = given(blocks, 3); r.emaDecay = given(emaDecay, 0.999)
        r.schedule = given(schedule, "linear"); r.timesteps = given(timesteps, 1000); r.target = given(target, "x0")
        r.variance = given(variance, "beta-tilde"); r.lossWeighting = given(lossWeighting, "velocity"); r.clipSample = clipSample
        r.sde = given(sde, "vp"); r.pairing = given(pairing, "none"); r.sigmaMin = given(sigmaMin, 1e-4)
        r.skipVariance = given(skipVariance, "none"); r.prediction = prediction
        r.denoiser = given(denoiser, "mlp"); r.patch = given(patch, 2); r.depth = given(depth, 4); r.heads = given(heads, 4)
        r.width = given(width, 64); r.positional = given(positional, "sincos")
        r.conditional = given(conditional, false); r.labelDropout = given(labelDropout, 0.1)
        r.teacher = teacher; r.sigmaData = sigmaData; r.sigmaMax = given(sigmaMax, 80); r.ctFinalSteps = given(ctFinalSteps, 150)
        r.cdSteps = given(cdSteps, 18); r.metric = metric; r.ctInitialSteps = ctInitialSteps; r.targetDecay = targetDecay
        r.weighting = weighting; r.noiseSampling = noiseSampling; r.ctRecipe = given(ctRecipe, "improved"); r.improvedCT = given(improvedCT, false)
        r.latentDim = o.latentDim; r.hiddenLayers = o.hiddenLayers; r.beta = given(o.beta, 1); r.klWarmup = given(o.klWarmup, 0)
        r.latentComponents = given(o.latentComponents, VAEConfiguration.defaultLatentComponents)
        r.likelihood = given(o.likelihood, "gaussian"); r.codebookSize = given(o.codebookSize, 64); r.codePositions = given(o.codePositions, 4)
        r.commitment = given(o.commitment, 0.25); r.emaCodebook = given(o.emaCodebook, false); r.restartEvery = given(o.restartEvery, 100)
        r.criticSteps = o.criticSteps; r.penalty = given(o.penalty, 10); r.lrDecay = given(o.lrDecay, "none"); r.r1 = given(o.r1, TrainingRecipe.defaultR1)
        r.labelsFile = o.labelsFile; r.couplings = given(o.couplings, 8); r.noActnorm = given(o.noActnorm, false); r.principalAxes = given(o.principalAxes, false); r.coupledFeatures = o.coupledFeatures; r.dequantize = o.dequantize
        r.vae = o.vae; r.prior = given(o.prior, TrainingRecipe.defaultLatentPrior)
        return r
    }
}
