import Foundation
import Linear
import Neural

/// A trained model (or a training checkpoint) of any family as one `.safetensors` file that needs nothing else to
/// sample, encode, decode or continue training:
///
/// - tensors: every parameter by its path in the model's named networks (`denoiser.blocks.0.dense.weight`,
///   `generator.layers.2.bias`, `vae.encoder.…` for latent diffusion); the non-parameter state as `buffer.<name>`
///   (EMA weights `buffer.ema.<path>` of a denoising model, EMA codebook statistics, ActNorm initialisation, a
///   consistency model's target network `buffer.state.target.<path>`); each optimiser's moments by the path of
///   the parameter they belong to, `optimizer.<name>.m.<path>` and `optimizer.<name>.v.<path>`;
/// - metadata: `format` = `substrate-generative/2`, `family`, `configuration` (the model's `Codable`
///   configuration as JSON), `vae_configuration` (latent diffusion), `scaling` (data units → model units, JSON),
///   `step`, `seed`, each optimiser's per-parameter step counts (`optimizer.<name>.steps`, a JSON object keyed by
///   parameter path) and step count (`optimizer.<name>.step_count`), plus extra keys (`data`, `trained_by`, …).
///
/// With the optimisers' state and the step, `GenerativeTrainer.train(…, firstStep: file.step)` continues a run
/// exactly: step k draws its batch and noise from (seed, k) alone.
///
/// Files of the two earlier formats load as well: `substrate-generative/1` (ddpm, score-sde, flow-matching,
/// consistency: `raw.<path>`, `ema.<path>`, `adam.m.<path>`, `state.<name>` and the family's settings as string
/// metadata) and `substrate-generative-ii/1` (vae, vqvae, gan, wgan-gp, cgan, realnvp, latent-diffusion:
/// moments by index `optimizer.<name>.m.<i>`). Files without optimiser state load with `hasOptimizerState` false.
///
/// Written atomically (`SafetensorsFile.write`), so an interrupted save never leaves a partial file.
public struct GenerativeModelFile<S: BLASScalar> {
    /// The format this version writes.
    public static var format: String { "substrate-generative/2" }
    /// The format of denoising-family files written before the one contract (still read).
    public static var denoisingFormat1: String { "substrate-generative/1" }
    /// The format of the other families' files written before the one contract (still read).
    public static var multiNetworkFormat1: String { "substrate-generative-ii/1" }

    public let model: any GenerativeModel<S>
    public let scaling: AffineScaling
    public var metadata: [String: String]
    public let step: Int
    public let seed: UInt64
    /// Whether the file held the optimisers' state (and it was loaded into `model`'s optimisers).
    public let hasOptimizerState: Bool

    /// The model when it is a denoising family (ddpm, score-sde, flow-matching, consistency), else nil.
    public var denoising: DenoisingModel<S>? { model as? DenoisingModel<S> }

    /// Whether `path` is a Substrate generative model file of any version (false for other files, unreadable
    /// ones included).
    public static func isModelFile(_ path: String) -> Bool {
        guard let f = try? SafetensorsFile.read(path), let m = f.metadata["format"] else { return false }
        return [format, denoisingFormat1, multiNetworkFormat1].contains(m)
    }

