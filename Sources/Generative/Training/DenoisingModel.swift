import Foundation
import Linear
import Neural

/// The optimisation settings of a denoising family (defaults suit the 2-D toys and the digits with a small MLP
/// denoiser), and of `Trainer`.
public struct TrainingConfiguration: Sendable, Equatable, Codable {
    public var steps: Int = 2000
    public var batchSize: Int = 256
    /// Peak learning rate of AdamW (cosine decay after a linear warm-up).
    public var learningRate: Double = 2e-3
    public var warmupSteps: Int = 100
    public var minimumLearningRate: Double = 1e-5
    public var weightDecay: Double = 0
    /// Global-norm gradient clipping (nil: none).
    public var clipNorm: Double? = 1
    /// EMA decay of the sampling weights (with the (1 + t)/(10 + t) warm-up).
    public var emaDecay: Double = 0.999
    /// Probability of replacing a label by the null label (`classCount`) for classifier-free guidance (0.1 in
    /// Ho & Salimans 2022; 0 here: no dropout).
    public var labelDropout: Double = 0
    public var seed: UInt64 = 0
    /// Report progress (`Trainer.progress`) every this many steps (0: never).
    public var progressEvery: Int = 0
    /// Save a checkpoint every this many steps to `checkpointPath` (0: only at the end, when a path is given).
    public var checkpointEvery: Int = 0
    public var checkpointPath: String? = nil

    public init(steps: Int = 2000, batchSize: Int = 256, learningRate: Double = 2e-3, seed: UInt64 = 0) {
        self.steps = steps; self.batchSize = batchSize; self.learningRate = learningRate; self.seed = seed
    }
}

extension FamilyName: Codable {}

extension DenoiserConfiguration: Codable {
    enum CodingKeys: String, CodingKey { case kind, configuration }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        switch try c.decode(String.self, forKey: .kind) {
        case "mlp": self = .mlp(try c.decode(MLPDenoiserConfiguration.self, forKey: .configuration))
        case "dit": self = .dit(try c.decode(DiTConfiguration.self, forKey: .configuration))
        case let other:
            throw DecodingError.dataCorruptedError(forKey: .kind, in: c, debugDescription: "unknown denoiser kind '\(other)' (expected mlp or dit)")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(kind, forKey: .kind)
        switch self {
        case let .mlp(m): try c.encode(m, forKey: .configuration)
        case let .dit(d): try c.encode(d, forKey: .configuration)
        }
    }
}

/// What rebuilds a `DenoisingModel`: the family and its settings (`TrainableFamily.configurationMetadata`), the
/// network and the optimisation settings.
public struct DenoisingModelConfiguration: Sendable, Equatable, Codable {
    public var family: FamilyName
    /// The family's settings by name (β schedule, prediction target, SDE, σ's, …).
    public var settings: [String: String]
    public var denoiser: DenoiserConfiguration
    public var training: TrainingConfiguration
}

/// A denoising family (DDPM, score SDE, flow matching, consistency; DiT or MLP network) as a `GenerativeModel`:
/// the network is the one named network `denoiser`, the one optimiser `optimizer` is AdamW with a linear warm-up and
/// cosine decay of the learning rate, and the buffers hold the EMA of the weights (`ema.<path>`, `ema_updates`) and
/// the family's training state (`state.<name>`, e.g. a consistency model's target network).
///
/// One training step on a batch x₀ (model units):
///
///     lr_k = cosine schedule with warm-up (Loshchilov & Hutter 2017),  L = the family's loss on x₀,
///     g = ∇L clipped to global norm `clipNorm`,  θ ← AdamW(θ, g),  e ← d·e + (1 − d)·θ,  d = min(decay, (1 + u)/(10 + u))
///
/// after update u (the EMA warm-up of Neural's `ExponentialMovingAverage`). With `labelDropout` p, each label is
/// replaced by the null label with probability p (classifier-free guidance, Ho & Salimans 2022). A loss or gradient
/// norm that is not finite throws `TrainingError.nonFinite` before the weights are touched.
///
/// Sampling (`draw`) uses the network's current weights: `useEMAWeights()` (or loading a model file with
/// `useEMA`) puts the EMA in first.
public final class DenoisingModel<S: BLASScalar>: GenerativeModel {
    public typealias Scalar = S
    public let family: any TrainableFamily<S>
    public let denoiserConfiguration: DenoiserConfiguration
    public let training: TrainingConfiguration
    public let optimizer: AdamW<S>
    public let networks: ModuleGroup<S>
    let schedule: LearningRateSchedule
    /// The EMA of the weights in `namedParameters()` order, and its number of updates.
    public internal(set) var emaWeights: [Tensor<S>]
    public internal(set) var emaUpdates = 0

