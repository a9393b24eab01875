import Foundation
import Linear
import Neural

/// A trained model (or a training checkpoint) as one `.safetensors` file that needs nothing else to sample:
///
/// - tensors `raw.<path>` (the trained weights) and `ema.<path>` (their EMA, used for sampling);
/// - metadata `format` = `substrate-generative/1`, `family`, the family's configuration keys, `denoiser` (the
///   `MLPDenoiserConfiguration` as JSON), `scaling` (the `AffineScaling` data → model units as JSON), `data`
///   (a description of the training data), and the training state `step`, `seed`, `ema_updates` (the RNG of step k
///   is derived from (seed, k), so the step *is* the RNG state).
///
/// Written atomically (`SafetensorsFile.write`), so an interrupted save never leaves a partial file.
public struct GenerativeModelFile<S: BLASScalar> {
    public static var format: String { "substrate-generative/1" }

    public let family: any TrainableFamily<S>
    public let denoiserConfiguration: MLPDenoiserConfiguration
    public let scaling: AffineScaling
    public var metadata: [String: String]
    /// The EMA weights by parameter path (nil when the file has none).
    public let emaWeights: [String: Tensor<S>]?
    public let step: Int
    public let seed: UInt64
    public let emaUpdates: Int

    /// Writes `family`'s current (raw) weights, `ema` shadow weights (in `namedParameters()` order) and the state.
    public static func save(to path: String, family: any TrainableFamily<S>, denoiserConfiguration: MLPDenoiserConfiguration,
                            scaling: AffineScaling, ema: [Tensor<S>]?, step: Int, seed: UInt64, emaUpdates: Int,
                            extra: [String: String] = [:], overwrite: Bool = true) throws {
        var tensors: [String: NDArray] = [:]
        let named = family.denoiser.namedParameters()
        for (n, p) in named { tensors["raw." + n] = NDArray(p.value) }
        if let e = ema {
            guard e.count == named.count else { throw TensorError.invalidArgument("model file: \(e.count) EMA tensors for \(named.count) parameters") }
            for ((n, _), v) in zip(named, e) { tensors["ema." + n] = NDArray(v) }
        }
        var meta = extra.merging(family.configurationMetadata) { $1 }
        meta["format"] = format
        meta["family"] = family.familyName.rawValue
        meta["denoiser"] = String(decoding: try JSONEncoder().encode(denoiserConfiguration), as: UTF8.self)
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
            guard let v = Double(try need(k)) else { throw TensorError.invalidArgument("\(path): metadata '\(k)' is not a number") }
            return v
        }
        let dc = try JSONDecoder().decode(MLPDenoiserConfiguration.self, from: Data(try need("denoiser").utf8))
        let scaling = try JSONDecoder().decode(AffineScaling.self, from: Data(try need("scaling").utf8))
        let net = try MLPDenoiser<S>(dc, seed: 0)
        let family: any TrainableFamily<S>
        switch try FamilyName(parsing: need("family")) {
        case .ddpm:
            let c = DDPMConfiguration(betaSchedule: try decodeBetaSchedule(need("beta_schedule")), timesteps: Int(try number("timesteps")),
                                      target: try PredictionTarget(parsing: need("target")), variance: try PosteriorVariance(parsing: need("variance")),
                                      clipSample: m["clip_sample"].flatMap(Double.init))
            family = try DDPM(denoiser: net, configuration: c)
        case .flowMatching:
            family = try FlowMatching(denoiser: net, configuration: FlowMatchingConfiguration(sigmaMin: try number("sigma_min"),
                                                                                            pairing: try OTPairing(parsing: need("pairing"))))
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
                                                                                            correctorSteps: Int(try number("corrector_steps"))))
        }
        var raw: [String: Tensor<S>] = [:], ema: [String: Tensor<S>] = [:]
        for (k, _) in file.tensors {
            if k.hasPrefix("raw.") { raw[String(k.dropFirst(4))] = try file.tensor(k, as: S.self) }
            else if k.hasPrefix("ema.") { ema[String(k.dropFirst(4))] = try file.tensor(k, as: S.self) }
        }
        try net.loadStateDict(useEMA && !ema.isEmpty ? ema : raw)
        return GenerativeModelFile(family: family, denoiserConfiguration: dc, scaling: scaling, metadata: m,
                                   emaWeights: ema.isEmpty ? nil : ema, step: Int(try number("step")),
                                   seed: UInt64(try need("seed")) ?? 0, emaUpdates: Int(try number("ema_updates")))
    }
}
