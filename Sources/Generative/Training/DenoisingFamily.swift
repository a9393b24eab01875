import Foundation
import Linear
import Neural

/// The family names of the command line.
public enum FamilyName: String, Sendable, CaseIterable {
    case ddpm
    case scoreSDE = "score-sde"
    case flowMatching = "flow-matching"
    case consistency

    /// Parses `ddpm`, `score-sde`, `flow-matching` or `consistency` (`dit` is a denoiser, not a family: train a
    /// family with `--denoiser dit`, or `vst train dit`, which is DDPM with a DiT).
    public init(parsing name: String) throws {
        guard let f = FamilyName(rawValue: name.lowercased()) else {
            throw ConfigurationError(field: "FamilyName.name", reason: "unknown or unavailable family '\(name)': expected ddpm, score-sde, flow-matching or consistency (dit is the denoiser network: --denoiser dit)")
        }
        self = f
    }

    /// The family's default sampler and step count.
    public var defaultSampler: (name: String, steps: Int) {
        switch self {
        case .ddpm: return ("ddim", 100)
        case .scoreSDE: return ("euler-maruyama", 500)
        case .flowMatching: return ("rk4", 20)
        case .consistency: return ("onestep", 1)
        }
    }
}

/// What a denoising family (ddpm, score-sde, flow-matching, consistency) gives `DenoisingModel`, which makes it a
/// `GenerativeModel`: its network and a stochastic loss on a batch.
public protocol TrainableFamily<Scalar>: AnyObject {
    associatedtype Scalar: BLASScalar
    var denoiser: any Denoiser<Scalar> { get }
    /// The family's name on the command line.
    var familyName: FamilyName { get }
    /// The family's settings by name (`DenoisingModelConfiguration.settings`, read back by `DenoisingModel.makeFamily`).
    var configurationMetadata: [String: String] { get }
    /// A stochastic loss on a batch of data in model units, drawing its randomness from `g`.
    func loss(x0: Tensor<Scalar>, labels: [Int]?, using g: inout RandomGenerator) throws -> Variable<Scalar>
    /// Called by `DenoisingModel` before the loss of step k (0-based) of a run of `totalSteps` (default: nothing; the
    /// consistency model's N(k) curriculum reads k here).
    func willTrain(step k: Int, of totalSteps: Int) throws
    /// Called by `DenoisingModel` after the optimiser update of step k (default: nothing; the consistency model moves its
    /// target network θ⁻ ← μ·θ⁻ + (1 − μ)·θ here).
    func didTrain(step k: Int, of totalSteps: Int) throws
    /// Training state beyond the network's weights, saved in checkpoints as `state.<name>` tensors (default: none;
    /// the consistency model's target network).
    var trainingState: [String: Tensor<Scalar>] { get }
    /// Restores `trainingState` from a checkpoint (default: nothing).
    func loadTrainingState(_ state: [String: Tensor<Scalar>]) throws
    /// Called when weights were loaded into the network, before `loadTrainingState` (default: nothing; the
    /// consistency model's target network starts from the loaded weights, θ⁻ ← θ).
    func didLoadWeights() throws
}

extension TrainableFamily {
    public func willTrain(step k: Int, of totalSteps: Int) throws {}
    public func didTrain(step k: Int, of totalSteps: Int) throws {}
    public var trainingState: [String: Tensor<Scalar>] { [:] }
    public func loadTrainingState(_ state: [String: Tensor<Scalar>]) throws {}
    public func didLoadWeights() throws {}
}

extension DDPM: TrainableFamily {
    public typealias Scalar = S
    public var familyName: FamilyName { .ddpm }
    public var configurationMetadata: [String: String] {
        var m = ["beta_schedule": encode(configuration.betaSchedule), "timesteps": String(configuration.timesteps),
                 "target": configuration.target.rawValue, "variance": configuration.variance.rawValue]
        if let c = configuration.clipSample { m["clip_sample"] = String(c) }
        if configuration.lossWeighting != .uniform { m["loss_weighting"] = configuration.lossWeighting.rawValue }
        if configuration.skipVariance > 0 { m["skip_variance"] = String(configuration.skipVariance) }
        return m
    }
}

extension FlowMatching: TrainableFamily {
    public typealias Scalar = S
    public var familyName: FamilyName { .flowMatching }
    public var configurationMetadata: [String: String] {
        var m = ["sigma_min": String(configuration.sigmaMin), "pairing": configuration.pairing.rawValue, "prediction": configuration.prediction.rawValue]
        if configuration.skipVariance > 0 { m["skip_variance"] = String(configuration.skipVariance) }
        return m
    }
}

extension ScoreSDEModel: TrainableFamily {
    public typealias Scalar = S
    public var familyName: FamilyName { .scoreSDE }
    public var configurationMetadata: [String: String] {
        let (a, b): (Double, Double)
        switch configuration.sde { case let .vp(x, y), let .subVP(x, y), let .ve(x, y): (a, b) = (x, y) }
        return ["sde": configuration.sde.name, "sde_p1": String(a), "sde_p2": String(b), "weighting": configuration.weighting.rawValue,
                "snr": String(configuration.snr), "corrector_steps": String(configuration.correctorSteps),
                "prediction": configuration.prediction.rawValue].merging(
                    configuration.skipVariance > 0 ? ["skip_variance": String(configuration.skipVariance)] : [:]) { $1 }
    }
}