    /// A model of `family`, whose network has configuration `denoiser`, optimised as `training` says.
    public init(family: any TrainableFamily<S>, denoiser: DenoiserConfiguration, training: TrainingConfiguration) throws {
        guard training.steps >= 0, training.batchSize >= 1, training.learningRate > 0, training.learningRate.isFinite else {
            throw ConfigurationError(field: "TrainingConfiguration", reason: "training: need steps ≥ 0, batch size ≥ 1 and a positive learning rate")
        }
        guard training.emaDecay.isFinite, (0...1).contains(training.emaDecay) else {
            throw ConfigurationError(field: "TrainingConfiguration.emaDecay", reason: "training: the EMA decay must be a number in [0, 1], got \(training.emaDecay)")
        }
        guard denoiser.dimension == family.denoiser.dimension else {
            throw ConfigurationError(field: "DenoisingModel.denoiser", reason: "training: the denoiser configuration is \(denoiser.dimension)-dimensional, the network \(family.denoiser.dimension)-dimensional")
        }
        self.family = family
        denoiserConfiguration = denoiser
        self.training = training
        networks = ModuleGroup([("denoiser", family.denoiser)])
        optimizer = AdamW(parameters: family.denoiser.parameters, learningRate: training.learningRate, weightDecay: training.weightDecay)
        schedule = .cosine(peak: training.learningRate, totalSteps: training.steps, warmupSteps: Swift.min(training.warmupSteps, training.steps / 2),
                           minimum: training.minimumLearningRate)
        emaWeights = family.denoiser.parameters.map(\.value)
    }

    public var familyName: GenerativeFamilyName { GenerativeFamilyName(family.familyName) }
    public var configuration: DenoisingModelConfiguration {
        DenoisingModelConfiguration(family: family.familyName, settings: family.configurationMetadata, denoiser: denoiserConfiguration, training: training)
    }
    public var optimizers: [(name: String, optimizer: Adam<S>)] { [("optimizer", optimizer)] }
    public var classCount: Int { family.denoiser.classCount }
    /// The stream of the denoising families' step generators (unchanged since the first trainer, so runs repeat).
    public var trainingStream: UInt64 { 0x7EA1_1E55 }
    /// The denoising families keep training mode after a run (as the first trainer did).
    public func finishTraining(data: Tensor<S>) throws {}

    /// `ema.<path>` (the EMA weights), `ema_updates`, and `state.<name>` (the family's training state).
    public var buffers: [String: Tensor<S>] {
        var b = WeightAverage.buffers(emaWeights, updates: emaUpdates, names: family.denoiser.namedParameters())
        for (k, v) in family.trainingState { b["state." + k] = v }
        return b
    }

    /// Restores the EMA (when present; otherwise it restarts from the current weights) and the training state (the
    /// family's default, e.g. a target network equal to the weights, when absent).
    public func loadBuffers(_ b: [String: Tensor<S>]) throws {
        let named = family.denoiser.namedParameters()
        let stored = try WeightAverage.load(b, names: named, label: "EMA weight")
        emaWeights = stored?.weights ?? named.map(\.parameter.value)
        emaUpdates = stored?.updates ?? 0
        try family.didLoadWeights()
        var state: [String: Tensor<S>] = [:]
        for (k, v) in b where k.hasPrefix("state.") { state[String(k.dropFirst(6))] = v }
        try family.loadTrainingState(state)
    }

    /// Puts the EMA weights into the network (for sampling after training).
    public func useEMAWeights() {
        for (p, e) in zip(family.denoiser.parameters, emaWeights) { p.value = e }
    }

