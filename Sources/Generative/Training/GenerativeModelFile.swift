import Foundation
import Linear
import Neural

/// A trained model (or a training checkpoint) as one `.safetensors` file that needs nothing else to sample:
///
/// - tensors `raw.<path>` (the trained weights) and `ema.<path>` (their EMA, used for sampling);
/// - tensors `adam.m.<path>` and `adam.v.<path>` (AdamW's moments, in checkpoints written by `Trainer`) and
///   `state.<name>` (a family's extra training state, e.g. a consistency model's target network);
/// - metadata `format` = `substrate-generative/1`, `family`, the family's configuration keys, `denoiser_kind`
///   (`mlp` or `dit`; absent in older files, meaning `mlp`) and `denoiser` (its configuration as JSON), `scaling`
///   (the `AffineScaling` data → model units as JSON), `data` (a description of the training data), and the
///   training state `step`, `seed`, `ema_updates`, `adam_steps` / `adam_step_count` (the RNG of step k is derived
///   from (seed, k), so the step *is* the RNG state; with the moments, a resumed run repeats an uninterrupted
///   one bit for bit).
///
/// Written atomically (`SafetensorsFile.write`), so an interrupted save never leaves a partial file.
public struct GenerativeModelFile<S: BLASScalar> {
    public static var format: String { "substrate-generative/1" }

    public let family: any TrainableFamily<S>
    public let denoiserConfiguration: DenoiserConfiguration
    public let scaling: AffineScaling
    public var metadata: [String: String]
    /// The EMA weights by parameter path (nil when the file has none).
    public let emaWeights: [String: Tensor<S>]?
    public let step: Int
    public let seed: UInt64
    public let emaUpdates: Int
    /// AdamW's state when the file is a `Trainer` checkpoint that holds it (moments in `namedParameters()` order).
    public var optimizerState: Adam<S>.State? = nil
    /// The family's extra training state (`TrainableFamily.trainingState`), already loaded into `family`.
    public var trainingState: [String: Tensor<S>] = [:]

    /// Writes `family`'s current (raw) weights, `ema` shadow weights (in `namedParameters()` order) and the state.
    public static func save(to path: String, family: any TrainableFamily<S>, denoiserConfiguration: MLPDenoiserConfiguration,
                            scaling: AffineScaling, ema: [Tensor<S>]?, step: Int, seed: UInt64, emaUpdates: Int,
                            extra: [String: String] = [:], overwrite: Bool = true) throws {
        try save(to: path, family: family, denoiser: .mlp(denoiserConfiguration), scaling: scaling, ema: ema, step: step, seed: seed,
                 emaUpdates: emaUpdates, extra: extra, overwrite: overwrite)
    }

    /// Writes `family`'s current (raw) weights, `ema` shadow weights (in `namedParameters()` order), the optimiser's
    /// state (when given), the family's `trainingState` and the training counters.
    public static func save(to path: String, family: any TrainableFamily<S>, denoiser: DenoiserConfiguration,
                            scaling: AffineScaling, ema: [Tensor<S>]?, step: Int, seed: UInt64, emaUpdates: Int,
                            optimizer: Adam<S>.State? = nil, extra: [String: String] = [:], overwrite: Bool = true) throws {
        var tensors: [String: NDArray] = [:]
        let named = family.denoiser.namedParameters()
        for (n, p) in named { tensors["raw." + n] = NDArray(p.value) }
        if let e = ema {
            guard e.count == named.count else { throw TensorError.invalidArgument("model file: \(e.count) EMA tensors for \(named.count) parameters") }
            for ((n, _), v) in zip(named, e) { tensors["ema." + n] = NDArray(v) }
        }
        var meta = extra.merging(family.configurationMetadata) { $1 }
        if let o = optimizer {
            guard o.firstMoments.count == named.count, o.secondMoments.count == named.count, o.parameterSteps.count == named.count else {
                throw TensorError.invalidArgument("model file: optimiser state for \(o.firstMoments.count) tensors, \(named.count) parameters")
            }
            for (i, (n, _)) in named.enumerated() {
                tensors["adam.m." + n] = NDArray(o.firstMoments[i])
                tensors["adam.v." + n] = NDArray(o.secondMoments[i])
            }
            meta["adam_steps"] = o.parameterSteps.map(String.init).joined(separator: ",")
            meta["adam_step_count"] = String(o.stepCount)
        }
        for (k, v) in family.trainingState { tensors["state." + k] = NDArray(v) }
        meta["format"] = format
        meta["family"] = family.familyName.rawValue
        meta.merge(try denoiser.metadata()) { $1 }
        meta["scaling"] = String(decoding: try JSONEncoder().encode(scaling), as: UTF8.self)
        meta["step"] = String(step)
        meta["seed"] = String(seed)
        meta["ema_updates"] = String(emaUpdates)
        try SafetensorsFile(tensors: tensors, metadata: meta).write(to: path, overwrite: overwrite)
    }

