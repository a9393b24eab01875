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
        abstract: "Train a generative model (ddpm, score-sde, flow-matching) and save it as .safetensors.",
        discussion: """
        Data: digits, moons, eight-gaussians, checkerboard, spiral (with --dim D to lift a toy), or an [n, D] .npy / CSV file.
        Toys and files are standardised per feature; digits use their [0, 16] → [−1, 1] scaling. Progress (step, loss,
        steps/s, ETA) goes to stderr. The output holds raw and EMA weights and the step; --resume continues from it.
        Example: vst train flow-matching --data moons --steps 3000 --seed 1 -o fm.safetensors
        """)

    @Argument(help: "Family: ddpm, score-sde or flow-matching.") var family: String
    @Option(help: "Training data: a data name or a .npy / CSV file.") var data: String
    @Option(help: "Lift a 2-D toy to this dimension.") var dim: Int?
    @Option(help: "Samples drawn from a toy (default 10000) or taken from a file (default all).") var count: Int?
    @Option(help: "Training steps.") var steps: Int = 2000
    @Option(name: .customLong("batch-size"), help: "Mini-batch size.") var batchSize: Int = 256
    @Option(help: "Peak learning rate (AdamW, warm-up then cosine decay).") var lr: Double = 2e-3
    @Option(help: "Seed of the network initialisation, batches and noise.") var seed: UInt64 = 0
    @Option(help: "Hidden width of the MLP denoiser.") var hidden: Int = 128
    @Option(help: "Residual blocks of the MLP denoiser.") var blocks: Int = 3
    @Option(name: .customLong("ema-decay"), help: "EMA decay of the sampling weights.") var emaDecay: Double = 0.999
    @Option(help: "ddpm: beta schedule (linear, cosine, scaled-linear).") var schedule: String = "linear"
    @Option(help: "ddpm: diffusion steps T.") var timesteps: Int = 1000
    @Option(help: "ddpm: prediction target (epsilon, x0, v).") var target: String = "epsilon"
    @Option(help: "ddpm: posterior variance (beta or beta-tilde).") var variance: String = "beta-tilde"
    @Option(name: .customLong("clip-sample"), help: "ddpm: clip x̂₀ to [−c, c] while sampling (model units).") var clipSample: Double?
    @Option(help: "score-sde: vp, sub-vp or ve (ve: σ_max = the data's largest pairwise distance).") var sde: String = "vp"
    @Option(help: "flow-matching: minibatch OT pairing (none, exact, sinkhorn).") var pairing: String = "none"
    @Option(name: .customLong("sigma-min"), help: "flow-matching: σ_min of the linear path.") var sigmaMin: Double = 1e-4
    @Option(name: .customLong("checkpoint-every"), help: "Also save the output every this many steps (0: at the end only).") var checkpointEvery: Int = 0
    @Option(help: "Continue training from this checkpoint (written by vst train with the same family).") var resume: String?
    @Option(name: [.short, .customLong("output")], help: "Model file to write (.safetensors).") var output: String
    @Flag(help: "Overwrite an existing output file.") var force = false
    @Flag(help: "Hide progress on stderr.") var quiet = false
    @OptionGroup(title: "VAE, VQ-VAE, GAN, RealNVP and latent-diffusion options") var generativeII: GenerativeIITrainOptions

    func run() throws {
        if try runGenerativeII() { return }
        let fam: FamilyName
        do { fam = try FamilyName(parsing: family) } catch { throw InputError("\(error)") }
        if !force && resume == nil && FileManager.default.fileExists(atPath: output) {
            throw InputError("\(output) exists; pass --force to overwrite it")
        }
        let source = try DataSource(parsing: data, dimension: dim)
        let loaded = try source.load(count: count, seed: seed, as: Float.self)
        let scaling: AffineScaling
        let x: Tensor<Float>
        if case .digits = source {
            scaling = loaded.scaling; x = loaded.data
        } else {
            scaling = try AffineScaling.standardizing(loaded.data); x = try scaling.apply(loaded.data)
        }
        let dc = MLPDenoiserConfiguration(dimension: x.shape[1], hidden: hidden, blocks: blocks)
        let net = try MLPDenoiser<Float>(dc, seed: seed)
        let model: any TrainableFamily<Float>
        switch fam {
        case .ddpm:
            model = try DDPM(denoiser: net, configuration: DDPMConfiguration(betaSchedule: BetaSchedule(parsing: schedule), timesteps: timesteps,
                                                                             target: PredictionTarget(parsing: target),
                                                                             variance: PosteriorVariance(parsing: variance), clipSample: clipSample))
        case .scoreSDE:
            var s = try ScoreSDE(parsing: sde)
            if case .ve = s { s = try ScoreSDE.ve(fittedTo: x.shape[0] > 2000 ? x.slice(0..<2000) : x) }
            model = try ScoreSDEModel(denoiser: net, configuration: ScoreSDEConfiguration(sde: s))
        case .flowMatching:
            model = try FlowMatching(denoiser: net, configuration: FlowMatchingConfiguration(sigmaMin: sigmaMin, pairing: OTPairing(parsing: pairing)))
        }
        var c = TrainingConfiguration(steps: steps, batchSize: batchSize, learningRate: lr, seed: seed)
        c.emaDecay = emaDecay
        c.logEvery = quiet ? 0 : Swift.max(1, steps / 20)
        c.checkpointEvery = checkpointEvery
        c.checkpointPath = output
        let trainer = try Trainer(family: model, denoiserConfiguration: dc, scaling: scaling, configuration: c)
        trainer.metadata = ["data": source.description, "trained_by": "vst train"]
        if let r = resume { try trainer.resume(from: r) }
        let report = try trainer.train(x, labels: nil)
        print(String(format: "%@: %d steps (from %d) in %.1f s, loss %.4f → %.4f; wrote %@", fam.rawValue, report.steps, report.firstStep,
                     report.seconds, report.initialLoss, report.finalLoss, output))
    }
}
