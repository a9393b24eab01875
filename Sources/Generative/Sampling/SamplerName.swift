import Foundation
import Linear

/// The samplers of the command line, and which family each belongs to.
public enum SamplerName: String, Sendable, CaseIterable {
    case ddpm, ddim
    case eulerMaruyama = "euler-maruyama", pc, pfODE = "pf-ode"
    case euler, heun, rk4, dopri5
    /// Consistency models: one evaluation, f_θ(σ_max·z, σ_max).
    case onestep
    /// Consistency models: Algorithm 1 of Song et al. 2023 over Karras levels (`consistency` is an alias).
    case multistep

    /// Parses a sampler name (`consistency` means `multistep`); an unknown name is an error listing the valid
    /// ones (never a fallback).
    public init(parsing name: String) throws {
        if name.lowercased() == "consistency" { self = .multistep; return }
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
        case .consistency: return [.onestep, .multistep]
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
    /// Class-conditional models: the label of every sample (nil: sample i gets label i mod classCount, so the
    /// classes are balanced). Ignored by unconditional models.
    public var label: Int? = nil
    /// Classifier-free guidance scale w for class-conditional models (0: none).
    public var guidance: Double = 0
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
        if steps == nil, s == .multistep { k = 2 }
        if s == .onestep, k != 1 { throw TensorError.invalidArgument("the onestep sampler takes 1 step; use multistep for \(k)") }
        guard k >= 1 else { throw TensorError.invalidArgument("sampling: the number of steps must be ≥ 1, got \(k)") }
        guard n >= 1, options.batchSize >= 1 else { throw TensorError.invalidArgument("sampling: need n ≥ 1 and batch size ≥ 1") }
        let noise = SeededNoise(seed: seed)
        let classes = family.denoiser.classCount
        if let l = options.label, !(0..<classes).contains(l) {
            throw TensorError.invalidArgument(classes == 0 ? "this model is unconditional; it takes no label" : "label \(l) is outside 0..<\(classes)")
        }
        if options.guidance != 0 && classes == 0 { throw TensorError.invalidArgument("guidance needs a class-conditional model") }
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
                    throw TensorError.invalidArgument("the ddpm sampler takes all \(f.schedule.timesteps) steps; use ddim for \(k)")
                }
                r = try f.sample(m, noise: noise, firstRow: first, labels: labels, recorder: rec)
            case let (f as DDPM<S>, .ddim):
                r = try f.sampleDDIM(m, steps: k, eta: options.eta, spacing: options.spacing, noise: noise, firstRow: first, labels: labels, recorder: rec)
            case let (f as ScoreSDEModel<S>, _):
                let which: ScoreSDESampler = s == .eulerMaruyama ? .eulerMaruyama : s == .pc ? .predictorCorrector : .probabilityFlow
                r = try f.sample(m, sampler: which, steps: k, method: options.odeMethod, noise: noise, firstRow: first, labels: labels, recorder: rec)
            case let (f as FlowMatching<S>, _):
                r = try f.sample(m, method: try ODEMethod(parsing: s.rawValue), steps: k, tolerances: options.tolerances,
                                 noise: noise, firstRow: first, labels: labels, recorder: rec)
            case let (f as ConsistencyModel<S>, _):
                r = try f.sample(m, steps: k, noise: noise, firstRow: first, labels: labels, recorder: rec)
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
