import Foundation
import Linear

/// Options of a trajectory analysis.
public struct TrajectoryOptions: Sendable {
    public var thresholds = RegimeThresholds()
    /// Seed of the stability half-splits (the same at every step, so steps are comparable).
    public var seed: UInt64 = 0
    /// TwoNN at every step (O(n²D) each; off by default).
    public var twoNN = false
    /// Interior runs shorter than this many sampler steps are treated as noise and absorbed into the phase that
    /// follows (spec: 2). A recorded step stands for the sampler steps up to the next recorded one, so with a stride
    /// s a single recorded step already spans s steps. The first and the last run are always kept.
    public var minimumPhaseLength = 2
    /// Size of the core fitted on the final step that every step is projected into.
    public var pathCore = 9
    public init() {}
}

/// One recorded step of a trajectory.
public struct TrajectoryStep: Sendable {
    public var t: Int
    public var report: RegimeReport
    /// Principal-angle similarity of the top-c subspaces of steps t and t+1, c = min(k*_t, k*_{t+1}, 9); nil when c = 0
    /// or at the last step.
    public var coreRotation: Double?
    /// Mean over samples of ‖x_{t+1} − x_t‖ (nil at the last step).
    public var stepNorm: Double?
    /// Mean over samples of cos(x_t − x_{t−1}, x_{t+1} − x_t) (nil at the first and last steps).
    public var velocityCoherence: Double?
    /// Mean of the samples' coordinates in the core fitted on the final step.
    public var corePathMean: [Double]

    public var json: JSON {
        .object([
            ("t", .int(t)), ("regime", .string(report.regime.rawValue)),
            ("signal_rank", .int(report.spectrum.signalRank)),
            ("signal_energy", .num(report.spectrum.signalEnergy)),
            ("core_energy_9", .num(report.spectrum.coreEnergy[9])),
            ("participation_ratio", .num(report.spectrum.participationRatio)),
            ("signal_stability", .num(report.signalStability?.mean)),
            ("core_rotation", .num(coreRotation)),
            ("step_norm", .num(stepNorm)),
            ("velocity_coherence", .num(velocityCoherence)),
            ("core_path_mean", .nums(corePathMean)),
            ("reasons", .array(report.reasons.map { .string($0) })),
        ])
    }
}

/// A run of equal regimes.
public struct Phase: Sendable, Equatable {
    public var regime: Regime
    /// First and last sampler step (inclusive).
    public var start: Int
    public var end: Int
    public init(regime: Regime, start: Int, end: Int) { self.regime = regime; self.start = start; self.end = end }
    public var json: JSON { .object([("regime", .string(regime.rawValue)), ("start", .int(start)), ("end", .int(end))]) }
}

/// A change of phase at step `t`.
public struct Transition: Sendable, Equatable {
    public var t: Int
    public var from: Regime
    public var to: Regime
    public init(t: Int, from: Regime, to: Regime) { self.t = t; self.from = from; self.to = to }
    public var json: JSON { .object([("t", .int(t)), ("from", .string(from.rawValue)), ("to", .string(to.rawValue))]) }
}

/// The space-time analysis of a T×n×D trajectory (docs/method.md §5).
public struct TrajectoryReport: Sendable, JSONReportable {
    public var steps: [TrajectoryStep]
    public var phases: [Phase]
    public var transitions: [Transition]
    /// Interior runs shorter than the minimum phase length that were absorbed into the phase after them (sampler steps).
    public var shortRuns: [Phase] = []
    /// Paths of the first few samples in the final step's core, [samples][t][coordinate] (for plots).
    public var samplePaths: [[[Double]]]

    public var json: JSON {
        .object([
            ("steps", .array(steps.map { $0.json })),
            ("phases", .array(phases.map { $0.json })),
            ("transitions", .array(transitions.map { $0.json })),
            ("regime_sequence", .string(phases.map { $0.regime.rawValue }.joined(separator: " → "))),
            ("short_runs", .array(shortRuns.map { $0.json })),
        ])
    }
}

