import ArgumentParser
import Foundation
import Generative
import Linear

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
        guard GenerativeModelFile<Float>.isModelFile(model) else {
            throw InputError("\(model): not a vae / vqvae / latent-diffusion model file written by vst train")
        }
        let file = try GenerativeModelFile<Float>.load(model)
        let source: DataSource
        do { source = try DataSource(parsing: data, dimension: dim) } catch { throw InputError("\(error)") }
        let loaded = try source.load(count: count, seed: seed, as: Float.self)
        let x = try file.scaling.apply(loaded.scaling.invert(loaded.data))
        if continuous && quantized { throw InputError("--continuous and --quantized exclude each other") }
        let what: String
        switch file.model {
        case let vae as VAE<Float>:
            guard x.shape[1] == vae.configuration.dimension else { throw dimensionError(x.shape[1], vae.configuration.dimension) }
            if continuous || quantized { throw InputError("--continuous / --quantized apply to vqvae models") }
            let (mu, lv) = try vae.encode(x)
            try mu.save(npy: output, overwrite: force)
            if let p = logVariance { try lv.save(npy: p, overwrite: force) }
            what = "posterior means [\(mu.shape[0]), \(mu.shape[1])]"
        case let ld as LatentDiffusion<Float>:
            guard x.shape[1] == ld.vae.configuration.dimension else { throw dimensionError(x.shape[1], ld.vae.configuration.dimension) }
            let z = try ld.latents(x)
            try z.save(npy: output, overwrite: force)
            what = String(format: "scaled latents [%d, %d] (scale factor %.4f)", z.shape[0], z.shape[1], ld.scaleFactor)
        case let vq as VQVAE<Float>:
            guard x.shape[1] == vq.configuration.dimension else { throw dimensionError(x.shape[1], vq.configuration.dimension) }
            if continuous {
                let z = try vq.encodeContinuous(x)
                try z.save(npy: output, overwrite: force)
                what = "encoder outputs z_e [\(z.shape[0]), \(z.shape[1])]"
            } else {
                let codes = try vq.encode(x)
                if quantized {
                    let z = try vq.quantizedLatents(codes: codes)
                    try z.save(npy: output, overwrite: force)
                    what = "code vectors z_q [\(z.shape[0]), \(z.shape[1])]"
                } else {
                    let flat = codes.flatMap { $0 }.map { Int64($0) }
                    try NPY.write(try NDArray(shape: [codes.count, vq.configuration.positions], values: .int64(flat)), to: output, overwrite: force)
                    let u = try vq.usage(x)
                    what = String(format: "codes [%d, %d] (usage %.0f%%, perplexity %.1f)", codes.count, vq.configuration.positions,
                                  100 * u.usedFraction, u.perplexity)
                }
            }
        default:
            throw InputError("\(model): a \(file.model.familyName.rawValue) model has no encoder (use vae, vqvae or latent-diffusion)")
        }
        print("\(file.model.familyName.rawValue): wrote \(what) to \(output)")
    }

    func dimensionError(_ got: Int, _ want: Int) -> InputError {
        InputError("data '\(data)' is \(got)-dimensional but the model expects \(want)")
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
        guard GenerativeModelFile<Float>.isModelFile(model) else {
            throw InputError("\(model): not a vae / vqvae / latent-diffusion model file written by vst train")
        }
        let file = try GenerativeModelFile<Float>.load(model)
        let array = try NPY.read(latents)
        guard array.shape.count == 2 else { throw InputError("\(latents): expected an [n, d] array, got shape \(array.shape)") }
        let x: Tensor<Float>
        switch file.model {
        case let vae as VAE<Float>:
            let z: Tensor<Float> = try array.tensor()
            guard z.shape[1] == vae.configuration.latentDimension else {
                throw InputError("\(latents): \(z.shape[1]) latent dimensions but the model has \(vae.configuration.latentDimension)")
            }
            try z.checkFinite(latents)
            x = try vae.decode(z)
        case let ld as LatentDiffusion<Float>:
            let z: Tensor<Float> = try array.tensor()
            guard z.shape[1] == ld.latentDimension else {
                throw InputError("\(latents): \(z.shape[1]) latent dimensions but the model has \(ld.latentDimension)")
            }
            x = try ld.decodeLatents(z)
        case let vq as VQVAE<Float>:
            let p = vq.configuration.positions, k = vq.configuration.codeCount
            guard array.shape[1] == p else { throw InputError("\(latents): \(array.shape[1]) codes per row but the model has \(p) positions") }
            let flat: [Int]
            do { flat = try array.integers() } catch { throw InputError("\(latents): codes must be integers (\(error))") }
            if let bad = flat.first(where: { $0 < 0 || $0 >= k }) { throw InputError("\(latents): code \(bad) outside 0…\(k - 1)") }
            x = try vq.decode(codes: (0..<array.shape[0]).map { Array(flat[($0 * p)..<(($0 + 1) * p)]) })
        default:
            throw InputError("\(model): a \(file.model.familyName.rawValue) model has no decoder (use vae, vqvae or latent-diffusion)")
        }
        let out = try file.scaling.invert(x)
        try out.save(npy: output, overwrite: force)
        print("\(file.model.familyName.rawValue): decoded [\(out.shape[0]), \(out.shape[1])] to \(output)")
    }
}
