import Foundation
import Generative
import Linear
import Substrate

/// What `vst encode` does: the latents of a VAE (posterior means μ(x), Kingma & Welling 2014), a VQ-VAE (codes
/// argmin_k ‖z_e(x) − e_k‖, van den Oord et al. 2017; or z_e, or z_q) or a latent-diffusion model (its scaled latents
/// c·μ(x), Rombach et al. 2022) for data given in its original units.
public struct EncodeJob {
    public var model: String
    /// A data name (digits, a toy) or an [n, D] .npy / CSV file, in original units; a toy lifted to `dim`.
    public var data: String
    public var dim: Int?
    public var count: Int?
    public var seed: UInt64 = 0
    /// vae: also write log σ²(x) here.
    public var logVariance: String?
    /// vqvae: the continuous encoder outputs z_e, or the quantised code vectors z_q, instead of the codes.
    public var continuous = false
    public var quantized = false
    public var output: String
    public var force = false

    public init(model: String, data: String, output: String) {
        self.model = model
        self.data = data
        self.output = output
    }

    /// Encodes the data (original units, mapped with the model's scaling), writes the latents, returns the line to print.
    public func run() throws -> String {
        let file = try loadLatentModel(model)
        let source: DataSource
        do { source = try DataSource(parsing: data, dimension: dim) } catch { throw InputError("\(error)") }
        let loaded = try source.load(count: count, seed: seed, as: Float.self)
        let x = try file.scaling.apply(loaded.scaling.invert(loaded.data))
        if continuous && quantized { throw ConfigurationError(field: "--continuous", reason: "cannot be combined with --quantized") }
        let what: String
        switch file.model {
        case let vae as VAE<Float>:
            guard x.shape[1] == vae.configuration.dimension else { throw dimensionError(x.shape[1], vae.configuration.dimension) }
            if continuous || quantized { throw ConfigurationError(field: "--continuous / --quantized", reason: "apply to vqvae models") }
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
            throw InputFileError(path: model, reason: "a \(file.model.familyName.rawValue) model has no encoder (use vae, vqvae or latent-diffusion)")
        }
        return "\(file.model.familyName.rawValue): wrote \(what) to \(output)"
    }

    func dimensionError(_ got: Int, _ want: Int) -> InputError {
        InputError("data '\(data)' is \(got)-dimensional but the model expects \(want)")
    }
}

/// What `vst decode` does: data in the original units from VAE latents, latent-diffusion scaled latents or VQ-VAE
/// integer codes.
public struct DecodeJob {
    public var model: String
    /// [n, d] latents (vae, latent-diffusion) or integer codes [n, positions] (vqvae), .npy.
    public var latents: String
    public var output: String
    public var force = false

    public init(model: String, latents: String, output: String) {
        self.model = model
        self.latents = latents
        self.output = output
    }

    /// Decodes the latents or codes to data in the original units, writes them, returns the line to print.
    public func run() throws -> String {
        let file = try loadLatentModel(model)
        let array = try NPY.read(latents)
        guard array.shape.count == 2 else { throw InputFileError(path: latents, reason: "expected an [n, d] array, got shape \(array.shape)") }
        let x: Tensor<Float>
        switch file.model {
        case let vae as VAE<Float>:
            let z: Tensor<Float> = try array.tensor()
            guard z.shape[1] == vae.configuration.latentDimension else {
                throw InputFileError(path: latents, reason: "\(z.shape[1]) latent dimensions but the model has \(vae.configuration.latentDimension)")
            }
            try z.checkFinite(latents)
            x = try vae.decode(z)
        case let ld as LatentDiffusion<Float>:
            let z: Tensor<Float> = try array.tensor()
            guard z.shape[1] == ld.latentDimension else {
                throw InputFileError(path: latents, reason: "\(z.shape[1]) latent dimensions but the model has \(ld.latentDimension)")
            }
            x = try ld.decodeLatents(z)
        case let vq as VQVAE<Float>:
            let p = vq.configuration.positions, k = vq.configuration.codeCount
            guard array.shape[1] == p else { throw InputFileError(path: latents, reason: "\(array.shape[1]) codes per row but the model has \(p) positions") }
            let flat: [Int]
            do { flat = try array.integers() } catch { throw InputFileError(path: latents, reason: "codes must be integers (\(error))") }
            if let bad = flat.first(where: { $0 < 0 || $0 >= k }) { throw InputFileError(path: latents, reason: "code \(bad) outside 0…\(k - 1)") }
            x = try vq.decode(codes: (0..<array.shape[0]).map { Array(flat[($0 * p)..<(($0 + 1) * p)]) })
        default:
            throw InputFileError(path: model, reason: "a \(file.model.familyName.rawValue) model has no decoder (use vae, vqvae or latent-diffusion)")
        }
        let out = try file.scaling.invert(x)
        try out.save(npy: output, overwrite: force)
        return "\(file.model.familyName.rawValue): decoded [\(out.shape[0]), \(out.shape[1])] to \(output)"
    }
}

/// The model file of `vst encode` / `vst decode`: one written by `vst train` (a vae, vqvae or latent-diffusion model
/// is checked by the caller), or an `InputFileError` naming the path.
func loadLatentModel(_ model: String) throws -> GenerativeModelFile<Float> {
    guard GenerativeModelFile<Float>.isModelFile(model) else {
        throw InputFileError(path: model, reason: "not a vae / vqvae / latent-diffusion model file written by vst train")
    }
    return try openModelFile(model)
}
