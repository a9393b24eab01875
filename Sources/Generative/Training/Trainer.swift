import Foundation
import Linear
import Neural

/// The settings of `Trainer` (defaults suit the 2-D toys and the digits with a small MLP denoiser).
public struct TrainingConfiguration: Sendable, Equatable {
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
    /// Print a progress line to stderr every this many steps (0: never).
    public var logEvery: Int = 0
    /// Save a checkpoint every this many steps to `checkpointPath` (0: only at the end, when a path is given).
    public var checkpointEvery: Int = 0
    public var checkpointPath: String? = nil

    public init(steps: Int = 2000, batchSize: Int = 256, learningRate: Double = 2e-3, seed: UInt64 = 0) {
        self.steps = steps; self.batchSize = batchSize; self.learningRate = learningRate; self.seed = seed
    }
}

/// What a training run did.
public struct TrainingReport: Sendable {
    public var firstStep: Int
    public var steps: Int
    public var seconds: Double
    /// Mean loss over the first and the last 10 % of the steps run.
    public var initialLoss: Double
    public var finalLoss: Double
}

/// The family-independent training loop: AdamW with warm-up + cosine LR, gradient clipping, EMA of the weights,
/// progress on stderr (step, loss, steps/s, ETA), atomic checkpoints (`GenerativeModelFile`) and resumption.
///
/// Determinism: the batch of step k and every random draw of its loss come from a generator seeded by
/// (seed, k), and checkpoints hold the raw and EMA weights, AdamW's moments and step counts, and the family's
/// training state (`TrainableFamily.trainingState`), so a run resumed at step k takes exactly the updates of an
/// uninterrupted run, bit for bit.
///
/// Divergence: a step whose loss or gradient norm is not finite stops the run with an error naming the step,
/// before the update touches the weights; nothing is saved then, so the last good checkpoint stays on disk.
public final class Trainer<S: BLASScalar> {
    public let family: any TrainableFamily<S>
    public let configuration: TrainingConfiguration
    /// The network's configuration, written into checkpoints so they can be rebuilt.
    public let denoiserConfiguration: DenoiserConfiguration
    public let scaling: AffineScaling
    public let optimizer: AdamW<S>
    /// The EMA of the weights, e ← d·e + (1 − d)·p with d = min(decay, (1 + u)/(10 + u)) after update u (the rule of
    /// Neural's `ExponentialMovingAverage` with warm-up; kept here with its update count so a resume is exact).
    public private(set) var emaWeights: [Tensor<S>]
    public private(set) var emaUpdates = 0
    public private(set) var step = 0
    /// Extra metadata written into checkpoints (e.g. the data's name).
    public var metadata: [String: String] = [:]
    /// Called after every optimisation step (with `step` already advanced), e.g. to keep a mid-training
    /// snapshot of `emaWeights`; an error it throws stops training.
    public var onStep: ((Trainer<S>) throws -> Void)?

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
        else { throw TensorError.invalidArgument("training: give the denoiser configuration of a network that is neither an MLPDenoiser nor a DiT") }
        try self.init(family: family, denoiser: dc, scaling: scaling, configuration: configuration)
    }

    /// A trainer of `family`, whose network has configuration `denoiser` (recorded in checkpoints).
    public init(family: any TrainableFamily<S>, denoiser denoiserConfiguration: DenoiserConfiguration, scaling: AffineScaling = .identity,
                configuration: TrainingConfiguration) throws {
        guard configuration.steps >= 0, configuration.batchSize >= 1, configuration.learningRate > 0, configuration.learningRate.isFinite else {
            throw TensorError.invalidArgument("training: need steps ≥ 0, batch size ≥ 1 and a positive learning rate")
        }
        guard configuration.emaDecay.isFinite, (0...1).contains(configuration.emaDecay) else {
            throw TensorError.invalidArgument("training: the EMA decay must be a number in [0, 1], got \(configuration.emaDecay)")
        }
        guard denoiserConfiguration.dimension == family.denoiser.dimension else {
            throw TensorError.invalidArgument("training: the denoiser configuration is \(denoiserConfiguration.dimension)-dimensional, the network \(family.denoiser.dimension)-dimensional")
        }
        self.family = family
        self.configuration = configuration
        self.denoiserConfiguration = denoiserConfiguration
        self.scaling = scaling
        optimizer = AdamW(parameters: family.denoiser.parameters, learningRate: configuration.learningRate, weightDecay: configuration.weightDecay)
        emaWeights = family.denoiser.parameters.map(\.value)
    }

    /// Continues from a checkpoint written by this trainer: raw and EMA weights, AdamW's moments (when the file
    /// has them), the family's training state and the step (and so the RNG state).
    public func resume(from path: String) throws {
        let file = try GenerativeModelFile<S>.load(path)
        guard file.family.familyName == family.familyName else {
            throw TensorError.invalidArgument("\(path): a \(file.family.familyName.rawValue) checkpoint cannot resume a \(family.familyName.rawValue) run")
        }
        try family.denoiser.loadStateDict(file.family.denoiser.stateDict())
        let names = family.denoiser.namedParameters().map(\.name)
        if let e = file.emaWeights {
            emaWeights = try names.map { n in
                guard let t = e[n] else { throw TensorError.invalidArgument("\(path): EMA weight '\(n)' is missing") }
                return t
            }
            emaUpdates = file.emaUpdates
        } else {
            emaWeights = family.denoiser.parameters.map(\.value)
            emaUpdates = 0
        }
        if let o = file.optimizerState { try optimizer.load(state: o) }
        try family.loadTrainingState(file.trainingState)
        step = file.step
    }

    func updateEMA() {
        let d = Swift.min(configuration.emaDecay, Double(1 + emaUpdates) / Double(10 + emaUpdates))
        for (i, p) in optimizer.parameters.enumerated() {   // the denoiser's parameters, listed once at init
            var e = emaWeights[i]
            emaWeights[i] = Tensor(scalar: 0)
            e *= S(d)
            try! e.addScaled(p.value, S(1 - d))
            emaWeights[i] = e
        }
        emaUpdates += 1
    }

    /// The generator of step k.
    public static func generator(seed: UInt64, step: Int) -> RandomGenerator {
        RandomGenerator(seed: SeededNoise.mix(SeededNoise.mix(seed ^ 0x7EA1_1E55) ^ UInt64(step)))
    }

    /// Trains on `data` [n, D] (model units) from the current step up to `configuration.steps`, or only up to
    /// step `until` (the learning-rate schedule and the curriculum still span `configuration.steps`, as if the run
    /// were interrupted there). Labels, when given, are one per row of `data`.
    /// - Throws: `TensorError.invalidArgument` naming the step when the loss or the gradient norm is not finite
    ///   (the weights are left as they were before that step and nothing is saved).
    @discardableResult
    public func train(_ data: Tensor<S>, labels: [Int]? = nil, until: Int? = nil) throws -> TrainingReport {
        guard data.rank == 2, data.shape[1] == family.denoiser.dimension, data.shape[0] >= 1 else {
            throw TensorError.invalidShape("training: expected data [n, \(family.denoiser.dimension)], got \(data.shape)")
        }
        let c = configuration
        let schedule = LearningRateSchedule.cosine(peak: c.learningRate, totalSteps: c.steps, warmupSteps: Swift.min(c.warmupSteps, c.steps / 2),
                                                   minimum: c.minimumLearningRate)
        let n = data.shape[0], first = step, last = Swift.min(until ?? c.steps, c.steps), total = Swift.max(0, last - first)
        if let l = labels, l.count != n { throw TensorError.invalidArgument("training: \(l.count) labels for \(n) rows") }
        var losses: [Double] = []
        let start = Date()
        family.denoiser.train()
        while step < last {
            var g = Trainer.generator(seed: c.seed, step: step)
            let rows = (0..<Swift.min(c.batchSize, n)).map { _ in g.nextInt(below: n) }
            let x = try data.batch(rows)
            optimizer.learningRate = schedule.learningRate(at: step)
            var batchLabels = labels.map { l in rows.map { l[$0] } }
            if c.labelDropout > 0, var bl = batchLabels {
                for i in bl.indices where g.nextUniform() < c.labelDropout { bl[i] = family.denoiser.classCount }
                batchLabels = bl
            }
            try family.willTrain(step: step, of: c.steps)
            let loss = try family.loss(x0: x, labels: batchLabels, using: &g)
            let l = Double(loss.scalar)
            guard l.isFinite else { throw diverged("the loss is \(l)") }
            optimizer.zeroGrad()
            try loss.backward()
            let norm = clipGradientNorm(optimizer.parameters, maxNorm: c.clipNorm ?? .infinity)
            guard norm.isFinite else { optimizer.zeroGrad(); throw diverged("the gradient norm is \(norm) (loss \(l))") }
            try optimizer.step()
            updateEMA()
            try family.didTrain(step: step, of: c.steps)
            losses.append(l)
            step += 1
            try onStep?(self)
            if c.logEvery > 0 && (step % c.logEvery == 0 || step == c.steps) {
                let elapsed = Date().timeIntervalSince(start), done = step - first
                let rate = Double(done) / Swift.max(elapsed, 1e-9)
                let eta = Double(c.steps - step) / Swift.max(rate, 1e-9)
                FileHandle.standardError.write(Data(String(format: "step %d/%d  loss %.5f  %.1f steps/s  ETA %.0f s\n", step, c.steps, l, rate, eta).utf8))
            }
            if let p = c.checkpointPath, c.checkpointEvery > 0, step % c.checkpointEvery == 0, step < c.steps {
                try save(to: p)
            }
        }
        if let p = c.checkpointPath { try save(to: p) }
        let k = Swift.max(1, losses.count / 10)
        return TrainingReport(firstStep: first, steps: total, seconds: Date().timeIntervalSince(start),
                              initialLoss: losses.prefix(k).reduce(0, +) / Double(Swift.max(1, Swift.min(k, losses.count))),
                              finalLoss: losses.suffix(k).reduce(0, +) / Double(Swift.max(1, Swift.min(k, losses.count))))
    }

    /// The error of a diverged step (1-based in messages, like the progress lines).
    func diverged(_ what: String) -> TensorError {
        let kept = configuration.checkpointPath.map { FileManager.default.fileExists(atPath: $0) ? "; the last checkpoint (\($0)) was kept" : "; nothing was saved" } ?? ""
        return TensorError.invalidArgument("training diverged at step \(step + 1) of \(configuration.steps): \(what); stopped before updating the weights\(kept)")
    }

    /// Saves raw + EMA weights, AdamW's state, the family's training state, configuration, scaling and step atomically.
    public func save(to path: String) throws {
        try GenerativeModelFile<S>.save(to: path, family: family, denoiser: denoiserConfiguration, scaling: scaling,
                                        ema: emaWeights, step: step, seed: configuration.seed, emaUpdates: emaUpdates,
                                        optimizer: optimizer.state, extra: metadata)
    }

    /// Puts the EMA weights into the network (for sampling after training).
    public func useEMAWeights() {
        for (p, e) in zip(family.denoiser.parameters, emaWeights) { p.value = e }
    }
}
