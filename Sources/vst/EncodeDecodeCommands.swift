import ArgumentParser
import Foundation

/// `vst encode`: the latents of a VAE, VQ-VAE or latent-diffusion model for data, as `.npy` for the vST commands.
struct EncodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encode",
        abstract: "Encode data with a trained vae / vqvae / latent-diffusion model to latents (.npy).",
        discussion: """
        vae: the posterior means μ(x) [n, d] (--log-variance also writes log σ²(x)); vqvae: the integer codes
        [n, positions] (int64), or with --continuous the encoder outputs z_e [n, positions·d], or with --quantized the
        code vectors z_q; latent-diffusion: the scaled latents c·μ(x) its prior was trained on. The data is given in
        its original units (as for vst train) and mapped with the model's scaling.
        Example: vst encode --model vae.safetensors --data digits -o latents.npy && vst regimes latents.npy
        """)

    @Option(help: "Model file written by vst train (vae, vqvae or latent-diffusion).") var model: String
    @Option(help: "Data: a data name (digits, a toy) or an [n, D] .npy / CSV file, in original units.") var data: String
    @Option(help: "Lift a 2-D toy to this dimension.") var dim: Int?
    @Option(help: "Rows taken from the data (default all; toys 10000).") var count: Int?
    @Option(help: "Seed of a toy's samples or of a subset.") var seed: UInt64 = 0
    @Option(name: .customLong("log-variance"), help: "vae: also write log σ²(x) to this .npy file.") var logVariance: String?
    @Flag(help: "vqvae: write the continuous encoder outputs z_e instead of codes.") var continuous = false
    @Flag(help: "vqvae: write the quantised code vectors z_q instead of codes.") var quantized = false
    @Option(name: [.short, .customLong("output")], help: "Output .npy file.") var output: String
    @Flag(help: "Overwrite existing output files.") var force = false

    func run() throws {
        var job = EncodeJob(model: model, data: data, output: output)
        job.dim = dim; job.count = count; job.seed = seed; job.logVariance = logVariance
        job.continuous = continuous; job.quantized = quantized; job.force = force
        print(try job.run())
    }
}

/// `vst decode`: data (original units) from VAE latents or VQ-VAE codes.
struct DecodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode",
        abstract: "Decode latents (.npy) with a trained vae / vqvae / latent-diffusion model to data (.npy).",
        discussion: """
        vae: latents [n, d] → the decoder means, in the data's original units; vqvae: integer codes [n, positions]
        → data; latent-diffusion: scaled latents [n, d] (as written by vst encode) → data.
        Example: vst decode --model vae.safetensors latents.npy -o reconstructions.npy
        """)

    @Option(help: "Model file written by vst train (vae, vqvae or latent-diffusion).") var model: String
    @Argument(help: "Latents (.npy): [n, d] for vae / latent-diffusion, integer codes [n, positions] for vqvae.") var latents: String
    @Option(name: [.short, .customLong("output")], help: "Output .npy file.") var output: String
    @Flag(help: "Overwrite existing output files.") var force = false

    func run() throws {
        var job = DecodeJob(model: model, latents: latents, output: output)
        job.force = force
        print(try job.run())
    }
}
