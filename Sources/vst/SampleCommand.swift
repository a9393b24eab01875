import ArgumentParser
import Foundation

/// `vst sample`: draws samples from a model file written by `vst train`, in the data's original units.
struct SampleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sample",
        abstract: "Sample a trained generative model to .npy (optionally recording the trajectory).",
        discussion: """
        Samplers: ddpm, ddim (ddpm models); euler-maruyama, pc, pf-ode (score-sde); euler, heun, rk4, dopri5 \
        (flow-matching); onestep, multistep (consistency). Without --sampler / --steps the family's default is used \
        (ddim 100, euler-maruyama 500, rk4 20, onestep 1; multistep defaults to 2 steps). Class-conditional models \
        take --label (default: classes in turn) and --guidance w (classifier-free guidance).

        The EMA weights are used. --trajectory writes every --every-th state of the first --trajectory-rows samples \
        as a T×n×D .npy for `vst trajectory`.

        Example:
          vst sample --model fm.safetensors --sampler rk4 -n 1000 -o samples.npy
        """)

    @Option(help: "Model file written by vst train.") var model: String
    @Option(help: "Sampler name (default: the family's).") var sampler: String?
    @Option(help: "Sampler steps (default: the family's).") var steps: Int?
    @Option(name: .short, help: "Number of samples.") var n: Int = 1000
    @Option(help: "Seed of the sampling noise.") var seed: UInt64 = 0
    @Option(help: "ddim: η (0 deterministic, 1 DDPM-like).") var eta: Double = 0
    @Option(name: .customLong("batch-size"), help: "Samples per batch.") var batchSize: Int = 4096
    @Option(help: "Class-conditional models: the class of every sample (default: classes in turn).") var label: Int?
    @Option(help: "Class-conditional models: classifier-free guidance scale w ((1 + w)·cond − w·uncond).") var guidance: Double = 0
    @Option(help: "Write the sampling trajectory (.npy, T×n×D).") var trajectory: String?
    @Option(help: "Record every k-th step of the trajectory.") var every: Int = 1
    @Option(name: .customLong("trajectory-rows"), help: "Samples kept in the trajectory.") var trajectoryRows: Int = 256
    @Option(name: [.short, .customLong("output")], help: "Output .npy file.") var output: String
    @Flag(help: "Overwrite existing output files.") var force = false
    @Flag(help: "Hide progress on stderr.") var quiet = false
    @OptionGroup(title: "VAE, VQ-VAE, GAN, RealNVP and latent-diffusion options") var familyOptions: FamilySampleOptions
    @Option(name: .customLong("latent-prior"), help: "vae: latents from standard (N(0, I), the ELBO's prior) or mixture (the Gaussian mixture vst train fits to the encoded training data; the default when the model file has one).")
    var latentPrior: String?
    @Flag(inversion: .prefixedNo, help: "vae: add the decoder's fitted observation noise L·ε to its mean (L·Lᵀ the covariance of the training reconstructions' residuals; default: on when the model file has it; files written before have neither fit and sample N(0, I) decoder means).")
    var decoderNoise: Bool?
    @Flag(inversion: .prefixedNo, help: "score-sde: end with Tweedie's denoising step x̂₀ = (x_ε + s(ε)²·score)/m(ε), which removes the noise of std s(ε) left in every direction at t = ε (default: on, as in Song et al.'s samplers).")
    var denoise: Bool?

    func run() throws {
        var job = SamplingJob(model: model, output: output)
        job.sampler = sampler; job.steps = steps; job.n = n; job.seed = seed; job.eta = eta; job.batchSize = batchSize
        job.label = label; job.classLabel = familyOptions.classLabel; job.guidance = guidance
        job.latentPrior = latentPrior; job.decoderNoise = decoderNoise; job.denoise = denoise
        job.trajectory = trajectory; job.every = every; job.trajectoryRows = trajectoryRows
        job.force = force; job.quiet = quiet
        print(try job.run())
    }
}
