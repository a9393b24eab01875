import ArgumentParser
import Foundation
import Generative
import Linear
import Neural

/// `vst train <family>`: trains a generative model on a named data set or a file and writes a model file that
/// records the family, its configuration and the data scaling (so `vst sample` needs nothing else).
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a generative model (ddpm, score-sde, flow-matching, consistency, dit, vae, vqvae, gan, wgan-gp, cgan, realnvp, latent-diffusion) and save it as .safetensors.",
        discussion: """
        Data: digits, moons, eight-gaussians, checkerboard, spiral (with --dim D to lift a toy), or an [n, D] .npy / CSV \
        file. Toys and files are standardised per feature; digits use their [0, 16] → [−1, 1] scaling. Progress (step, \
        loss, steps/s, ETA) goes to stderr.

        Every family writes the same model-file format: weights, buffers (EMA weights, codebook statistics, …) and each \
        optimiser's moments keyed by parameter path, its configuration, the data scaling and the step, so --resume \
        (same --data and --seed, more --steps) continues any family exactly; files of earlier versions still load. A \
        run whose loss becomes NaN/∞ stops with an error and keeps the last checkpoint. SIGINT/SIGTERM: every family \
        finishes its step, saves and exits 130/143.

        Networks: --denoiser mlp (vectors) or dit (square images, D = side²: --patch, --depth, --heads, --width); `dit` \
        as the family means ddpm with a DiT. Consistency models train from data (ct) or, with --teacher \
        model.safetensors (a ddpm, score-sde or flow-matching model of the same data), by distillation (cd).

        Examples:
          vst train flow-matching --data moons --steps 3000 --seed 1 -o fm.safetensors
          vst train consistency --data moons --teacher fm.safetensors -o cd.safetensors
          vst train dit --data digits --patch 2 --depth 4 --heads 4 -o dit.safetensors
          vst train ddpm --data moons --dim 64 --monitor 200 -o m.safetensors   (watch m.monitor.html while it trains)

        Training-health monitor (--monitor K): every K steps and after the last, the model samples the same \
        --monitor-samples noise rows (its default sampler; ddpm DDIM 50 steps, score-sde Euler–Maruyama 50) and \
        vst analyses them: MMD², precision and recall against held-out data (a fresh draw of a toy; for digits and \
        files a seeded subset of the training rows) beside the moment-matched Gaussian baseline, k* and the regime, \
        the drift (Fréchet distance) from the previous point, and the mean training loss. The curves go to \
        <model>.monitor.json and a self-contained page <model>.monitor.html beside the model, rewritten atomically at \
        every point; one stderr line flags a run that looks diverging (non-finite samples, MMD² rising over 3 points \
        by more than 2× or back above the baseline's after being below it, a non-finite loss) or collapsing (precision ≥ 0.5 with recall < 0.05, k* down to 0/1 while \
        the data's is higher). The monitor never changes the training (the weights, EMA and optimiser state saved are the same with or without it).
        """)

    @Argument(help: "Family: ddpm, score-sde, flow-matching, consistency, dit (= ddpm with a DiT denoiser), vae, vqvae, gan, wgan-gp, cgan, realnvp or latent-diffusion.") var family: String
    @Option(help: "Training data: a data name or a .npy / CSV file.") var data: String
    @Option(help: "Lift a 2-D toy to this dimension.") var dim: Int?
    @Option(help: "Samples drawn from a toy (default 10000) or taken from a file (default all).") var count: Int?
    @Option(name: .customLong("steps"), help: "Training steps (default 2000; gan 10 000: the non-saturating GAN on moons in 64-D reaches precision 0.40 at 2 000 steps, 0.53 at 6 000 and 0.76 at 10 000 against the Gaussian's 0.71; wgan-gp 4 000, with a learning rate of 6e-4).") var stepsOption: Int?
    @Option(name: .customLong("batch-size"), help: "Mini-batch size.") var batchSize: Int = 256
    @Option(name: .customLong("scaling"), help: "Toys and files: standardize (per feature; the default) or isotropic (centre, then one scale for all features so the leading principal direction has unit variance; score-sde's default: a 2-D toy standardised in 256-D has variance ≈ 128 along its plane, and score-sde on moons there gives MMD² 0.025 standardised, 0.0009 isotropic, against the Gaussian's 0.0068).") var dataScalingOption: String?
    @Option(help: "Peak learning rate (AdamW, warm-up then cosine decay).") var lr: Double = 2e-3
    @Option(help: "Seed of the network initialisation, batches and noise.") var seed: UInt64 = 0
    @Option(help: "Hidden width of the MLP denoiser.") var hidden: Int = 128
    @Option(help: "Residual blocks of the MLP denoiser.") var blocks: Int = 3
    @Option(name: .customLong("ema-decay"), help: "EMA decay of the sampling weights (diffusion families and latent-diffusion's prior; gan, wgan-gp, cgan: an average of the generator; 0: none).") var emaDecay: Double = 0.999
    @Option(help: "ddpm: beta schedule (linear, cosine, scaled-linear).") var schedule: String = "linear"
    @Option(help: "ddpm: diffusion steps T.") var timesteps: Int = 1000
    @Option(help: "ddpm: prediction target (x0, the default: learns data on a low-dimensional manifold in high dimension; epsilon, the paper's; v).") var target: String = "x0"
    @Option(help: "ddpm: posterior variance (beta or beta-tilde).") var variance: String = "beta-tilde"
    @Option(name: .customLong("loss-weighting"), help: "ddpm: weight of each timestep's error: velocity (1/(1 − ᾱ_t), bounded; the default, with --target x0 the v-loss) or uniform (the paper's L_simple). score-sde: velocity (the x̂₀ error weighted by SNR + 1; the default), variance (λ = s², the paper's, the x̂₀ error weighted by the SNR) or likelihood (λ = g²).") var lossWeighting: String = "velocity"
    @Option(name: .customLong("clip-sample"), help: "ddpm: clip x̂₀ to [−c, c] while sampling (model units).") var clipSample: Double?
    @Option(help: "score-sde: vp, sub-vp or ve (ve: σ_max = the data's largest pairwise distance).") var sde: String = "vp"
    @Option(help: "flow-matching: minibatch OT pairing (none, exact, sinkhorn).") var pairing: String = "none"
    @Option(name: .customLong("sigma-min"), help: "flow-matching: σ_min of the linear path.") var sigmaMin: Double = 1e-4
    @Option(name: .customLong("skip-variance"), help: "ddpm (x0), flow-matching and score-sde (data): variance v of a Gaussian skip x̂ = c(t)·x_t + network, the exact denoiser of an isotropic noise floor: none (the default), median (the median eigenvalue of the training data's covariance) or a number. It restores the data's noise floor around a manifold (recall) at the cost of precision in high D; see the README.") var skipVariance: String = "none"
    @Option(help: "flow-matching, score-sde and consistency: what the network predicts: data (x̂, the default of flow-matching, score-sde and consistency distillation: learns data on a low-dimensional manifold in high dimension; EDM's c_skip keeps full-rank noise a small MLP cannot cancel, e.g. cd on moons in 64-D: precision 0 with edm, 0.87–0.89 with data), or velocity (flow matching) / noise (score-sde) / edm (EDM's c_skip/c_out, the papers' choice and consistency training's default: with data prediction improved ct reaches precision 0.46 instead of 0.89).") var prediction: String?
    @Option(help: "Network: mlp or dit (dit needs square images: D = side² values per row).") var denoiser: String = "mlp"
    @Option(help: "dit: patch side p (divides the image side).") var patch: Int = 2
    @Option(help: "dit: number of DiT blocks.") var depth: Int = 4
    @Option(help: "dit: attention heads.") var heads: Int = 4
    @Option(help: "dit: token width (divisible by heads and by 4).") var width: Int = 64
    @Option(help: "dit: positional embedding (sincos or learned).") var positional: String = "sincos"
    @Flag(help: "Condition on the data's class labels (digits), for class-conditional sampling and guidance.") var conditional = false
    @Option(name: .customLong("label-dropout"), help: "With --conditional: probability of the null label (classifier-free guidance).") var labelDropout: Double = 0.1
    @Option(help: "consistency: distil from this trained ddpm, score-sde or flow-matching model file (cd); without it, consistency training (ct).") var teacher: String?
    @Option(name: .customLong("sigma-data"), help: "consistency: σ_data of the EDM parameterisation (default: 0.5 for the digits in [−1, 1]; for consistency training on other data (λ₁·λ_med)^¼ of the training data's covariance, 1 for isotropic data, 0.45 / 0.89 / 1.67 for eight Gaussians lifted to 64 / 256 / 1024-D; 1 for distillation). With σ_data 1, eight Gaussians in 64-D reached precision 0.48 against the Gaussian baseline's 0.54 and moons in 1024-D MMD² 0.0101 against 0.0063; with the fitted value 0.88 and 0.0012.") var sigmaData: Double?
    @Option(name: .customLong("sigma-max"), help: "consistency: σ_max (80 in the paper).") var sigmaMax: Double = 80
    @Option(name: .customLong("ct-final-steps"), help: "consistency training: s₁ of the N(k) curriculum (N(K) = s₁ + 1).") var ctFinalSteps: Int = 150
    @Option(name: .customLong("cd-steps"), help: "consistency distillation: number N of Karras boundaries.") var cdSteps: Int = 18
    @Option(help: "consistency: distance (l2, pseudo-huber, pseudo-huber:c; default: pseudo-huber for the improved ct recipe, l2 otherwise).") var metric: String?
    @Option(name: .customLong("ct-initial-steps"), help: "consistency training: s₀ of the N(k) curriculum (default: 10 for the improved recipe, 2 for the original).") var ctInitialSteps: Int?
    @Option(name: .customLong("target-decay"), help: "consistency training: a fixed target-network decay instead of μ(k) (0: improved CT; default: 0 for the improved recipe, μ(k) for the original).") var targetDecay: Double?
    @Option(help: "consistency: loss weighting over intervals (uniform, inverse-gap; default: inverse-gap for the improved ct recipe, uniform otherwise).") var weighting: String?
    @Option(name: .customLong("noise-sampling"), help: "consistency: interval sampling (uniform, lognormal, lognormal:mean:std; default: lognormal for the improved ct recipe, uniform otherwise).") var noiseSampling: String?
    @Option(name: .customLong("ct-recipe"), help: "consistency training: improved (Song & Dhariwal 2023: target decay 0, pseudo-Huber, inverse-gap weights, log-normal intervals, s₀ = 10; the default: the original recipe does not learn in 2000 steps, e.g. moons in 64-D MMD² 0.28, precision 0) or original (Song et al. 2023: μ(k) target, l2, uniform; the paper's).") var ctRecipe: String = "improved"
    @Flag(name: .customLong("improved-ct"), help: "consistency: improved CT (the default; same as --ct-recipe improved).") var improvedCT = false
    @Option(name: .customLong("checkpoint-every"), help: "Also save the output every this many steps (0: at the end only).") var checkpointEvery: Int = 0
    @Option(help: "Continue training from this checkpoint (written by vst train with the same family).") var resume: String?
    @Option(name: [.short, .customLong("output")], help: "Model file to write (.safetensors).") var output: String
    @Flag(help: "Overwrite an existing output file (and its .monitor.json / .monitor.html).") var force = false
    @Option(help: ArgumentHelp("Training-health monitor: every K steps (and after the last) sample a fixed noise batch and write MMD², precision/recall (with the Gaussian baseline), k*, regime, drift and loss curves to <model>.monitor.json and <model>.monitor.html (K ≥ 1).", valueName: "K")) var monitor: Int?
    @Option(name: .customLong("monitor-samples"), help: "--monitor: rows of the fixed noise batch (≥ 8).") var monitorSamples: Int = 512
    @Flag(help: "Hide progress on stderr.") var quiet = false
    @Option(help: ArgumentHelp("Train from this recipe: a JSON file (the long option names without --, e.g. {\"family\": \"ddpm\", \"data\": \"moons\", \"steps\": 500}) or a model file written by vst train (the recipe it records); options given on the command line with another value than their default override it.", valueName: "FILE")) var recipe: String?
    @Flag(name: .customLong("print-recipe"), help: "Print the resolved recipe (every default written out) as JSON and exit without training.") var printRecipe = false
    @OptionGroup(title: "VAE, VQ-VAE, GAN, RealNVP and latent-diffusion options") var familyOptions: FamilyTrainOptions

    func run() throws {
        var r = try makeRecipe()
        if let path = recipe { r = try TrainingRecipe.load(path).overridden(by: r) }
        var job = try TrainingJob(recipe: r)
        if printRecipe { print(try job.resolvedRecipe().json()); return }
        if !quiet {
            job.progressEvery = Swift.max(1, r.stepsValue / 20)
            job.progress = TrainingProgressLine.draw
            job.log = { FileHandle.standardError.write(Data($0.utf8)) }
        }
        var o = TrainingRunOptions(output: output, resume: resume)
        o.force = force
        o.checkpointEvery = checkpointEvery
        o.monitor = monitor
        o.monitorSamples = monitorSamples
        print(try job.run(o).summary)
    }
}
