import Foundation
import Linear

/// The samplers of the command line, and which family each belongs to.
public enum SamplerName: String, Sendable, CaseIterable {
    case ddpm, ddim
    case eulerMaruyama = "euler-maruyama", pc, pfODE = "pf-ode"
    case euler, heun, rk4, dopri5

    /// Parses a sampler name; an unknown name is an error listing the valid ones (never a fallback).
    public init(parsing name: String) throws {
        guard let s = SamplerName(rawValue: name.lowercased()) else {
            throw TensorError.invalidArgument("unknown sampler '\(name)': expected one of \(SamplerName.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self = s
    }

    /// The samplers a family's model can use.
    public static func valid(for family: FamilyName) -> [SamplerName] {
        switch family {
        case .ddpm: return [.ddpm, .ddim]
        case .scoreSDE: return [.eulerMaruyama, .pc, .pfODE]
        case .flowMatching: return [.euler, .heun, .rk4, .dopri5]
        }
    }
}

/// Options of `GenerativeModelFile.sample` beyond the sampler and the step count.
public struct SamplingOptions: Sendable {
    /// DDIM η (0: deterministic).
    public var eta: Double = 0
    public var spacing: TimestepSpacing = .leading
    /// The ODE solver of the probability-flow sampler.
    public var odeMethod: ODEMethod = .rk4
    public var tolerances: DormandPrince = DormandPrince()
    /// Samples per batch (rows keep their noise whatever the batching; only dopri5, whose error control looks at
    /// the whole batch, and pc, whose Langevin step size uses batch means, depend on the batch size).
    public var batchSize: Int = 4096
    public init() {}
}

extension GenerativeModelFile {
    /// Draws `n` samples with `sampler` in `steps` steps (nil: the family's default count) and returns them in the
    /// data's original units (the stored scaling inverted). The recorder, if any, sees the first batch in model units.
    public func sample(_ n: Int, sampler: SamplerName? = nil, steps: Int? = nil, seed: UInt64, options: SamplingOptions = SamplingOptions(),
                       recorder: TrajectoryRecorder<S>? = nil, progress: ((Int, Int) -> Void)? = nil) throws -> SamplingResult<S> {
        let fam = family.familyName
        let s = try sampler ?? SamplerName(parsing: fam.defaultSampler.name)
        guard SamplerName.valid(for: fam).contains(s) else {
            throw TensorError.invalidArgument("sampler '\(s.rawValue)' does not apply to a \(fam.rawValue) model: use one of \(SamplerName.valid(for: fam).map(\.rawValue).joined(separator: ", "))")
        }
        var k = steps ?? fam.defaultSampler.steps
        if steps == nil, let m = family as? DDPM<S> { k = s == .ddpm ? m.schedule.timesteps : Swift.min(k, m.schedule.timesteps) }
        guard k >= 1 else { throw TensorError.invalidArgument("sampling: the number of steps must be ≥ 1, got \(k)") }
        guard n >= 1, options.batchSize >= 1 else { throw TensorError.invalidArgument("sampling: need n ≥ 1 and batch size ≥ 1") }
        let noise = SeededNoise(seed: seed)
        var parts: [Tensor<S>] = []
        var evaluations = 0, stepsTaken = 0
        var first = 0
        while first < n {
            let m = Swift.min(options.batchSize, n - first)
            let rec = first == 0 ? recorder : nil
            let r: SamplingResult<S>
            switch (family, s) {
            case let (f as DDPM<S>, .ddpm):
                guard k == f.schedule.timesteps else {
                    throw TensorError.invalidArgument("the ddpm sampler takes all \(f.schedule.timesteps) steps; use ddim for \(k)")
                }
                r = try f.sample(m, noise: noise, firstRow: first, recorder: rec)
            case let (f as DDPM<S>, .ddim):
                r = try f.sampleDDIM(m, steps: k, eta: options.eta, spacing: options.spacing, noise: noise, firstRow: first, recorder: rec)
            case let (f as ScoreSDEModel<S>, _):
                let which: ScoreSDESampler = s == .eulerMaruyama ? .eulerMaruyama : s == .pc ? .predictorCorrector : .probabilityFlow
                r = try f.sample(m, sampler: which, steps: k, method: options.odeMethod, noise: noise, firstRow: first, recorder: rec)
            case let (f as FlowMatching<S>, _):
                r = try f.sample(m, method: try ODEMethod(parsing: s.rawValue), steps: k, tolerances: options.tolerances,
                                 noise: noise, firstRow: first, recorder: rec)
            default:
                throw TensorError.invalidArgument("sampler '\(s.rawValue)' does not apply to this model")
            }
            parts.append(r.samples)
            evaluations += r.evaluations
            stepsTaken = r.steps
            first += m
            progress?(first, n)
        }
        let all = parts.count == 1 ? parts[0] : try Tensor.concatenate(parts, axis: 0)
        return SamplingResult(samples: try scaling.invert(all), evaluations: evaluations, steps: stepsTaken)
    }
}
