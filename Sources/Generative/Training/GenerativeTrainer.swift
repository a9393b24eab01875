import Foundation
import Linear
import Neural

/// The settings of `GenerativeTrainer`.
public struct GenerativeTrainingConfiguration: Sendable, Equatable {
    public var steps: Int = 2000
    public var batchSize: Int = 128
    public var seed: UInt64 = 0
    /// Report progress (`TrainingProgress`) every this many steps and after the last (0: never).
    public var progressEvery: Int = 0
    public init(steps: Int = 2000, batchSize: Int = 128, seed: UInt64 = 0, progressEvery: Int = 0) {
        self.steps = steps; self.batchSize = batchSize; self.seed = seed; self.progressEvery = progressEvery
    }
}

/// Where a training run is: what `GenerativeTrainer` hands its progress callback (the command line draws it as
/// `step k/N  loss …  r steps/s  ETA s` on stderr).
public struct TrainingProgress: Sendable {
    /// Steps done (1-based: the step just finished).
    public var step: Int
    /// The run's last step.
    public var totalSteps: Int
    /// The step this run started from (0, or the step of the checkpoint it resumed).
    public var firstStep: Int
    /// The statistics of the step just finished, the headline loss first.
    public var statistics: StepStatistics
    /// Seconds since the run started.
    public var elapsed: Double
    /// Steps per second of this run so far, (step − firstStep) / elapsed.
    public var stepsPerSecond: Double
    /// Estimated seconds left, (totalSteps − step) / stepsPerSecond.
    public var remainingSeconds: Double
}

/// What a training run did: first and last 10 % means of each statistic, and the time taken.
public struct GenerativeTrainingReport: Sendable {
    /// The step the run started from.
    public var firstStep: Int
    /// Steps run.
    public var steps: Int
    public var seconds: Double
    public var initial: StepStatistics
    public var final: StepStatistics
    /// The final mean of a statistic by name.
    public func final(_ name: String) -> Double? { final.first { $0.0 == name }?.1 }
    public func initial(_ name: String) -> Double? { initial.first { $0.0 == name }?.1 }
}

/// The one training loop of every family (`GenerativeModel`). Step k draws its batch (rows with replacement,
/// `batchesPerStep` batches stacked) and every random number of the model's `trainStep` from a generator seeded by
/// (seed, k, the model's `trainingStream`), so a run is reproducible and a run resumed at step k (`firstStep`)
/// takes exactly the updates of an uninterrupted one.
///
/// Divergence: a step whose statistics are not finite, or whose model throws `TrainingError.nonFinite`, stops the
/// run with `TrainingError.diverged` naming the step (1-based) and the number of steps.
public enum GenerativeTrainer {
    /// The generator of step k of a model whose `trainingStream` is `stream`.
    public static func generator(seed: UInt64, step: Int, stream: UInt64 = 0x6E4E_2_0000) -> RandomGenerator {
        RandomGenerator(seed: SeededNoise.mix(SeededNoise.mix(seed ^ stream) ^ UInt64(step)))
    }

    /// Runs `model.trainStep` from step `firstStep` up to `configuration.steps` (or only up to `until`) on `data`
    /// [n, D] in model units. `onStep` is called after every step with the number of steps done (it may save the
    /// model, or throw to stop); `progress` every `configuration.progressEvery` steps and after the last.
    @discardableResult
    public static func train<M: GenerativeModel>(_ model: M, data: Tensor<M.Scalar>, labels: [Int]? = nil,
                                                 configuration c: GenerativeTrainingConfiguration,
                                                 firstStep: Int = 0, until: Int? = nil,
                                                 onStep: ((Int) throws -> Void)? = nil,
                                                 progress: ((TrainingProgress) -> Void)? = nil) throws -> GenerativeTrainingReport {
        guard data.rank == 2, data.shape[0] >= 1 else { throw TensorError.invalidShape("training: expected data [n, D], got \(data.shape)") }
        try ConfigurationError.check("GenerativeTrainingConfiguration", ["batchSize": c.batchSize >= 1, "steps": c.steps >= 0],
                                     reason: "training: need steps ≥ 0 and batch size ≥ 1")
        if let l = labels, l.count != data.shape[0] { throw TensorError.invalidShape("training: \(l.count) labels for \(data.shape[0]) rows") }
        let n = data.shape[0], last = Swift.min(until ?? c.steps, c.steps)
        var history: [StepStatistics] = []
        let start = Date()
        if firstStep == 0 { try model.startTraining(data: data) }
        model.networks.train()
        var step = firstStep
        while step < last {
            var g = generator(seed: c.seed, step: step, stream: model.trainingStream)
            let rows = (0..<(Swift.min(c.batchSize, n) * model.batchesPerStep)).map { _ in g.nextInt(below: n) }
            let x = try data.batch(rows)
            let stats: StepStatistics
            do {
                stats = try model.trainStep(x, labels: labels.map { l in rows.map { l[$0] } }, step: step, using: &g)
            } catch let TrainingError.nonFinite(what) {
                throw TrainingError.diverged(step: step + 1, of: c.steps, reason: what)
            }
            for (k, v) in stats where !v.isFinite {
                throw TrainingError.diverged(step: step + 1, of: c.steps, reason: "\(k) is \(v)")
            }
            history.append(stats)
            step += 1
            try onStep?(step)
            if let report = progress, c.progressEvery > 0, step % c.progressEvery == 0 || step == c.steps {
                let elapsed = Date().timeIntervalSince(start)
                let rate = Double(step - firstStep) / Swift.max(elapsed, 1e-9)
                report(TrainingProgress(step: step, totalSteps: c.steps, firstStep: firstStep, statistics: stats, elapsed: elapsed,
                                        stepsPerSecond: rate, remainingSeconds: Double(c.steps - step) / Swift.max(rate, 1e-9)))
            }
        }
        if step == c.steps { try model.finishTraining(data: data) }
        func mean(_ part: ArraySlice<StepStatistics>) -> StepStatistics {
            guard let first = part.first else { return [] }
            return first.indices.map { i in (first[i].0, part.map { $0[i].1 }.reduce(0, +) / Double(part.count)) }
        }
        let k = Swift.max(1, history.count / 10)
        return GenerativeTrainingReport(firstStep: firstStep, steps: history.count, seconds: Date().timeIntervalSince(start),
                                        initial: mean(history.prefix(k)), final: mean(history.suffix(k)))
    }
}
