import Foundation
import Linear
import Neural

/// A trained VAE, VQ-VAE, GAN (plain, WGAN-GP, conditional), RealNVP or latent-diffusion model as one
/// `.safetensors` file that needs nothing else to sample, encode or decode:
///
/// - tensors: every parameter by its path (`encoder.layers.0.weight`, `generator.layers.2.bias`,
///   `vae.encoder.…` and `denoiser.…` for latent diffusion) and the non-parameter state as `buffer.<name>`
///   (EMA codebook statistics, ActNorm initialisation), and each optimiser's moments as
///   `optimizer.<name>.m.<i>` / `optimizer.<name>.v.<i>` (i: the parameter's index in that optimiser);
/// - metadata: `format` = `substrate-generative-ii/1`, `family`, `configuration` (the family's configuration as
///   JSON), `vae_configuration` (latent diffusion), `scaling` (data units → model units, JSON), `data`,
///   `step`, `seed`, each optimiser's per-parameter step counts and step count (`optimizer.<name>.steps`,
///   `optimizer.<name>.step_count`), plus any extra keys.
///
/// With the optimisers' state and the step, `GenerativeIITrainer.train(…, firstStep: file.step)` continues a run
/// exactly: step k draws its batch and noise from (seed, k) alone. Files written before the state was saved still
/// load (`hasOptimizerState` is then false).
///
/// Written atomically (`SafetensorsFile.write`).
public struct GenerativeIIModelFile<S: BLASScalar> {
    public static var format: String { "substrate-generative-ii/1" }

    public let model: any GenerativeIIModel<S>
    public let scaling: AffineScaling
    public let metadata: [String: String]
    public let step: Int
    /// Whether the file held the optimisers' state (and it was loaded into `model`'s optimisers).
    public let hasOptimizerState: Bool

    /// Whether `path` is a Generative II model file (false for other files, unreadable ones included).
    public static func isModelFile(_ path: String) -> Bool {
        guard let f = try? SafetensorsFile.read(path) else { return false }
        return f.metadata["format"] == format
    }

    /// Writes `model`'s parameters, buffers, configuration and `scaling`.
    public static func save(_ model: any GenerativeIIModel<S>, scaling: AffineScaling, to path: String, step: Int, seed: UInt64,
                            extra: [String: String] = [:], overwrite: Bool = false) throws {
        var tensors: [String: NDArray] = [:]
        for (n, p) in model.networks.namedParameters() { tensors[n] = NDArray(p.value) }
        for (n, b) in model.buffers { tensors["buffer." + n] = NDArray(b) }
        var meta = extra
        for (name, optimizer) in model.optimizers {
            let s = optimizer.state
            for i in s.firstMoments.indices {
                tensors["optimizer.\(name).m.\(i)"] = NDArray(s.firstMoments[i])
                tensors["optimizer.\(name).v.\(i)"] = NDArray(s.secondMoments[i])
            }
            meta["optimizer.\(name).steps"] = s.parameterSteps.map(String.init).joined(separator: ",")
            meta["optimizer.\(name).step_count"] = String(s.stepCount)
        }
        meta["format"] = format
        meta["family"] = model.familyName.rawValue
        meta["configuration"] = try model.configurationJSON()
        if let ld = model as? LatentDiffusion<S> { meta["vae_configuration"] = try ld.vae.configurationJSON() }
        meta["scaling"] = try GenII.json(scaling)
        meta["step"] = String(step)
        meta["seed"] = String(seed)
        try SafetensorsFile(tensors: tensors, metadata: meta).write(to: path, overwrite: overwrite)
    }