public enum TrajectoryAnalysis {
    /// Analyses a trajectory [T, n, D] held in memory (Float or Double; analysed in Double). Every step is analysed.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public static func analyze<S: BLASScalar>(_ trajectory: Tensor<S>, options o: TrajectoryOptions = TrajectoryOptions(),
                                              progress: ((Int, Int) -> Void)? = nil) throws -> TrajectoryReport {
        guard trajectory.rank == 3 else {
            throw AnalysisError.shape(term: "trajectory", problem: "expected a T×n×D tensor, got shape \(trajectory.shape)")
        }
        try trajectory.checkFinite("trajectory")
        let tCount = trajectory.shape[0]
        return try analyze(steps: Array(0..<tCount), totalSteps: tCount, n: trajectory.shape[1], d: trajectory.shape[2], options: o,
                           progress: progress) { t in
            try trajectory.row(t).cast()
        }
    }

    /// Analyses the recorded sampler steps `steps` (increasing, within 0..<totalSteps) of a trajectory whose step t
    /// [n, D] `read(t)` returns, one step at a time: at most three steps (previous, current, next) and the final
    /// one are held, so a T×n×D file larger than memory can be analysed. Steps, phases and transitions are reported
    /// in sampler steps; `progress(done, steps.count)` after each step.
    public static func analyze(steps: [Int], totalSteps: Int, n: Int, d: Int, options o: TrajectoryOptions = TrajectoryOptions(),
                               progress: ((Int, Int) -> Void)? = nil, read: (Int) throws -> Tensor<Double>) throws -> TrajectoryReport {
        guard !steps.isEmpty, n >= 2, d >= 1 else {
            throw AnalysisError.shape(term: "trajectory", problem: "need T ≥ 1 steps of n ≥ 2 states, got \(steps.count) steps of \(n)×\(d)")
        }
        guard zip(steps, steps.dropFirst()).allSatisfy({ $0 < $1 }), steps[0] >= 0, steps.last! < totalSteps else {
            throw AnalysisError.parameter(term: "trajectory", name: "steps", problem: "recorded steps must increase within 0..<\(totalSteps)")
        }
        let count = steps.count
        func load(_ i: Int) throws -> Tensor<Double> {
            let x = try read(steps[i])
            guard x.shape == [n, d] else { throw AnalysisError.shape(term: "trajectory", problem: "step \(steps[i]) has shape \(x.shape), expected [\(n), \(d)]") }
            return x
        }
        // The final step's core, for paths.
        let final = try load(count - 1)
        let kPath = Swift.min(o.pathCore, d, n - 1)
        var pathOptions = ProjectionOptions(k: Swift.max(1, kPath))
        pathOptions.method = .svd
        let finalProjection = try Projection.fit(final, options: pathOptions)

        func analyse(_ x: Tensor<Double>) throws -> (RegimeReport, Tensor<Double>?) {
            let rep = try Regimes.classify(x, thresholds: o.thresholds, seed: o.seed, twoNN: o.twoNN)
            let c = Swift.min(rep.spectrum.signalRank, 9, Swift.min(n, d))
            return (rep, c > 0 ? try Subspace.topDirections(centered: Spectrum.centered(x).xc, k: c) : nil)
        }

        var steps_: [TrajectoryStep] = []
        var samplePaths = [[[Double]]](repeating: [], count: Swift.min(8, n))
        var prev: Tensor<Double>? = nil
        var cur = count == 1 ? final : try load(0)
        var (curReport, curCore) = try analyse(cur)
        for i in 0..<count {
            var rotation: Double? = nil, stepNorm: Double? = nil, coherence: Double? = nil
            var next: Tensor<Double>? = nil, nextReport: RegimeReport? = nil, nextCore: Tensor<Double>? = nil
            if i + 1 < count {
                let x = i + 1 == count - 1 ? final : try load(i + 1)
                (nextReport, nextCore) = try analyse(x)
                next = x
                let c = Swift.min(curReport.spectrum.signalRank, nextReport!.spectrum.signalRank, 9)
                if c > 0, let a = curCore, let b = nextCore {
                    rotation = try Subspace.similarity(a.slice(0..<c, axis: 1), b.slice(0..<c, axis: 1))
                }
                let delta = try x - cur
                stepNorm = try delta.norm(axis: 1).mean()
                if let prev {
                    coherence = try meanCosine(cur - prev, delta)
                }
            }
            let z = try finalProjection.project(cur)
            let zm = try z.mean(axis: 0).scalars
            for s in 0..<samplePaths.count { samplePaths[s].append(try z.row(s).scalars) }
            steps_.append(TrajectoryStep(t: steps[i], report: curReport, coreRotation: rotation, stepNorm: stepNorm,
                                         velocityCoherence: coherence, corePathMean: zm))
            progress?(i + 1, count)
            if let next, let nextReport {
                prev = cur; cur = next; curReport = nextReport; curCore = nextCore
            }
        }
        let split = phases(steps_.map { $0.report.regime }, steps: steps, totalSteps: totalSteps, minimumLength: o.minimumPhaseLength)
        var report = TrajectoryReport(steps: steps_, phases: split.phases, transitions: split.transitions, samplePaths: samplePaths)
        report.shortRuns = split.shortRuns
        return report
    }

    /// Mean over rows of cos(aᵢ, bᵢ); rows where either vector is zero are skipped (nil if all are).
    static func meanCosine(_ a: Tensor<Double>, _ b: Tensor<Double>) throws -> Double? {
        let dotp = try (a * b).sum(axis: 1).scalars
        let na = try a.norm(axis: 1).scalars, nb = try b.norm(axis: 1).scalars
        var acc = 0.0, m = 0
        for i in 0..<dotp.count where na[i] > 0 && nb[i] > 0 { acc += dotp[i] / (na[i] * nb[i]); m += 1 }
        return m > 0 ? acc / Double(m) : nil
    }

    /// Phases: runs of equal labels after removing runs shorter than `minimumLength` (their steps join the
    /// phase that follows them; the first and last runs are always kept); transitions: where consecutive phases
    /// differ. Every label is one step (`phases(_:steps:totalSteps:minimumLength:)` with steps 0, 1, 2, …).
    public static func phasesAndTransitions(_ labels: [Regime], minimumLength: Int = 2) -> ([Phase], [Transition]) {
        let r = phases(labels, steps: Array(labels.indices), totalSteps: labels.count, minimumLength: minimumLength)
        return (r.phases, r.transitions)
    }

    /// Phases and transitions of labels recorded at sampler steps `steps` (increasing) of a path of `totalSteps`.
    ///
    /// The label at steps[i] stands for sampler steps steps[i]..<steps[i+1] (the last one up to totalSteps − 1), so a
    /// run's length is counted in sampler steps, whatever the stride. Interior runs shorter than `minimumLength`
    /// sampler steps are noise: they join the phase that follows them and are listed in `shortRuns`. The first and
    /// last runs are always kept — a change at either end of the path cannot be told from a later return, and
    /// dropping it would hide a change the per-step table shows. Phases cover 0…totalSteps − 1 (the first starts at
    /// step 0); a transition's t is the first sampler step of the new phase.
    public static func phases(_ labels: [Regime], steps: [Int], totalSteps: Int, minimumLength: Int = 2)
        -> (phases: [Phase], transitions: [Transition], shortRuns: [Phase]) {
        guard !labels.isEmpty, labels.count == steps.count else { return ([], [], []) }
        let last = Swift.max(totalSteps - 1, steps.last!)
        var runs: [Phase] = []
        for (i, r) in labels.enumerated() {
            let end = i + 1 < steps.count ? steps[i + 1] - 1 : last
            if let l = runs.last, l.regime == r { runs[runs.count - 1].end = end } else { runs.append(Phase(regime: r, start: steps[i], end: end)) }
        }
        var kept: [Phase] = [], short: [Phase] = []
        for (i, p) in runs.enumerated() {
            if i == 0 || i == runs.count - 1 || p.end - p.start + 1 >= minimumLength { kept.append(p) } else { short.append(p) }
        }
        // Merge equal neighbours left after removal and stretch phases over the removed steps.
        var merged: [Phase] = []
        for p in kept {
            if let l = merged.last, l.regime == p.regime { merged[merged.count - 1].end = p.end } else { merged.append(p) }
        }
        merged[0].start = 0
        for i in 1..<merged.count { merged[i].start = merged[i - 1].end + 1 }
        merged[merged.count - 1].end = last
        let transitions = (1..<Swift.max(1, merged.count)).compactMap { i -> Transition? in
            merged.count > i ? Transition(t: merged[i].start, from: merged[i - 1].regime, to: merged[i].regime) : nil
        }
        return (merged, transitions, short)
    }
}