    func updateEMA() throws {
        // The denoiser's parameters, listed once at init.
        try WeightAverage.update(&emaWeights, updates: &emaUpdates, from: optimizer.parameters, decay: training.emaDecay)
    }

    public func trainStep(_ x: Tensor<S>, labels: [Int]?, step: Int, using g: inout RandomGenerator) throws -> StepStatistics {
        guard x.rank == 2, x.shape[1] == family.denoiser.dimension else {
            throw TensorError.invalidShape("training: expected data [n, \(family.denoiser.dimension)], got \(x.shape)")
        }
        optimizer.learningRate = schedule.learningRate(at: step)
        var batchLabels = labels
        if training.labelDropout > 0, var bl = batchLabels {
            for i in bl.indices where g.nextUniform() < training.labelDropout { bl[i] = family.denoiser.classCount }
            batchLabels = bl
        }
        try family.willTrain(step: step, of: training.steps)
        let loss = try family.loss(x0: x, labels: batchLabels, using: &g)
        let l = Double(loss.scalar)
        guard l.isFinite else { throw TrainingError.nonFinite("the loss is \(l)") }
        optimizer.zeroGrad()
        try loss.backward()
        let norm = clipGradientNorm(optimizer.parameters, maxNorm: training.clipNorm ?? .infinity)
        guard norm.isFinite else { optimizer.zeroGrad(); throw TrainingError.nonFinite("the gradient norm is \(norm) (loss \(l))") }
        try optimizer.step()
        try updateEMA()
        try family.didTrain(step: step, of: training.steps)
        return [("loss", l)]
    }

    /// `n` samples with the family's default sampler; `labels` must be nil (classes in turn) or one class for all.
    public func generate(_ n: Int, labels: [Int]?, seed: UInt64) throws -> Tensor<S> {
        var o = SamplingOptions()
        if let l = labels, let first = l.first {
            guard l.count == n else { throw TensorError.invalidShape("sampling: \(l.count) labels for \(n) samples") }
            if l.allSatisfy({ $0 == first }) { o.label = first }
            else if l != (0..<n).map({ $0 % Swift.max(1, classCount) }) {
                throw ConfigurationError(field: "DenoisingModel.generate(labels:)", reason: "sampling: a denoising model takes one label for all samples, or the classes in turn")
            }
        }
        return try draw(n, sampler: nil, steps: nil, seed: seed, options: o, recorder: nil, progress: nil).samples
    }