    /// Reads a model file and rebuilds the model with its weights and buffers.
    /// - Throws: `TensorError.invalidArgument` naming the file for a foreign format, missing metadata or weights
    ///   that do not fit the configuration.
    public static func load(_ path: String) throws -> GenerativeIIModelFile<S> {
        let file = try SafetensorsFile.read(path)
        let m = file.metadata
        guard m["format"] == format else {
            throw TensorError.invalidArgument("\(path): not a Substrate Generative II model file (format \(m["format"] ?? "missing"))")
        }
        func need(_ k: String) throws -> String {
            guard let v = m[k] else { throw TensorError.invalidArgument("\(path): metadata '\(k)' is missing") }
            return v
        }
        guard let family = GenerativeIIFamilyName(parsing: try need("family")) else {
            throw TensorError.invalidArgument("\(path): unknown family '\(m["family"] ?? "")'")
        }
        let config = try need("configuration")
        let model: any GenerativeIIModel<S>
        do {
            switch family {
            case .vae: model = try VAE<S>(GenII.decode(VAEConfiguration.self, config), seed: 0)
            case .vqvae: model = try VQVAE<S>(GenII.decode(VQVAEConfiguration.self, config), seed: 0)
            case .gan, .wganGP, .cgan: model = try GAN<S>(GenII.decode(GANConfiguration.self, config), seed: 0)
            case .realNVP: model = try RealNVP<S>(GenII.decode(RealNVPConfiguration.self, config), seed: 0)
            case .latentDiffusion:
                let vae = try VAE<S>(GenII.decode(VAEConfiguration.self, need("vae_configuration")), seed: 0)
                model = try LatentDiffusion<S>(vae: vae, configuration: GenII.decode(LatentDiffusionConfiguration.self, config), seed: 0)
            }
        } catch let e as DecodingError {
            throw TensorError.invalidArgument("\(path): bad configuration for \(family.rawValue): \(e)")
        }
        var params: [String: Tensor<S>] = [:], buffers: [String: Tensor<S>] = [:], moments: [String: Tensor<S>] = [:]
        for (k, _) in file.tensors {
            if k.hasPrefix("buffer.") { buffers[String(k.dropFirst(7))] = try file.tensor(k, as: S.self) }
            else if k.hasPrefix("optimizer.") { moments[k] = try file.tensor(k, as: S.self) }
            else { params[k] = try file.tensor(k, as: S.self) }
        }
        do { try model.networks.loadStateDict(params) } catch let TensorError.invalidArgument(msg) {
            throw TensorError.invalidArgument("\(path): \(msg)")
        }
        try model.loadBuffers(buffers)
        var loadedOptimizers = 0
        for (name, optimizer) in model.optimizers {
            guard let count = m["optimizer.\(name).step_count"] else { continue }
            let n = optimizer.parameters.count
            let steps = (m["optimizer.\(name).steps"] ?? "").split(separator: ",").compactMap { Int($0) }
            guard let stepCount = Int(count), stepCount >= 0, steps.count == n, steps.allSatisfy({ $0 >= 0 && $0 <= stepCount }) else {
                throw TensorError.invalidArgument("\(path): optimiser '\(name)' has \(steps.count) step counts for \(n) parameters, or counts outside 0…step_count ('\(count)')")
            }
            func moment(_ kind: String, _ i: Int) throws -> Tensor<S> {
                guard let t = moments["optimizer.\(name).\(kind).\(i)"] else {
                    throw TensorError.invalidArgument("\(path): optimiser moment 'optimizer.\(name).\(kind).\(i)' is missing")
                }
                return t
            }
            let state = Adam<S>.State(firstMoments: try (0..<n).map { try moment("m", $0) }, secondMoments: try (0..<n).map { try moment("v", $0) },
                                      parameterSteps: steps, stepCount: stepCount)
            do { try optimizer.load(state: state) } catch let TensorError.invalidArgument(msg) {
                throw TensorError.invalidArgument("\(path): optimiser '\(name)': \(msg)")
            }
            loadedOptimizers += 1
        }
        model.networks.eval()
        let scaling = try GenII.decode(AffineScaling.self, need("scaling"))
        return GenerativeIIModelFile(model: model, scaling: scaling, metadata: m, step: Int(m["step"] ?? "0") ?? 0,
                                     hasOptimizerState: loadedOptimizers > 0 && loadedOptimizers == model.optimizers.count)
    }
}