    /// Writes `model`'s parameters, buffers, optimiser states and configuration, `scaling`, the step and the seed.
    public static func save(_ model: any GenerativeModel<S>, scaling: AffineScaling, to path: String, step: Int, seed: UInt64,
                            extra: [String: String] = [:], overwrite: Bool = false) throws {
        var tensors: [String: NDArray] = [:]
        var pathOf: [ObjectIdentifier: String] = [:]
        for (n, p) in model.networks.namedParameters() {
            tensors[n] = NDArray(p.value)
            pathOf[ObjectIdentifier(p)] = n
        }
        for (n, b) in model.buffers { tensors["buffer." + n] = NDArray(b) }
        var meta = extra
        for (name, optimizer) in model.optimizers {
            let s = optimizer.state
            var steps: [String: Int] = [:]
            for (i, p) in optimizer.parameters.enumerated() {
                guard let n = pathOf[ObjectIdentifier(p)] else {
                    throw ModelFileError(path: path, reason: "\(path): optimiser '\(name)' updates a parameter that none of the model's networks lists")
                }
                tensors["optimizer.\(name).m.\(n)"] = NDArray(s.firstMoments[i])
                tensors["optimizer.\(name).v.\(n)"] = NDArray(s.secondMoments[i])
                steps[n] = s.parameterSteps[i]
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            meta["optimizer.\(name).steps"] = String(decoding: try encoder.encode(steps), as: UTF8.self)
            meta["optimizer.\(name).step_count"] = String(s.stepCount)
        }
        meta["format"] = format
        meta["family"] = model.familyName.rawValue
        meta["configuration"] = try model.configurationJSON()
        if let ld = model as? LatentDiffusion<S> { meta["vae_configuration"] = try ld.vae.configurationJSON() }
        meta["scaling"] = try ModelSupport.json(scaling)
        meta["step"] = String(step)
        meta["seed"] = String(seed)
        try SafetensorsFile(tensors: tensors, metadata: meta).write(to: path, overwrite: overwrite)
    }

    /// Reads a model file of any version and rebuilds the model with its weights, buffers and optimiser states;
    /// `useEMA` puts a denoising model's EMA weights into its network (as for sampling).
    /// - Throws: `TensorError.file` when the file cannot be read as safetensors; `ModelFileError` naming the file
    ///   for a foreign format, missing or malformed metadata, or weights, buffers or optimiser state that do not
    ///   fit the configuration.
    public static func load(_ path: String, useEMA: Bool = false) throws -> GenerativeModelFile<S> {
        let file = try SafetensorsFile.read(path)
        let out: GenerativeModelFile<S>
        do {
            switch file.metadata["format"] {
            case format: out = try loadCurrent(file, path)
            case denoisingFormat1: out = try loadDenoising1(file, path)
            case multiNetworkFormat1: out = try loadMultiNetwork1(file, path)
            case let other:
                throw ModelFileError(path: path, reason: "not a Substrate generative model file (format \(other ?? "missing"))")
            }
        } catch let e as TensorError {
            // A configuration or state the model refuses (a bad setting, a tensor of the wrong shape): the file's fault.
            if case .file = e { throw e }
            let text = e.description, prefix = path + ": "
            throw ModelFileError(path: path, reason: text.hasPrefix(prefix) ? String(text.dropFirst(prefix.count)) : text)
        }
        if useEMA, let d = out.denoising { d.useEMAWeights() }
        return out
    }

    /// Draws `n` samples with the model's `draw` and returns them in the data's original units (the stored scaling
    /// inverted). The recorder, if any, sees the first batch in model units.
    public func sample(_ n: Int, sampler: SamplerName? = nil, steps: Int? = nil, seed: UInt64, options: SamplingOptions = SamplingOptions(),
                       recorder: TrajectoryRecorder<S>? = nil, progress: ((Int, Int) -> Void)? = nil) throws -> SamplingResult<S> {
        var r = try model.draw(n, sampler: sampler, steps: steps, seed: seed, options: options, recorder: recorder, progress: progress)
        r.samples = try scaling.invert(r.samples)
        return r
    }

    // MARK: Reading


    /// Refuses a denoiser configuration that claims far more parameters than the file holds (a file claiming width
    /// 10⁹ would otherwise allocate first and fail later).
    static func checkClaim(_ dc: DenoiserConfiguration, stored: Int, _ path: String) throws {
        let claimed = dc.approximateParameterCount
        guard claimed <= 4 * stored + 1_000_000 else {
            throw ModelFileError(path: path, reason: "the denoiser configuration describes about \(claimed) parameters but the file holds \(stored) raw weights")
        }
    }

    static func loadCurrent(_ file: SafetensorsFile, _ path: String) throws -> GenerativeModelFile<S> {
        let m = file.metadata, r = MetadataReader(m: m, path: path)
        guard let family = GenerativeFamilyName(parsing: try r.need("family")) else {
            throw ModelFileError(path: path, reason: "unknown family '\(m["family"] ?? "")'")
        }
        var params: [String: Tensor<S>] = [:], buffers: [String: Tensor<S>] = [:], moments: [String: Tensor<S>] = [:]
        for (k, _) in file.tensors {
            if k.hasPrefix("buffer.") { buffers[String(k.dropFirst(7))] = try file.tensor(k, as: S.self) }
            else if k.hasPrefix("optimizer.") { moments[k] = try file.tensor(k, as: S.self) }
            else { params[k] = try file.tensor(k, as: S.self) }
        }
        let stored = params.values.reduce(0) { $0 + $1.count }
        let model = try makeModel(family, configuration: r.need("configuration"), reader: r, storedParameters: stored)
        do { try model.networks.loadStateDict(params) } catch let e as ModelStateError {
            throw ModelFileError(path: path, reason: e.reason)
        }
        do { try model.loadBuffers(buffers) } catch let e as ModelStateError {
            throw ModelFileError(path: path, reason: e.reason)
        }
        var pathOf: [ObjectIdentifier: String] = [:]
        for (n, p) in model.networks.namedParameters() { pathOf[ObjectIdentifier(p)] = n }
        var loaded = 0
        for (name, optimizer) in model.optimizers {
            guard let count = m["optimizer.\(name).step_count"] else { continue }
            let steps = (try? ModelSupport.decode([String: Int].self, m["optimizer.\(name).steps"] ?? "")) ?? [:]
            guard let stepCount = Int(count), stepCount >= 0 else {
                throw ModelFileError(path: path, reason: "optimiser '\(name)' has step count '\(count)', not a whole number ≥ 0")
            }
            var first: [Tensor<S>] = [], second: [Tensor<S>] = [], counts: [Int] = []
            for p in optimizer.parameters {
                let n = pathOf[ObjectIdentifier(p)] ?? "?"
                guard let a = moments["optimizer.\(name).m.\(n)"], let b = moments["optimizer.\(name).v.\(n)"] else {
                    throw ModelFileError(path: path, reason: "optimiser moment 'optimizer.\(name).\(moments["optimizer.\(name).m.\(n)"] == nil ? "m" : "v").\(n)' is missing")
                }
                guard let t = steps[n], t >= 0, t <= stepCount else {
                    throw ModelFileError(path: path, reason: "optimiser '\(name)': the step counts must be one per parameter, in 0…step_count (\(stepCount)); '\(n)' has \(steps[n].map(String.init) ?? "none")")
                }
                first.append(a); second.append(b); counts.append(t)
            }
            do {
                try optimizer.load(state: Adam<S>.State(firstMoments: first, secondMoments: second, parameterSteps: counts, stepCount: stepCount))
            } catch let e as ModelStateError {
                throw ModelFileError(path: path, reason: "optimiser '\(name)': \(e.reason)")
            }
            loaded += 1
        }
        if !family.isDenoising { model.networks.eval() }
        return GenerativeModelFile(model: model, scaling: try ModelSupport.decode(AffineScaling.self, r.need("scaling")), metadata: m,
                                   step: try r.integer("step"), seed: UInt64(try r.need("seed")) ?? 0,
                                   hasOptimizerState: loaded > 0 && loaded == model.optimizers.count)
    }

    /// A fresh model of `family` from its configuration JSON (weights loaded afterwards).
    static func makeModel(_ family: GenerativeFamilyName, configuration config: String, reader r: MetadataReader,
                          storedParameters: Int) throws -> any GenerativeModel<S> {
        let path = r.path
        do {
            switch family {
            case .ddpm, .scoreSDE, .flowMatching, .consistency:
                let c = try ModelSupport.decode(DenoisingModelConfiguration.self, config)
                guard GenerativeFamilyName(c.family) == family else {
                    throw ModelFileError(path: path, reason: "the configuration is of family \(c.family.rawValue), the file says \(family.rawValue)")
                }
                try checkClaim(c.denoiser, stored: storedParameters, path)
                let f = try DenoisingModel<S>.makeFamily(c.family, settings: c.settings, denoiser: c.denoiser, source: path)
                return try DenoisingModel(family: f, denoiser: c.denoiser, training: c.training)
            case .vae: return try VAE<S>(ModelSupport.decode(VAEConfiguration.self, config), seed: 0)
            case .vqvae: return try VQVAE<S>(ModelSupport.decode(VQVAEConfiguration.self, config), seed: 0)
            case .gan, .wganGP, .cgan: return try GAN<S>(ModelSupport.decode(GANConfiguration.self, config), seed: 0)
            case .realNVP: return try RealNVP<S>(ModelSupport.decode(RealNVPConfiguration.self, config), seed: 0)
            case .latentDiffusion:
                let vae = try VAE<S>(ModelSupport.decode(VAEConfiguration.self, r.need("vae_configuration")), seed: 0)
                return try LatentDiffusion<S>(vae: vae, configuration: ModelSupport.decode(LatentDiffusionConfiguration.self, config), seed: 0)
            }
        } catch let e as DecodingError {
            throw ModelFileError(path: path, reason: "bad configuration for \(family.rawValue): \(e)")
        }
    }

    /// A `substrate-generative/1` file (denoising families, before the one contract).
    static func loadDenoising1(_ file: SafetensorsFile, _ path: String) throws -> GenerativeModelFile<S> {
        let m = file.metadata, r = MetadataReader(m: m, path: path)
        let dc: DenoiserConfiguration
        do { dc = try DenoiserConfiguration(metadata: m) } catch { throw ModelFileError(path: path, reason: "\(error)") }
        let stored = file.tensors.filter { $0.key.hasPrefix("raw.") }.reduce(0) { $0 + $1.value.shape.reduce(1, *) }
        try checkClaim(dc, stored: stored, path)
        let name: FamilyName
        do { name = try FamilyName(parsing: r.need("family")) } catch let e as ConfigurationError { throw ModelFileError(path: path, reason: e.reason) }
        let family = try DenoisingModel<S>.makeFamily(name, settings: m, denoiser: dc, source: path)
        var training = TrainingConfiguration()
        training.seed = UInt64(try r.need("seed")) ?? 0
        let model = try DenoisingModel(family: family, denoiser: dc, training: training)
        var raw: [String: Tensor<S>] = [:], buffers: [String: Tensor<S>] = [:], am: [String: Tensor<S>] = [:], av: [String: Tensor<S>] = [:]
        for (k, _) in file.tensors {
            if k.hasPrefix("raw.") { raw[String(k.dropFirst(4))] = try file.tensor(k, as: S.self) }
            else if k.hasPrefix("ema.") { buffers[k] = try file.tensor(k, as: S.self) }
            else if k.hasPrefix("adam.m.") { am[String(k.dropFirst(7))] = try file.tensor(k, as: S.self) }
            else if k.hasPrefix("adam.v.") { av[String(k.dropFirst(7))] = try file.tensor(k, as: S.self) }
            else if k.hasPrefix("state.") { buffers[k] = try file.tensor(k, as: S.self) }
        }
        do { try family.denoiser.loadStateDict(raw) } catch let e as ModelStateError {
            throw ModelFileError(path: path, reason: e.reason)
        }
        buffers["ema_updates"] = Tensor(scalar: S(try r.integer("ema_updates")))
        do { try model.loadBuffers(buffers) } catch let e as ModelStateError {
            throw ModelFileError(path: path, reason: e.reason)
        }
        var hasOptimizer = false
        if !am.isEmpty, let steps = m["adam_steps"], let count = m["adam_step_count"].flatMap(Int.init) {
            let names = family.denoiser.namedParameters().map(\.name)
            let ps = steps.split(separator: ",").compactMap { Int($0) }
            guard ps.count == names.count else { throw ModelFileError(path: path, reason: "'adam_steps' has \(ps.count) entries for \(names.count) parameters") }
            let mm = try names.map { n in
                guard let t = am[n] else { throw ModelFileError(path: path, reason: "optimiser moment 'adam.m.\(n)' is missing") }
                return t
            }
            let vv = try names.map { n in
                guard let t = av[n] else { throw ModelFileError(path: path, reason: "optimiser moment 'adam.v.\(n)' is missing") }
                return t
            }
            try model.optimizer.load(state: Adam<S>.State(firstMoments: mm, secondMoments: vv, parameterSteps: ps, stepCount: count))
            hasOptimizer = true
        }
        return GenerativeModelFile(model: model, scaling: try JSONDecoder().decode(AffineScaling.self, from: Data(try r.need("scaling").utf8)),
                                   metadata: m, step: try r.integer("step"), seed: training.seed, hasOptimizerState: hasOptimizer)
    }

    /// A `substrate-generative-ii/1` file (vae, vqvae, GANs, realnvp, latent diffusion, before the one contract).
    static func loadMultiNetwork1(_ file: SafetensorsFile, _ path: String) throws -> GenerativeModelFile<S> {
        let m = file.metadata, r = MetadataReader(m: m, path: path)
        guard let family = GenerativeFamilyName(parsing: try r.need("family")), !family.isDenoising else {
            throw ModelFileError(path: path, reason: "unknown family '\(m["family"] ?? "")'")
        }
        let model = try makeModel(family, configuration: r.need("configuration"), reader: r, storedParameters: 0)
        var params: [String: Tensor<S>] = [:], buffers: [String: Tensor<S>] = [:], moments: [String: Tensor<S>] = [:]
        for (k, _) in file.tensors {
            if k.hasPrefix("buffer.") { buffers[String(k.dropFirst(7))] = try file.tensor(k, as: S.self) }
            else if k.hasPrefix("optimizer.") { moments[k] = try file.tensor(k, as: S.self) }
            else { params[k] = try file.tensor(k, as: S.self) }
        }
        do { try model.networks.loadStateDict(params) } catch let e as ModelStateError {
            throw ModelFileError(path: path, reason: e.reason)
        }
        do { try model.loadBuffers(buffers) } catch let e as ModelStateError {
            throw ModelFileError(path: path, reason: e.reason)
        }
        var loadedOptimizers = 0
        for (name, optimizer) in model.optimizers {
            guard let count = m["optimizer.\(name).step_count"] else { continue }
            let n = optimizer.parameters.count
            let steps = (m["optimizer.\(name).steps"] ?? "").split(separator: ",").compactMap { Int($0) }
            guard let stepCount = Int(count), stepCount >= 0, steps.count == n, steps.allSatisfy({ $0 >= 0 && $0 <= stepCount }) else {
                throw ModelFileError(path: path, reason: "optimiser '\(name)' has \(steps.count) step counts for \(n) parameters, or counts outside 0…step_count ('\(count)')")
            }
            func moment(_ kind: String, _ i: Int) throws -> Tensor<S> {
                guard let t = moments["optimizer.\(name).\(kind).\(i)"] else {
                    throw ModelFileError(path: path, reason: "optimiser moment 'optimizer.\(name).\(kind).\(i)' is missing")
                }
                return t
            }
            let state = Adam<S>.State(firstMoments: try (0..<n).map { try moment("m", $0) }, secondMoments: try (0..<n).map { try moment("v", $0) },
                                      parameterSteps: steps, stepCount: stepCount)
            do { try optimizer.load(state: state) } catch let e as ModelStateError {
                throw ModelFileError(path: path, reason: "optimiser '\(name)': \(e.reason)")
            }
            loadedOptimizers += 1
        }
        model.networks.eval()
        return GenerativeModelFile(model: model, scaling: try ModelSupport.decode(AffineScaling.self, r.need("scaling")), metadata: m,
                                   step: Int(m["step"] ?? "0") ?? 0, seed: UInt64(m["seed"] ?? "0") ?? 0,
                                   hasOptimizerState: loadedOptimizers > 0 && loadedOptimizers == model.optimizers.count)
    }
}

/// Readers of a model file's string metadata that name the file (or the family's settings) and the key in their errors.
struct MetadataReader {
    let m: [String: String]
    let path: String
    /// What a key is called in messages: "metadata" (the file's) or "setting" (a family's configuration).
    var noun = "metadata"
    func need(_ k: String) throws -> String {
        guard let v = m[k] else { throw ModelFileError(path: path, reason: "\(noun) '\(k)' is missing") }
        return v
    }
    func number(_ k: String) throws -> Double {
        guard let v = Double(try need(k)), v.isFinite else { throw ModelFileError(path: path, reason: "\(noun) '\(k)' is not a finite number") }
        return v
    }
    /// A whole number in 0 … 2³¹ (a count or a step), refused before `Int(_:)` could trap on NaN, ±∞ or 1e300.
    func integer(_ k: String) throws -> Int {
        let v = try number(k)
        guard v >= 0, v <= Double(Int32.max), v == v.rounded() else {
            throw ModelFileError(path: path, reason: "\(noun) '\(k)' must be a whole number in 0…\(Int32.max), got \(m[k] ?? "")")
        }
        return Int(v)
    }
}
