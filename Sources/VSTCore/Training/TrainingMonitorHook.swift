import Foundation
import Generative
import Linear
import Neural
import Substrate

/// `vst train --monitor K` (`TrainingRunOptions.monitor`): joins a model of any family (Generative) to the training
/// monitor (which analyses with Substrate). The trainer's progress callback feeds it every step's loss and, every K
/// steps, the samples of a fixed noise batch drawn as `vst sample` would draw them (EMA weights, evaluation mode); the last
/// point is taken after training ends.
public final class TrainMonitorHook {
    public let monitor: TrainingMonitor
    let model: any GenerativeModel<Float>
    let samples: Int
    let noiseSeed: UInt64
    let samplerSteps: Int?
    /// A failure to write the monitor's files inside the (non-throwing) progress callback, thrown after the step.
    private var pending: Error?

    /// Sampler steps of the monitor's draws: the default sampler, with fewer steps for the slow ones (ddpm's DDIM
    /// 100 → 50, score-sde's Euler–Maruyama 500 → 50), so the monitor costs a fraction of training.
    public static func samplerSteps(_ model: any GenerativeModel<Float>) -> (steps: Int?, description: String) {
        guard let d = model as? DenoisingModel<Float> else { return (nil, "the family's sampler") }
        let fam = d.family.familyName
        let (name, steps) = fam.defaultSampler
        let k: Int
        switch fam {
        case .ddpm: k = 50
        case .scoreSDE: k = 50
        default: k = steps
        }
        return (k, k == steps ? "\(name), \(k) steps (the default)" : "\(name), \(k) steps (vst sample's default is \(steps))")
    }

    /// The held-out reference in model units: a fresh draw of a toy (another seed than training's, 2000 rows), or
    /// for digits and files, which have no held-out split, a seeded subset of up to 2000 training rows.
    public static func reference(source: DataSource, x: Tensor<Float>, scaling: AffineScaling, seed: UInt64) throws -> (Tensor<Double>, String) {
        let heldOutSeed = seed ^ 0x6D6F_6E69_746F_72
        if case .toy = source {
            let h = try source.load(count: 2000, seed: heldOutSeed, as: Float.self)
            let m: Tensor<Float> = try scaling.apply(h.scaling.invert(h.data))
            return (m.cast(), "2000 fresh samples of \(source.description) (held out: seed \(heldOutSeed)), in model units")
        }
        let n = x.shape[0]
        guard n > 2000 else { return (x.cast(), "the \(n) training rows (digits and files have no held-out split), in model units") }
        var g = RandomGenerator(seed: heldOutSeed)
        let rows = try g.choice(n, count: 2000).sorted()
        return (try x.gather(rows: rows).cast(), "2000 of the \(n) training rows (seeded; digits and files have no held-out split), in model units")
    }

    public init(model: any GenerativeModel<Float>, settings: TrainingMonitorSettings, reference: Tensor<Double>, output: String) throws {
        self.model = model
        samples = settings.samples
        noiseSeed = settings.noiseSeed
        samplerSteps = Self.samplerSteps(model).steps
        monitor = try TrainingMonitor(settings: settings, reference: reference)
        monitor.outputs = TrainingMonitor.outputPaths(model: output)
        let html = monitor.outputs!.html
        monitor.onFlag = { f in
            FileHandle.standardError.write(Data("vst: monitor: step \(f.step): \(f.kind.rawValue): \(f.reason) (see \(html))\n".utf8))
        }
    }

    /// What the summary line of vst train adds: the points, the health, the overhead and the files.
    public var summary: String {
        let o = monitor.overhead
        let out = monitor.outputs!
        return String(format: "; monitor: %d points, %@, %.1f s of monitoring for %.1f s of training (%.0f%%); wrote %@ and %@",
                      monitor.points.count, monitor.health.rawValue, o.monitor, o.training, 100 * o.fraction, out.json, out.html)
    }

    /// The progress callback's part: the loss of every step, and a point every K steps before the last.
    public func observe(_ p: TrainingProgress) {
        monitor.observe(loss: p.statistics.first?.1, name: p.statistics.first?.0)
        guard p.step % monitor.settings.every == 0, p.step < p.totalSteps, pending == nil else { return }
        do { try point(p.step, training: true) } catch { pending = error }
    }

    /// Throws a failure of the last point's writing (called after each step).
    public func check() throws {
        if let e = pending { pending = nil; throw e }
    }

    /// The last point, after training (and `finishTraining`) ended.
    public func finish(step: Int) throws {
        try check()
        try point(step, training: false)
    }

    /// Training stopped on a non-finite loss at `step`.
    public func stopped(step: Int, reason: String) {
        try? monitor.stop(step: step, reason: reason)
    }

    private func point(_ step: Int, training: Bool) throws {
        try monitor.record(step: step) { try self.draw(training: training) }
    }

    /// The fixed noise batch's samples, with the weights `vst sample` uses (a denoising model's EMA), in evaluation
    /// mode; the training weights and mode are put back.
    private func draw(training: Bool) throws -> Tensor<Double> {
        model.networks.eval()
        defer { if training { model.networks.train() } }
        var saved: [Tensor<Float>]? = nil
        if let d = model as? DenoisingModel<Float> {
            saved = d.family.denoiser.parameters.map(\.value)
            d.useEMAWeights()
        }
        defer {
            if let s = saved, let d = model as? DenoisingModel<Float> {
                for (p, v) in zip(d.family.denoiser.parameters, s) { p.value = v }
            }
        }
        let r = try model.draw(samples, sampler: nil, steps: samplerSteps, seed: noiseSeed, options: SamplingOptions(), recorder: nil, progress: nil)
        return r.samples.cast()
    }
}