extension ConsistencyModel: TrainableFamily {
    public typealias Scalar = S
    public var familyName: FamilyName { .consistency }
    public var configurationMetadata: [String: String] {
        let c = configuration, s = c.schedule
        var m: [String: String] = ["sigma_min": String(s.sigmaMin), "sigma_max": String(s.sigmaMax), "rho": String(s.rho), "sigma_data": String(s.sigmaData),
                "mode": c.mode.rawValue, "ct_s0": String(c.initialSteps), "ct_s1": String(c.finalSteps), "ct_mu0": String(c.initialDecay),
                "cd_steps": String(c.distillationSteps), "cd_mu": String(c.distillationDecay), "metric": c.metric.name,
                "weighting": c.weighting.rawValue, "noise_sampling": c.noiseSampling.name]
        if let d = c.trainingDecay { m["ct_mu_fixed"] = String(d) }
        // Files written before the data prediction have no key and load with the paper's EDM parameterisation.
        if s.prediction != .edm { m["prediction"] = s.prediction.rawValue }
        return m
    }

    public func willTrain(step k: Int, of totalSteps: Int) throws {
        trainingStep = k
        trainingSteps = Swift.max(1, totalSteps)
    }

    public func didTrain(step k: Int, of totalSteps: Int) throws {
        try updateTarget(decay: targetDecay(step: k, of: Swift.max(1, totalSteps)))
    }

    public func didLoadWeights() throws { try updateTarget(decay: 0) }

    /// The target network θ⁻ as `target.<parameter path>`.
    public var trainingState: [String: Tensor<S>] {
        var d: [String: Tensor<S>] = [:]
        for ((n, _), w) in zip(denoiser.namedParameters(), targetWeights) { d["target." + n] = w }
        return d
    }

    public func loadTrainingState(_ state: [String: Tensor<S>]) throws {
        let named = denoiser.namedParameters()
        guard state.keys.contains(where: { $0.hasPrefix("target.") }) else { return }
        targetWeights = try named.map { n, p in
            guard let w = state["target." + n] else { throw ModelStateError(reason: "consistency model: target weight '\(n)' is missing") }
            guard w.shape == p.shape else { throw ModelStateError(reason: "consistency model: target weight '\(n)' has shape \(w.shape), expected \(p.shape)") }
            return w
        }
    }

    /// Rebuilds the configuration from `configurationMetadata`.
    static func configuration(metadata m: [String: String], dimension: Int) throws -> ConsistencyConfiguration {
        func number(_ k: String) throws -> Double {
            guard let v = m[k].flatMap(Double.init) else { throw ModelStateError(reason: "consistency model file: metadata '\(k)' is missing or not a number") }
            return v
        }
        let s = try ConsistencySchedule(sigmaMin: number("sigma_min"), sigmaMax: number("sigma_max"), rho: number("rho"), sigmaData: number("sigma_data"),
                                       prediction: ConsistencyPrediction(parsing: m["prediction"] ?? "edm"))
        return ConsistencyConfiguration(schedule: s, mode: try ConsistencyMode(parsing: m["mode"] ?? "ct"), initialSteps: Int(try number("ct_s0")),
                                        finalSteps: Int(try number("ct_s1")), initialDecay: try number("ct_mu0"),
                                        distillationSteps: Int(try number("cd_steps")), distillationDecay: try number("cd_mu"),
                                        metric: try ConsistencyMetric(parsing: m["metric"] ?? "l2", dimension: dimension),
                                        trainingDecay: m["ct_mu_fixed"].flatMap(Double.init),
                                        weighting: try ConsistencyWeighting(parsing: m["weighting"] ?? "uniform"),
                                        noiseSampling: try ConsistencyNoiseSampling(parsing: m["noise_sampling"] ?? "uniform"))
    }
}

/// `name:p1:p2` for a beta schedule.
func encode(_ b: BetaSchedule) -> String {
    switch b {
    case let .linear(x, y), let .scaledLinear(x, y), let .cosine(x, y): return "\(b.name):\(x):\(y)"
    }
}

func decodeBetaSchedule(_ s: String, path: String) throws -> BetaSchedule {
    let p = s.split(separator: ":").map(String.init)
    guard p.count == 3, let x = Double(p[1]), let y = Double(p[2]) else { throw ModelFileError(path: path, reason: "bad beta schedule '\(s)' in model file") }
    switch p[0] {
    case "linear": return .linear(start: x, end: y)
    case "scaled-linear": return .scaledLinear(start: x, end: y)
    case "cosine": return .cosine(offset: x, maxBeta: y)
    default: throw ModelFileError(path: path, reason: "bad beta schedule '\(s)' in model file")
    }
}