    /// Reads a model file and rebuilds the family with the raw weights loaded (`useEMA` puts the EMA weights in
    /// the network instead, as for sampling).
    public static func load(_ path: String, useEMA: Bool = false) throws -> GenerativeModelFile<S> {
        let file = try SafetensorsFile.read(path)
        let m = file.metadata
        guard m["format"] == format else { throw TensorError.invalidArgument("\(path): not a Substrate generative model file (format \(m["format"] ?? "missing"))") }
        func need(_ k: String) throws -> String {
            guard let v = m[k] else { throw TensorError.invalidArgument("\(path): metadata '\(k)' is missing") }
            return v
        }
        func number(_ k: String) throws -> Double {
            guard let v = Double(try need(k)), v.isFinite else { throw TensorError.invalidArgument("\(path): metadata '\(k)' is not a finite number") }
            return v
        }
        /// A whole number in 0 … 2³¹ (a count or a step), refused before `Int(_:)` could trap on NaN, ±∞ or 1e300.
        func integer(_ k: String) throws -> Int {
            let v = try number(k)
            guard v >= 0, v <= Double(Int32.max), v == v.rounded() else {
                throw TensorError.invalidArgument("\(path): metadata '\(k)' must be a whole number in 0…\(Int32.max), got \(m[k] ?? "")")
            }
            return Int(v)
        }
        /// The Gaussian skip's variance (absent in files written before it existed: 0).
        func skipVariance() throws -> Double {
            guard m["skip_variance"] != nil else { return 0 }
            let v = try number("skip_variance")
            guard v >= 0 else { throw TensorError.invalidArgument("\(path): metadata 'skip_variance' must be ≥ 0, got \(v)") }
            return v
        }
        let dc: DenoiserConfiguration
        do { dc = try DenoiserConfiguration(metadata: m) } catch { throw TensorError.invalidArgument("\(path): \(error)") }
        // The configuration is only a claim: before a network is allocated from it, its size must be that of the
        // weights the file really holds (a file claiming width 10⁹ would otherwise allocate first and fail later).
        let stored = file.tensors.filter { $0.key.hasPrefix("raw.") }.reduce(0) { $0 + $1.value.shape.reduce(1, *) }
        let claimed = dc.approximateParameterCount
        guard claimed <= 4 * stored + 1_000_000 else {
            throw TensorError.invalidArgument("\(path): the denoiser configuration describes about \(claimed) parameters but the file holds \(stored) raw weights")
        }
        let scaling = try JSONDecoder().decode(AffineScaling.self, from: Data(try need("scaling").utf8))
        let net: any Denoiser<S> = try dc.makeDenoiser(seed: 0)
        let family: any TrainableFamily<S>
        switch try FamilyName(parsing: need("family")) {
        case .ddpm:
            let c = DDPMConfiguration(betaSchedule: try decodeBetaSchedule(need("beta_schedule")), timesteps: try integer("timesteps"),
                                      target: try PredictionTarget(parsing: need("target")), variance: try PosteriorVariance(parsing: need("variance")),
                                      clipSample: m["clip_sample"].flatMap(Double.init),
                                      lossWeighting: try DiffusionLossWeighting(parsing: m["loss_weighting"] ?? "uniform"),
                                      skipVariance: try skipVariance())
            family = try DDPM(denoiser: net, configuration: c)
        case .flowMatching:
            family = try FlowMatching(denoiser: net, configuration: FlowMatchingConfiguration(sigmaMin: try number("sigma_min"),
                                                                                            pairing: try OTPairing(parsing: need("pairing")),
                                                                                            prediction: try FlowPrediction(parsing: m["prediction"] ?? "velocity"),
                                                                                            skipVariance: try skipVariance()))
        case .scoreSDE:
            let a = try number("sde_p1"), b = try number("sde_p2")
            let sde: ScoreSDE
            switch try ScoreSDE(parsing: need("sde")) {
            case .vp: sde = .vp(betaMin: a, betaMax: b)
            case .subVP: sde = .subVP(betaMin: a, betaMax: b)
            case .ve: sde = .ve(sigmaMin: a, sigmaMax: b)
            }
            guard let w = ScoreSDE.Weighting(rawValue: try need("weighting")) else { throw TensorError.invalidArgument("\(path): bad weighting") }
            family = try ScoreSDEModel(denoiser: net, configuration: ScoreSDEConfiguration(sde: sde, weighting: w, snr: try number("snr"),
                                                                                            correctorSteps: try integer("corrector_steps"),
                                                                                            prediction: try ScorePrediction(parsing: m["prediction"] ?? "noise"),
                                                                                            skipVariance: try skipVariance()))
        case .consistency:
            do {
                family = try ConsistencyModel(denoiser: net, configuration: ConsistencyModel<S>.configuration(metadata: m, dimension: dc.dimension))
            } catch { throw TensorError.invalidArgument("\(path): \(error)") }
        }
        var raw: [String: Tensor<S>] = [:], ema: [String: Tensor<S>] = [:], am: [String: Tensor<S>] = [:], av: [String: Tensor<S>] = [:]
        var state: [String: Tensor<S>] = [:]
        for (k, _) in file.tensors {
            if k.hasPrefix("raw.") { raw[String(k.dropFirst(4))] = try file.tensor(k, as: S.self) }
            else if k.hasPrefix("ema.") { ema[String(k.dropFirst(4))] = try file.tensor(k, as: S.self) }
            else if k.hasPrefix("adam.m.") { am[String(k.dropFirst(7))] = try file.tensor(k, as: S.self) }
            else if k.hasPrefix("adam.v.") { av[String(k.dropFirst(7))] = try file.tensor(k, as: S.self) }
            else if k.hasPrefix("state.") { state[String(k.dropFirst(6))] = try file.tensor(k, as: S.self) }
        }
        // The target network starts from the raw weights; a checkpoint's own state replaces it.
        try net.loadStateDict(raw)
        if let c = family as? ConsistencyModel<S> { try c.updateTarget(decay: 0) }
        try family.loadTrainingState(state)
        if useEMA && !ema.isEmpty { try net.loadStateDict(ema) }
        var optimizer: Adam<S>.State? = nil
        if !am.isEmpty, let steps = m["adam_steps"], let count = m["adam_step_count"].flatMap(Int.init) {
            let names = net.namedParameters().map(\.name)
            let ps = steps.split(separator: ",").compactMap { Int($0) }
            guard ps.count == names.count else { throw TensorError.invalidArgument("\(path): 'adam_steps' has \(ps.count) entries for \(names.count) parameters") }
            let mm = try names.map { n in
                guard let t = am[n] else { throw TensorError.invalidArgument("\(path): optimiser moment 'adam.m.\(n)' is missing") }
                return t
            }
            let vv = try names.map { n in
                guard let t = av[n] else { throw TensorError.invalidArgument("\(path): optimiser moment 'adam.v.\(n)' is missing") }
                return t
            }
            optimizer = Adam<S>.State(firstMoments: mm, secondMoments: vv, parameterSteps: ps, stepCount: count)
        }
        var out = GenerativeModelFile(family: family, denoiserConfiguration: dc, scaling: scaling, metadata: m,
                                      emaWeights: ema.isEmpty ? nil : ema, step: try integer("step"),
                                      seed: UInt64(try need("seed")) ?? 0, emaUpdates: try integer("ema_updates"))
        out.optimizerState = optimizer
        out.trainingState = state
        return out
    }
}
