import Foundation
import Linear

/// Options of a trajectory analysis.
public struct TrajectoryOptions: Sendable {
    public var thresholds = RegimeThresholds()
    /// Seed of the stability half-splits (the same at every step, so steps are comparable).
    public var seed: UInt64 = 0
    /// TwoNN at every step (O(n²D) each; off by default).
    public var twoNN = false
    /// Phases shorter than this many steps are treated as noise and removed (spec: 2).
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
    /// First and last step (inclusive).
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

/// The space-time analysis of a T×n×D trajectory (spec §5).
public struct TrajectoryReport: Sendable, JSONReportable {
    public var steps: [TrajectoryStep]
    public var phases: [Phase]
    public var transitions: [Transition]
    /// Paths of the first few samples in the final step's core, [samples][t][coordinate] (for plots).
    public var samplePaths: [[[Double]]]

    public var json: JSON {
        .object([
            ("steps", .array(steps.map { $0.json })),
            ("phases", .array(phases.map { $0.json })),
            ("transitions", .array(transitions.map { $0.json })),
            ("regime_sequence", .string(phases.map { $0.regime.rawValue }.joined(separator: " → "))),
        ])
    }
}

public enum TrajectoryAnalysis {
    /// Analyses a trajectory [T, n, D] (Float or Double; analysed in Double).
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public static func analyze<S: BLASScalar>(_ trajectory: Tensor<S>, options o: TrajectoryOptions = TrajectoryOptions(),
                                              progress: ((Int, Int) -> Void)? = nil) throws -> TrajectoryReport {
        guard trajectory.rank == 3 else {
            throw TensorError.invalidShape("trajectory: expected a T×n×D tensor, got shape \(trajectory.shape)")
        }
        let tCount = trajectory.shape[0], n = trajectory.shape[1], d = trajectory.shape[2]
        guard tCount >= 1, n >= 2, d >= 1 else {
            throw TensorError.invalidShape("trajectory: need T ≥ 1 steps of n ≥ 2 states, got shape \(trajectory.shape)")
        }
        let traj: Tensor<Double> = trajectory.cast()
        try traj.checkFinite("trajectory")
        let states = try (0..<tCount).map { try traj.row($0) }

        var reports: [RegimeReport] = []
        var cores: [Tensor<Double>?] = []
        for t in 0..<tCount {
            let rep = try Regimes.classify(states[t], thresholds: o.thresholds, seed: o.seed, twoNN: o.twoNN)
            reports.append(rep)
            let c = Swift.min(rep.spectrum.signalRank, 9, Swift.min(n, d))
            cores.append(c > 0 ? try Subspace.topDirections(centered: Spectrum.centered(states[t]).xc, k: c) : nil)
            progress?(t + 1, tCount)
        }

        // The final step's core, for paths.
        let kPath = Swift.min(o.pathCore, d, n - 1)
        var pathOptions = ProjectionOptions(k: Swift.max(1, kPath))
        pathOptions.method = .svd
        let finalProjection = try Projection.fit(states[tCount - 1], options: pathOptions)

        var steps: [TrajectoryStep] = []
        var samplePaths = [[[Double]]](repeating: [], count: Swift.min(8, n))
        for t in 0..<tCount {
            var rotation: Double? = nil, stepNorm: Double? = nil, coherence: Double? = nil
            if t + 1 < tCount {
                let c = Swift.min(reports[t].spectrum.signalRank, reports[t + 1].spectrum.signalRank, 9)
                if c > 0, let a = cores[t], let b = cores[t + 1] {
                    rotation = try Subspace.similarity(a.slice(0..<c, axis: 1), b.slice(0..<c, axis: 1))
                }
                let delta = try states[t + 1] - states[t]
                stepNorm = try delta.norm(axis: 1).mean()
                if t > 0 {
                    let prev = try states[t] - states[t - 1]
                    coherence = try meanCosine(prev, delta)
                }
            }
            let z = try finalProjection.project(states[t])
            let zm = try z.mean(axis: 0).scalars
            for i in 0..<samplePaths.count { samplePaths[i].append(try z.row(i).scalars) }
            steps.append(TrajectoryStep(t: t, report: reports[t], coreRotation: rotation, stepNorm: stepNorm,
                                        velocityCoherence: coherence, corePathMean: zm))
        }
        let (phases, transitions) = phasesAndTransitions(reports.map { $0.regime }, minimumLength: o.minimumPhaseLength)
        return TrajectoryReport(steps: steps, phases: phases, transitions: transitions, samplePaths: samplePaths)
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
    /// phase that follows them; trailing ones join the last phase); transitions: where consecutive phases differ.
    public static func phasesAndTransitions(_ labels: [Regime], minimumLength: Int = 2) -> ([Phase], [Transition]) {
        guard !labels.isEmpty else { return ([], []) }
        var runs: [Phase] = []
        for (t, r) in labels.enumerated() {
            if let last = runs.last, last.regime == r { runs[runs.count - 1].end = t } else { runs.append(Phase(regime: r, start: t, end: t)) }
        }
        var kept = runs.filter { $0.end - $0.start + 1 >= minimumLength }
        if kept.isEmpty { kept = [runs.max { ($0.end - $0.start) < ($1.end - $1.start) }!] }
        // Merge equal neighbours left after removal and stretch phases over the removed steps.
        var merged: [Phase] = []
        for p in kept {
            if let last = merged.last, last.regime == p.regime { merged[merged.count - 1].end = p.end } else { merged.append(p) }
        }
        merged[0].start = 0
        for i in 1..<merged.count { merged[i].start = merged[i - 1].end + 1 }
        merged[merged.count - 1].end = labels.count - 1
        let transitions = (1..<Swift.max(1, merged.count)).compactMap { i -> Transition? in
            merged.count > i ? Transition(t: merged[i].start, from: merged[i - 1].regime, to: merged[i].regime) : nil
        }
        return (merged, transitions)
    }
}