    /// Draws `n` samples (model units) with `sampler` in `steps` steps (nil: the family's default sampler and count).
    /// The recorder, if any, sees the first batch.
    public func draw(_ n: Int, sampler: SamplerName?, steps: Int?, seed: UInt64, options: SamplingOptions,
                     recorder: TrajectoryRecorder<S>?, progress: ((Int, Int) -> Void)?) throws -> SamplingResult<S> {
        let fam = family.familyName
        let s = try sampler ?? SamplerName(parsing: fam.defaultSampler.name)
        guard SamplerName.valid(for: fam).contains(s) else {
            throw ConfigurationError(field: "sampler", reason: "sampler '\(s.rawValue)' does not apply to a \(fam.rawValue) model: use one of \(SamplerName.valid(for: fam).map(\.rawValue).joined(separator: ", "))")
        }
        var k = steps ?? fam.defaultSampler.steps
        if steps == nil, let m = family as? DDPM<S> { k = s == .ddpm ? m.schedule.timesteps : Swift.min(k, m.schedule.timesteps) }
        if steps == nil, s == .multistep { k = 2 }
        if s == .onestep, k != 1 { throw ConfigurationError(field: "steps", reason: "the onestep sampler takes 1 step; use multistep for \(k)") }
        guard k >= 1 else { throw ConfigurationError(field: "steps", reason: "sampling: the number of steps must be ≥ 1, got \(k)") }
        guard n >= 1 else { throw ConfigurationError(field: "n", reason: "sampling: need n ≥ 1 and batch size ≥ 1") }
        guard options.batchSize >= 1 else { throw ConfigurationError(field: "SamplingOptions.batchSize", reason: "sampling: need n ≥ 1 and batch size ≥ 1") }
        let noise = SeededNoise(seed: seed)
        let classes = family.denoiser.classCount
        if let l = options.label, !(0..<classes).contains(l) {
            throw ConfigurationError(field: "SamplingOptions.label", reason: classes == 0 ? "this model is unconditional; it takes no label" : "label \(l) is outside 0..<\(classes)")
        }
        if options.guidance != 0 && classes == 0 { throw ConfigurationError(field: "SamplingOptions.guidance", reason: "guidance needs a class-conditional model") }
        switch family {
        case let f as DDPM<S>: f.guidanceScale = options.guidance
        case let f as FlowMatching<S>: f.guidanceScale = options.guidance
        case let f as ScoreSDEModel<S>: f.guidanceScale = options.guidance
        case let f as ConsistencyModel<S>: f.guidanceScale = options.guidance
        default: break
        }
        var parts: [Tensor<S>] = []
        var evaluations = 0, stepsTaken = 0
        var first = 0
        while first < n {
            let m = Swift.min(options.batchSize, n - first)
            let rec = first == 0 ? recorder : nil
            let labels: [Int]? = classes == 0 ? nil : (first..<(first + m)).map { options.label ?? ($0 % classes) }
            let r: SamplingResult<S>
            switch (family, s) {
            case let (f as DDPM<S>, .ddpm):
                guard k == f.schedule.timesteps else {
                    throw ConfigurationError(field: "steps", reason: "the ddpm sampler takes all \(f.schedule.timesteps) steps; use ddim for \(k)")
                }
                r = try f.sample(m, noise: noise, firstRow: first, labels: labels, recorder: rec)
            case let (f as DDPM<S>, .ddim):
                r = try f.sampleDDIM(m, steps: k, eta: options.eta, spacing: options.spacing, noise: noise, firstRow: first, labels: labels, recorder: rec)
            case let (f as ScoreSDEModel<S>, _):
                let which: ScoreSDESampler = s == .eulerMaruyama ? .eulerMaruyama : s == .pc ? .predictorCorrector : .probabilityFlow
                r = try f.sample(m, sampler: which, steps: k, method: options.odeMethod, denoise: options.denoise, noise: noise, firstRow: first, labels: labels, recorder: rec)
            case let (f as FlowMatching<S>, _):
                r = try f.sample(m, method: try ODEMethod(parsing: s.rawValue), steps: k, tolerances: options.tolerances,
                                 noise: noise, firstRow: first, labels: labels, recorder: rec)
            case let (f as ConsistencyModel<S>, _):
                r = try f.sample(m, steps: k, noise: noise, firstRow: first, labels: labels, recorder: rec)
            default:
                throw ConfigurationError(field: "sampler", reason: "sampler '\(s.rawValue)' does not apply to this model")
            }
            parts.append(r.samples)
            evaluations += r.evaluations
            stepsTaken = r.steps
            first += m
            progress?(first, n)
        }
        let all = parts.count == 1 ? parts[0] : try Tensor.concatenate(parts, axis: 0)
        return SamplingResult(samples: all, evaluations: evaluations, steps: stepsTaken)
    }

    /// Rebuilds a family from its name, settings (`configurationMetadata`, in files of every version) and network.
    /// - Throws: `ModelFileError` naming `source` and the setting that is missing or malformed; `ConfigurationError`
    ///   for a setting the family refuses.
    public static func makeFamily(_ name: FamilyName, settings m: [String: String], denoiser dc: DenoiserConfiguration,
                                  source: String) throws -> any TrainableFamily<S> {
        let r = MetadataReader(m: m, path: source, noun: "setting")
        func need(_ k: String) throws -> String { try r.need(k) }
        func number(_ k: String) throws -> Double { try r.number(k) }
        func integer(_ k: String) throws -> Int { try r.integer(k) }
        /// The Gaussian skip's variance (absent in files written before it existed: 0).
        func skipVariance() throws -> Double {
            guard m["skip_variance"] != nil else { return 0 }
            let v = try number("skip_variance")
            guard v >= 0 else { throw ModelFileError(path: source, reason: "setting 'skip_variance' must be ≥ 0, got \(v)") }
            return v
        }
        let net: any Denoiser<S> = try dc.makeDenoiser(seed: 0)
        switch name {
        case .ddpm:
            let c = DDPMConfiguration(betaSchedule: try decodeBetaSchedule(need("beta_schedule"), path: source), timesteps: try integer("timesteps"),
                                      target: try PredictionTarget(parsing: need("target")), variance: try PosteriorVariance(parsing: need("variance")),
                                      clipSample: m["clip_sample"].flatMap(Double.init),
                                      lossWeighting: try DiffusionLossWeighting(parsing: m["loss_weighting"] ?? "uniform"),
                                      skipVariance: try skipVariance())
            return try DDPM(denoiser: net, configuration: c)
        case .flowMatching:
            return try FlowMatching(denoiser: net, configuration: FlowMatchingConfiguration(sigmaMin: try number("sigma_min"),
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
            guard let w = ScoreSDE.Weighting(rawValue: try need("weighting")) else { throw ModelFileError(path: source, reason: "bad weighting") }
            return try ScoreSDEModel(denoiser: net, configuration: ScoreSDEConfiguration(sde: sde, weighting: w, snr: try number("snr"),
                                                                                          correctorSteps: try integer("corrector_steps"),
                                                                                          prediction: try ScorePrediction(parsing: m["prediction"] ?? "noise"),
                                                                                          skipVariance: try skipVariance()))
        case .consistency:
            do {
                return try ConsistencyModel(denoiser: net, configuration: ConsistencyModel<S>.configuration(metadata: m, dimension: dc.dimension))
            } catch { throw ModelFileError(path: source, reason: "\(error)") }
        }
    }
}

/// The family-independent trainer of the denoising families: a `DenoisingModel` run by `GenerativeTrainer`, with
/// atomic checkpoints (`GenerativeModelFile`) and exact resumption.
///
/// Determinism: the batch of step k and every random draw of its loss come from a generator seeded by
/// (seed, k), and checkpoints hold the raw and EMA weights, AdamW's moments and step counts, and the family's
/// training state (`TrainableFamily.trainingState`), so a run resumed at step k takes exactly the updates of an
/// uninterrupted run, bit for bit.
///
/// Divergence: a step whose loss or gradient norm is not finite stops the run with an error naming the step,
/// before the update touches the weights; nothing is saved then, so the last good checkpoint stays on disk.
public final class Trainer<S: BLASScalar> {
    public let model: DenoisingModel<S>
    public let scaling: AffineScaling
    public private(set) var step = 0
    /// Extra metadata written into checkpoints (e.g. the data's name).
    public var metadata: [String: String] = [:]
    /// Called after every optimisation step (with `step` already advanced), e.g. to keep a mid-training
    /// snapshot of `emaWeights`; an error it throws stops training.
    public var onStep: ((Trainer<S>) throws -> Void)?
    /// Called every `configuration.progressEvery` steps (the command line draws a progress line on stderr).
    public var progress: ((TrainingProgress) -> Void)?

    public var family: any TrainableFamily<S> { model.family }
    public var configuration: TrainingConfiguration { model.training }
    /// The network's configuration, written into checkpoints so they can be rebuilt.
    public var denoiserConfiguration: DenoiserConfiguration { model.denoiserConfiguration }
    public var optimizer: AdamW<S> { model.optimizer }
    public var emaWeights: [Tensor<S>] { model.emaWeights }
    public var emaUpdates: Int { model.emaUpdates }

    /// A trainer of `family`, whose network has the MLP configuration `denoiserConfiguration`.
    public convenience init(family: any TrainableFamily<S>, denoiserConfiguration: MLPDenoiserConfiguration, scaling: AffineScaling = .identity,
                            configuration: TrainingConfiguration) throws {
        try self.init(family: family, denoiser: .mlp(denoiserConfiguration), scaling: scaling, configuration: configuration)
    }

    /// A trainer of `family`; the network configuration is read from the network when it is an `MLPDenoiser` or a `DiT`.
    public convenience init(family: any TrainableFamily<S>, scaling: AffineScaling = .identity, configuration: TrainingConfiguration) throws {
        let dc: DenoiserConfiguration
        if let m = family.denoiser as? MLPDenoiser<S> { dc = .mlp(m.configuration) }
        else if let d = family.denoiser as? DiT<S> { dc = .dit(d.configuration) }
        else { throw ConfigurationError(field: "Trainer.family", reason: "training: give the denoiser configuration of a network that is neither an MLPDenoiser nor a DiT") }
        try self.init(family: family, denoiser: dc, scaling: scaling, configuration: configuration)
    }

    /// A trainer of `family`, whose network has configuration `denoiser` (recorded in checkpoints).
    public init(family: any TrainableFamily<S>, denoiser denoiserConfiguration: DenoiserConfiguration, scaling: AffineScaling = .identity,
                configuration: TrainingConfiguration) throws {
        model = try DenoisingModel(family: family, denoiser: denoiserConfiguration, training: configuration)
        self.scaling = scaling
    }

    /// Continues from a checkpoint (of any model-file version): raw and EMA weights, AdamW's moments (when the
    /// file has them), the family's training state and the step (and so the RNG state).
    public func resume(from path: String) throws {
        let file = try GenerativeModelFile<S>.load(path)
        guard file.model.familyName == model.familyName else {
            throw ModelFileError(path: path, reason: "a \(file.model.familyName.rawValue) checkpoint cannot resume a \(model.familyName.rawValue) run")
        }
        do { try model.restore(from: file.model, optimizerState: file.hasOptimizerState) } catch let e as ModelStateError {
            throw ModelFileError(path: path, reason: e.reason)
        }
        step = file.step
    }

    /// The generator of step k.
    public static func generator(seed: UInt64, step: Int) -> RandomGenerator {
        GenerativeTrainer.generator(seed: seed, step: step, stream: 0x7EA1_1E55)
    }

    /// Trains on `data` [n, D] (model units) from the current step up to `configuration.steps`, or only up to
    /// step `until` (the learning-rate schedule and the curriculum still span `configuration.steps`, as if the run
    /// were interrupted there). Labels, when given, are one per row of `data`.
    /// - Throws: `TrainingError.diverged` naming the step when the loss or the gradient norm is not finite (the weights
    ///   are left as they were before that step and nothing is saved).
    @discardableResult
    public func train(_ data: Tensor<S>, labels: [Int]? = nil, until: Int? = nil) throws -> TrainingReport {
        guard data.rank == 2, data.shape[1] == family.denoiser.dimension, data.shape[0] >= 1 else {
            throw TensorError.invalidShape("training: expected data [n, \(family.denoiser.dimension)], got \(data.shape)")
        }
        let c = configuration
        let g = GenerativeTrainingConfiguration(steps: c.steps, batchSize: c.batchSize, seed: c.seed, progressEvery: c.progressEvery)
        let r: GenerativeTrainingReport
        do {
            r = try GenerativeTrainer.train(model, data: data, labels: labels, configuration: g, firstStep: step, until: until, onStep: { [self] done in
                step = done
                try onStep?(self)
                if let p = c.checkpointPath, c.checkpointEvery > 0, done % c.checkpointEvery == 0, done < c.steps { try save(to: p) }
            }, progress: progress)
        } catch let e as TrainingError {
            let kept = c.checkpointPath.map { FileManager.default.fileExists(atPath: $0) ? "; the last checkpoint (\($0)) was kept" : "; nothing was saved" } ?? ""
            throw e.adding("; stopped before updating the weights" + kept)
        }
        if let p = c.checkpointPath { try save(to: p) }
        return TrainingReport(firstStep: r.firstStep, steps: r.steps, seconds: r.seconds,
                              initialLoss: r.initial("loss") ?? 0, finalLoss: r.final("loss") ?? 0)
    }

    /// Saves the model (raw + EMA weights, AdamW's state, the family's training state, configuration), the scaling
    /// and the step atomically.
    public func save(to path: String) throws {
        try GenerativeModelFile<S>.save(model, scaling: scaling, to: path, step: step, seed: configuration.seed, extra: metadata, overwrite: true)
    }

    /// Puts the EMA weights into the network (for sampling after training).
    public func useEMAWeights() { model.useEMAWeights() }
}

/// What a `Trainer` run did.
public struct TrainingReport: Sendable {
    public var firstStep: Int
    public var steps: Int
    public var seconds: Double
    /// Mean loss over the first and the last 10 % of the steps run.
    public var initialLoss: Double
    public var finalLoss: Double
}
